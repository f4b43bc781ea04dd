package httpx

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// BasicAuth is SRS's http_api.auth: when enabled, every request whose path
// contains "/api/" needs "Authorization: Basic base64(user:pass)", or gets
// 401 with WWW-Authenticate. Other paths (live streams, static files,
// /rtc/ signalling) pass untouched, as in SRS.
func BasicAuth(enabled bool, username, password string, h http.Handler) http.Handler {
	if !enabled {
		return h
	}
	guarded := RequireBasicAuth(username, password, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "/api/") {
			h.ServeHTTP(w, r)
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

// RequireBasicAuth checks the credentials of every request, whatever its
// path (castd's console uses it so the page is as private as the API it
// reads). The realm is BasicAuth's, so a browser that logged in once sends
// the same credentials to both.
func RequireBasicAuth(username, password string, h http.Handler) http.Handler {
	// Compare digests so the time taken says nothing about the secret's
	// length or its first differing byte.
	wantUser, wantPass := sha256.Sum256([]byte(username)), sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		gotUser, gotPass := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
		userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:]) == 1
		passOK := subtle.ConstantTimeCompare(gotPass[:], wantPass[:]) == 1
		if !ok || !userOK || !passOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="castd"`)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("Unauthorized"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
