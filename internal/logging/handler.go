package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Output is where log lines go: the console (lines below WARN to stdout, WARN
// and above to stderr, as SRS does) or a file that SIGUSR1 can reopen after
// logrotate moved it away.
type Output struct {
	mu     sync.Mutex
	stdout io.Writer
	stderr io.Writer
	path   string
	file   *os.File
}

// ConsoleOutput writes to the given stdout and stderr.
func ConsoleOutput(stdout, stderr io.Writer) *Output {
	return &Output{stdout: stdout, stderr: stderr}
}

// FileOutput appends to the file at path, creating it when missing.
func FileOutput(path string) (*Output, error) {
	o := &Output{path: path}
	if err := o.Reopen(); err != nil {
		return nil, err
	}
	return o, nil
}

// Reopen closes and reopens the log file; it does nothing for the console.
func (o *Output) Reopen() error {
	if o.path == "" {
		return nil
	}
	f, err := os.OpenFile(o.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("logging: open log file %s: %w", o.path, err)
	}
	o.mu.Lock()
	old := o.file
	o.file = f
	o.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

// Close closes the log file, if any.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file == nil {
		return nil
	}
	err := o.file.Close()
	o.file = nil
	return err
}

func (o *Output) write(level slog.Level, line []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var w io.Writer
	switch {
	case o.path != "":
		if o.file == nil {
			return
		}
		w = o.file
	case level >= slog.LevelWarn:
		w = o.stderr
	default:
		w = o.stdout
	}
	_, _ = w.Write(line) // a failing log sink has nowhere to report to
}

// Options configure a Handler.
type Options struct {
	Level slog.Leveler // minimum level; slog.LevelInfo when nil
	JSON  bool         // one JSON object per line instead of SRS's text format
	UTC   bool         // timestamps in UTC (SRS's utc_time)
	Pid   int          // shown in the [pid] column; os.Getpid() when 0
}

// Handler formats records as SRS does and fills the [cid] column from the
// context (WithCID) or a "cid" attribute (CID).
type Handler struct {
	out   *Output
	opt   Options
	pid   string
	cid   string
	attrs []byte      // preformatted " k=v" pairs from WithAttrs, for text
	jattr []slog.Attr // the same attributes with group-qualified keys, for JSON
	group string      // dotted prefix from WithGroup
}

// NewHandler returns a handler writing to out.
func NewHandler(out *Output, opt Options) *Handler {
	if opt.Level == nil {
		opt.Level = slog.LevelInfo
	}
	if opt.Pid == 0 {
		opt.Pid = os.Getpid()
	}
	return &Handler{out: out, opt: opt, pid: strconv.Itoa(opt.Pid)}
}

func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.opt.Level.Level()
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	cid := h.cid
	if c := CIDFrom(ctx); c != "" {
		cid = c
	}
	bp := linePool.Get().(*[]byte)
	b := (*bp)[:0]
	t := r.Time
	if h.opt.UTC {
		t = t.UTC()
	}
	if h.opt.JSON {
		b = h.appendJSON(b, t, r, cid)
	} else {
		b = h.appendText(b, t, r, cid)
	}
	h.out.write(r.Level, b)
	*bp = b
	linePool.Put(bp)
	return nil
}

func (h *Handler) appendText(b []byte, t time.Time, r slog.Record, cid string) []byte {
	b = append(b, '[')
	b = t.AppendFormat(b, "2006-01-02 15:04:05.000")
	b = append(b, "]["...)
	b = append(b, levelName(r.Level)...)
	b = append(b, "]["...)
	b = append(b, h.pid...)
	b = append(b, "]["...)
	b = append(b, cid...)
	b = append(b, "] "...)
	b = append(b, r.Message...)
	b = append(b, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == CIDKey && h.group == "" {
			return true // already in the [cid] column
		}
		b = appendTextAttr(b, h.group, a)
		return true
	})
	return append(b, '\n')
}

func (h *Handler) appendJSON(b []byte, t time.Time, r slog.Record, cid string) []byte {
	m := map[string]any{
		"time":  t.Format(time.RFC3339Nano),
		"level": levelName(r.Level),
		"pid":   h.opt.Pid,
		"msg":   r.Message,
	}
	if cid != "" {
		m["cid"] = cid
	}
	add := func(a slog.Attr) bool {
		if a.Key == CIDKey && h.group == "" {
			return true
		}
		m[h.group+a.Key] = a.Value.Resolve().Any()
		return true
	}
	for _, a := range h.jattr {
		m[a.Key] = a.Value.Resolve().Any()
	}
	r.Attrs(add)
	out, err := json.Marshal(m)
	if err != nil {
		out = strconv.AppendQuote(nil, fmt.Sprintf("log record not encodable: %v", err))
	}
	return append(append(b, out...), '\n')
}

func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]byte(nil), h.attrs...)
	n.jattr = append([]slog.Attr(nil), h.jattr...)
	for _, a := range as {
		if a.Key == CIDKey && h.group == "" {
			n.cid = a.Value.String()
			continue
		}
		n.attrs = appendTextAttr(n.attrs, h.group, a)
		n.jattr = append(n.jattr, slog.Attr{Key: h.group + a.Key, Value: a.Value})
	}
	return &n
}

func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.group = h.group + name + "."
	return &n
}

func appendTextAttr(b []byte, group string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, ga := range a.Value.Group() {
			b = appendTextAttr(b, group+a.Key+".", ga)
		}
		return b
	}
	b = append(b, ' ')
	b = append(b, group...)
	b = append(b, a.Key...)
	b = append(b, '=')
	var s string
	switch a.Value.Kind() {
	case slog.KindString:
		s = a.Value.String()
	case slog.KindDuration:
		s = a.Value.Duration().String()
	case slog.KindTime:
		s = a.Value.Time().Format(time.RFC3339Nano)
	default:
		if err, ok := a.Value.Any().(error); ok && err != nil {
			s = err.Error()
		} else {
			s = a.Value.String()
		}
	}
	if needsQuote(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '"' || c == '=' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError {
			return true
		}
		i += size
	}
	return false
}
