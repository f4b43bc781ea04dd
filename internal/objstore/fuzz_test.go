package objstore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseError(f *testing.F) {
	f.Add(404, []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message><Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>`))
	f.Add(200, []byte(`<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`))
	f.Add(502, []byte("<html><body>Bad gateway</body></html>"))
	f.Add(500, []byte("<Error><Code>\xff\x00</Code><Message><![CDATA[x]]></Message></Error>"))
	f.Add(403, []byte("<Error><Code>&amp;&lt;&#x1F600;</Code></Error>"))
	f.Add(400, []byte(""))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := ParseError(status, body)
		text := e.Error()
		if !utf8.ValidString(text) || strings.ContainsAny(text, "\n\r\x00\x1b") {
			t.Fatalf("error text is not one clean line: %q", text)
		}
		if len(e.Code) > 500 || len(e.Message) > 1500 || len(e.RequestID) > 500 {
			t.Fatalf("unbounded fields: %d %d %d", len(e.Code), len(e.Message), len(e.RequestID))
		}
		_ = e.Temporary()
		_ = isErrorDocument(body)
	})
}

func FuzzCanonicalQuery(f *testing.F) {
	f.Add("uploads")
	f.Add("partNumber=3&uploadId=abc%2Bdef")
	f.Add("prefix=J&max-keys=2")
	f.Add("a=%zz&b=+&&=&c")
	f.Fuzz(func(t *testing.T, raw string) {
		q := canonicalQuery(raw)
		// The canonical form is its own canonical form: encoding is done once.
		if again := canonicalQuery(q); again != q {
			t.Fatalf("canonicalQuery(%q) = %q, then %q", raw, q, again)
		}
		for i := 0; i < len(q); i++ {
			if c := q[i]; !unreserved(c) && c != '%' && c != '=' && c != '&' {
				t.Fatalf("unencoded byte %q in %q", c, q)
			}
		}
	})
}

func FuzzParseEndpoint(f *testing.F) {
	f.Add("https://s3.us-east-1.amazonaws.com")
	f.Add("http://127.0.0.1:9000")
	f.Add("http://[::1]:80/")
	f.Add("https://u:p@h/x?y#z")
	f.Fuzz(func(t *testing.T, endpoint string) {
		u, err := ParseEndpoint(endpoint)
		if err != nil {
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.User != nil {
			t.Fatalf("ParseEndpoint(%q) accepted %#v", endpoint, u)
		}
		if _, err := New(Config{Endpoint: endpoint, Bucket: "b", PathStyle: true}); err != nil {
			t.Fatalf("New refused an endpoint ParseEndpoint took: %v", err)
		}
	})
}
