// Package httpx holds the HTTP plumbing SRS clients expect: a mux with SRS's
// matching rules, CORS, JSON and JSONP replies, and a chunked stream writer
// for live HTTP-FLV/TS that writes with writev on the raw connection.
package httpx

import (
	"net"
	"net/http"
	"strings"
	"sync"
)

// Mux routes as SRS's SrsHttpServeMux does:
//   - a pattern not ending in "/" matches that path exactly;
//   - a pattern ending in "/" matches every path below it, longest first;
//   - registering "/x/" also answers "/x" with a 302 to "/x/" (Go's mux uses 301);
//   - a pattern may start with a host ("example.com/live/"), which wins when
//     the request's host matches;
//   - paths containing ".." are refused.
//
// Handlers can be added and removed at any time (live streams mount on publish).
type Mux struct {
	mu       sync.RWMutex
	exact    map[string]http.Handler
	prefix   map[string]http.Handler
	explicit map[string]bool // exact patterns registered by Handle, not implicit redirects
	NotFound http.Handler    // nil: 404 "Not Found" as text/plain
}

// NewMux returns an empty mux.
func NewMux() *Mux {
	return &Mux{exact: map[string]http.Handler{}, prefix: map[string]http.Handler{}, explicit: map[string]bool{}}
}

// Handle registers h for pattern, replacing any previous handler.
func (m *Mux) Handle(pattern string, h http.Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if strings.HasSuffix(pattern, "/") {
		m.prefix[pattern] = h
		bare := strings.TrimSuffix(pattern, "/")
		if bare != "" && !m.explicit[bare] && !strings.HasSuffix(bare, "/") {
			m.exact[bare] = redirectSlash{}
		}
		return
	}
	m.exact[pattern] = h
	m.explicit[pattern] = true
}

// HandleFunc registers a function.
func (m *Mux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(f))
}

// Unhandle removes pattern (and its implicit redirect).
func (m *Mux) Unhandle(pattern string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if strings.HasSuffix(pattern, "/") {
		delete(m.prefix, pattern)
		bare := strings.TrimSuffix(pattern, "/")
		if _, ok := m.exact[bare].(redirectSlash); ok {
			delete(m.exact, bare)
		}
		return
	}
	delete(m.exact, pattern)
	delete(m.explicit, pattern)
}

// Handler returns the handler for host and path and the pattern it matched,
// or nil and "".
func (m *Mux) Handler(host, path string) (http.Handler, string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if host != "" {
		if h, p := m.matchLocked(host + path); h != nil {
			return h, p
		}
	}
	return m.matchLocked(path)
}

func (m *Mux) matchLocked(path string) (http.Handler, string) {
	if h, ok := m.exact[path]; ok {
		return h, path
	}
	// Longest prefix first: the path's own directory, then each parent.
	for i := len(path); i > 0; {
		if i = strings.LastIndexByte(path[:i], '/'); i < 0 {
			break
		}
		if h, ok := m.prefix[path[:i+1]]; ok {
			return h, path[:i+1]
		}
	}
	return nil, ""
}

// ServeHTTP dispatches the request.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "..") {
		http.Error(w, "Bad Request: path contains ..", http.StatusBadRequest)
		return
	}
	h, _ := m.Handler(HostOnly(r.Host), r.URL.Path)
	if h == nil {
		if m.NotFound != nil {
			m.NotFound.ServeHTTP(w, r)
			return
		}
		NotFound(w)
		return
	}
	h.ServeHTTP(w, r)
}

// NotFound writes SRS's 404: text/plain "Not Found".
func NotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("Not Found"))
}

type redirectSlash struct{}

func (redirectSlash) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Path + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}

// HostOnly strips the port from a Host header value.
func HostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}
