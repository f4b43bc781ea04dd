package httpx

import (
	"net/http/httptest"
	"testing"
)

func TestBasicAuth(t *testing.T) {
	h := BasicAuth(true, "admin", "s3cret", named("ok"))
	cases := []struct {
		name, path, user, pass string
		setAuth                bool
		header                 string // raw Authorization, when set
		code                   int
	}{
		{"right credentials", "/api/v1/versions", "admin", "s3cret", true, "", 200},
		{"wrong password", "/api/v1/versions", "admin", "nope", true, "", 401},
		{"wrong user", "/api/v1/streams/", "root", "s3cret", true, "", 401},
		{"password prefix", "/api/v1/streams/", "admin", "s3cre", true, "", 401},
		{"no credentials", "/api/v1/versions", "", "", false, "", 401},
		{"not basic", "/api/v1/versions", "", "", false, "Bearer abc", 401},
		{"bad base64", "/api/v1/versions", "", "", false, "Basic !!!", 401},
		{"api root", "/api/", "", "", false, "", 401},
		{"api anywhere in the path", "/x/api/y", "", "", false, "", 401},
		{"live stream", "/live/livestream.flv", "", "", false, "", 200},
		{"rtc signalling", "/rtc/v1/play/", "", "", false, "", 200},
		{"bare api", "/api", "", "", false, "", 200}, // SRS matches "/api/" only
		{"metrics", "/metrics", "", "", false, "", 200},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", c.path, nil)
		if c.setAuth {
			req.SetBasicAuth(c.user, c.pass)
		}
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%s: %s answered %d, want %d", c.name, c.path, rec.Code, c.code)
			continue
		}
		challenge := rec.Header().Get("WWW-Authenticate")
		if c.code == 401 && challenge != `Basic realm="castd"` {
			t.Errorf("%s: WWW-Authenticate %q", c.name, challenge)
		}
		if c.code == 200 && (challenge != "" || rec.Body.String() != "ok") {
			t.Errorf("%s: passed request got %q %q", c.name, challenge, rec.Body.String())
		}
	}
	// Disabled: nothing is checked.
	rec := httptest.NewRecorder()
	BasicAuth(false, "admin", "s3cret", named("ok")).ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/versions", nil))
	if rec.Code != 200 {
		t.Errorf("disabled auth answered %d", rec.Code)
	}
}

func TestRequireBasicAuthCoversEveryPath(t *testing.T) {
	h := RequireBasicAuth("admin", "s3cret", named("ok"))
	for _, path := range []string{"/console/", "/console/app.js", "/live/livestream.flv", "/"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Basic realm="castd"` {
			t.Errorf("%s without credentials: %d %q", path, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
		req := httptest.NewRequest("GET", path, nil)
		req.SetBasicAuth("admin", "s3cret")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Body.String() != "ok" {
			t.Errorf("%s with credentials: %d %q", path, rec.Code, rec.Body.String())
		}
	}
}
