// Package hookserver is a hook receiver for castd's tests and for operators
// who want to see what castd sends: it accepts every hook on any path,
// records and logs it, answers "0", and can be told to reject some hooks,
// answer slowly or answer with a given status and body. It plays the part
// of SRS's sample api-server (research/api-server, port 8085).
package hookserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// HooksPath lists the received hooks (GET) or forgets them (DELETE).
const HooksPath = "/api/v1/hooks"

// Defaults.
const (
	DefaultKeep       = 10000
	DefaultRejectBody = `{"code":1,"msg":"rejected by castd-hookserver"}`
	maxBody           = 1 << 20
)

// Options say how to answer; the zero value accepts every hook with "0".
type Options struct {
	// Reject lists the actions (on_publish, on_play...) to reject; "all"
	// rejects every hook.
	Reject []string
	// RejectStream rejects hooks whose "stream" matches this path.Match
	// pattern (e.g. "private*"), whatever their action.
	RejectStream string
	// Status and Body answer a rejected hook: 0 is 200 and "" is
	// DefaultRejectBody. Both shapes of rejection (a bad status, a bad body)
	// are useful to test castd.
	Status int
	Body   string
	// Delay holds every answer, e.g. to test castd's timeouts.
	Delay time.Duration
	// Keep bounds the hooks remembered for HooksPath (oldest forgotten
	// first); 0 is DefaultKeep.
	Keep int
	// Log, when set, gets one JSON line per hook.
	Log io.Writer
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Hook is one request received.
type Hook struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	Action string    `json:"action,omitempty"`
	// Body is the request's JSON body, or the body as a JSON string when it
	// is not JSON; absent when empty.
	Body     json.RawMessage `json:"body,omitempty"`
	Rejected bool            `json:"rejected"`
	Status   int             `json:"status"`
	Response string          `json:"response"`
}

// Server is an http.Handler; it is safe for concurrent use.
type Server struct {
	opt Options

	mu    sync.Mutex
	hooks []Hook
	logMu sync.Mutex // one line at a time, not under mu
}

// New returns a Server.
func New(opt Options) *Server {
	if opt.Keep <= 0 {
		opt.Keep = DefaultKeep
	}
	if opt.Status == 0 {
		opt.Status = http.StatusOK
	}
	if opt.Body == "" {
		opt.Body = DefaultRejectBody
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Server{opt: opt}
}

// ServeHTTP records a hook and answers it, or serves HooksPath.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HooksPath && (r.Method == http.MethodGet || r.Method == http.MethodDelete) {
		s.serveHooks(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, fmt.Sprintf("read body: %v", err), http.StatusRequestEntityTooLarge)
		return
	}
	h := Hook{Time: s.opt.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: asJSON(body)}
	var fields struct {
		Action string `json:"action"`
		Stream string `json:"stream"`
	}
	_ = json.Unmarshal(body, &fields) // GETs (on_hls_notify) and odd bodies have none
	h.Action = fields.Action
	h.Status, h.Response = http.StatusOK, "0"
	if s.rejects(fields.Action, fields.Stream) {
		h.Rejected, h.Status, h.Response = true, s.opt.Status, s.opt.Body
	}
	if s.opt.Delay > 0 {
		select {
		case <-time.After(s.opt.Delay):
		case <-r.Context().Done():
			return
		}
	}
	s.record(h)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(h.Status)
	_, _ = io.WriteString(w, h.Response)
}

func (s *Server) rejects(action, stream string) bool {
	if slices.Contains(s.opt.Reject, "all") || (action != "" && slices.Contains(s.opt.Reject, action)) {
		return true
	}
	if s.opt.RejectStream == "" || stream == "" {
		return false
	}
	ok, err := path.Match(s.opt.RejectStream, stream)
	return ok && err == nil
}

func (s *Server) record(h Hook) {
	s.mu.Lock()
	if len(s.hooks) >= s.opt.Keep {
		n := copy(s.hooks, s.hooks[len(s.hooks)-s.opt.Keep+1:])
		s.hooks = s.hooks[:n]
	}
	s.hooks = append(s.hooks, h)
	s.mu.Unlock()
	if s.opt.Log != nil {
		line, _ := json.Marshal(h)
		s.logMu.Lock()
		_, _ = s.opt.Log.Write(append(line, '\n'))
		s.logMu.Unlock()
	}
}

// Hooks returns the hooks received, oldest first.
func (s *Server) Hooks() []Hook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hooks)
}

// Actions returns the actions received, oldest first, e.g. to compare a
// sequence: [on_connect on_publish on_unpublish on_close].
func (s *Server) Actions() []string {
	var out []string
	for _, h := range s.Hooks() {
		out = append(out, h.Action)
	}
	return out
}

// Reset forgets every hook.
func (s *Server) Reset() {
	s.mu.Lock()
	s.hooks = nil
	s.mu.Unlock()
}

// serveHooks answers GET /api/v1/hooks[?action=on_play] with
// {"code":0,"hooks":[...]}, and DELETE by forgetting them.
func (s *Server) serveHooks(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodDelete {
		s.Reset()
		writeJSON(w, map[string]any{"code": 0})
		return
	}
	hooks := s.Hooks()
	if action := r.URL.Query().Get("action"); action != "" {
		hooks = slices.DeleteFunc(hooks, func(h Hook) bool { return h.Action != action })
	}
	if hooks == nil {
		hooks = []Hook{}
	}
	writeJSON(w, map[string]any{"code": 0, "hooks": hooks})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// asJSON keeps a JSON body as is and quotes anything else.
func asJSON(body []byte) json.RawMessage {
	if len(body) == 0 {
		return nil
	}
	if json.Valid(body) {
		return json.RawMessage(body)
	}
	quoted, _ := json.Marshal(strings.ToValidUTF8(string(body), "\uFFFD"))
	return quoted
}
