package hooks

import (
	"strings"
	"testing"
)

// FuzzParseForwardURLs feeds the forward backend's answer parser arbitrary
// bodies: it must return URLs or an error, never panic, and never return
// an empty URL.
func FuzzParseForwardURLs(f *testing.F) {
	for _, s := range []string{
		`{"code":0,"data":{"urls":["rtmp://127.0.0.1:19350/test/teststream?auth_token=123456"]}}`,
		`{"code":0,"data":{"urls":[]}}`,
		`{"code":0,"data":{"urls":["",1,null,{"a":1},"rtmp://a/b/c"]}}`,
		`{"code":0,"data":{"urls":"rtmp://a/b/c"}}`,
		`{"code":0,"data":null}`,
		`{"code":0}`,
		`0`,
		`{"code":0,"data":{"urls":["rtmp://a/b/c"]`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		urls, err := parseForwardURLs(OnForward, "http://backend/", "abcd1234", []byte(`{}`), body)
		if err != nil {
			if urls != nil {
				t.Fatalf("urls %q with error %v", urls, err)
			}
			if !strings.Contains(err.Error(), "on_forward") {
				t.Fatalf("error does not name the hook: %v", err)
			}
			return
		}
		for _, u := range urls {
			if u == "" {
				t.Fatalf("empty url in %q", urls)
			}
		}
	})
}
