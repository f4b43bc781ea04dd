package httpx

import (
	"net/http"
	"regexp"
	"strings"
)

// CORS adds SRS's cross-domain headers when enabled and the request has an
// Origin, and answers OPTIONS: 200 with an empty body when enabled, 405 when not.
func CORS(enabled bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if enabled && r.Header.Get("Origin") != "" {
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", "*")
			hd.Set("Access-Control-Allow-Headers", "*")
			hd.Set("Access-Control-Allow-Methods", "*")
			hd.Set("Access-Control-Expose-Headers", "*")
			hd.Set("Access-Control-Allow-Credentials", "false")
			hd.Set("Access-Control-Request-Private-Network", "true")
		}
		if r.Method == http.MethodOptions {
			if enabled {
				w.WriteHeader(http.StatusOK)
			} else {
				MethodNotAllowed(w)
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}

// MethodNotAllowed writes a plain-text 405.
func MethodNotAllowed(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusMethodNotAllowed)
	_, _ = w.Write([]byte("Method Not Allowed"))
}

// ServerHeader sets the Server header on every response.
func ServerHeader(value string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", value)
		h.ServeHTTP(w, r)
	})
}

var callbackName = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)

// JSONP lets browsers call the API with ?callback=fn: the callback name is
// checked, and ?method=GET|PUT|POST|DELETE overrides the HTTP method, as SRS
// does for JSONP requests.
func JSONP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		cb := q.Get("callback")
		if cb == "" {
			h.ServeHTTP(w, r)
			return
		}
		if !callbackName.MatchString(cb) {
			http.Error(w, "invalid JSONP callback name", http.StatusBadRequest)
			return
		}
		if m := strings.ToUpper(q.Get("method")); m != "" {
			switch m {
			case http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete:
				r2 := r.Clone(r.Context())
				r2.Method = m
				r = r2
			default:
				http.Error(w, "invalid JSONP method", http.StatusBadRequest)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
