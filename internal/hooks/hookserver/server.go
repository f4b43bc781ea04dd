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

// RedirectPath is where a 3xx rejection points by default.
const RedirectPath = "/api/v1/redirected"

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
	// pattern (e.g. "private*"). With Reject too, a hook must match both
	// ("on_play of private*"); alone, it rejects every action.
	RejectStream string
	// Status and Body answer a rejected hook: 0 is 200 and "" is
	// DefaultRejectBody. Both shapes of rejection (a bad status, a bad body)
	// are useful to test castd.
	Status int
	Body   string
	// Location is the Location header of a rejection with a 3xx Status;
	// "" is RedirectPath on this server, which records the request (and
	// accepts it) if a client follows the redirect.
	Location string
	// Delay holds answers, e.g. to test castd's timeouts: every answer, or
	// only those of DelayActions and DelayStream, matched as Reject and
	// RejectStream are.
	Delay        time.Duration
	DelayActions []string
	DelayStream  string
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
	Delayed  bool            `json:"delayed,omitempty"`
	Status   int             `json:"status"`
	Location string          `json:"location,omitempty"`
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
	followed := r.URL.Path == RedirectPath // recorded, always accepted: it proves a client followed a 3xx
	if !followed && matches(s.opt.Reject, s.opt.RejectStream, fields.Action, fields.Stream) {
		h.Rejected, h.Status, h.Response = true, s.opt.Status, s.opt.Body
		if h.Status >= 300 && h.Status < 400 {
			h.Location = s.opt.Location
			if h.Location == "" {
				h.Location = RedirectPath
			}
			w.Header().Set("Location", h.Location)
		}
	}
	h.Delayed = !followed && s.delays(fields.Action, fields.Stream)
	if h.Delayed {
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

// delays says whether Delay holds the answer to this hook.
func (s *Server) delays(action, stream string) bool {
	if s.opt.Delay <= 0 {
		return false
	}
	if len(s.opt.DelayActions) == 0 && s.opt.DelayStream == "" {
		return true
	}
	return matches(s.opt.DelayActions, s.opt.DelayStream, action, stream)
}

// matches says whether a hook is selected by a list of actions ("all"
// selects any) and a stream pattern; an empty list or pattern does not
// restrict, but at least one must be set.
func matches(actions []string, pattern, action, stream string) bool {
	if len(actions) == 0 && pattern == "" {
		return false
	}
	if len(actions) > 0 && !slices.Contains(actions, "all") && (action == "" || !slices.Contains(actions, action)) {
		return false
	}
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, stream)
	return ok && err == nil && stream != ""
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
