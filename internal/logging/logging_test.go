package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParseLevel(t *testing.T) {
	cases := []struct {
		name string
		v2   bool
		want slog.Level
		err  bool
	}{
		{"trace", false, slog.LevelInfo, false}, // v4 "trace" is the normal level
		{"verbose", false, LevelTrace, false},
		{"info", false, slog.LevelDebug, false},
		{"warn", false, slog.LevelWarn, false},
		{"error", false, slog.LevelError, false},
		{"trace", true, LevelTrace, false},
		{"debug", true, slog.LevelDebug, false},
		{"INFO", true, slog.LevelInfo, false},
		{"debug", false, 0, true},
		{"loud", true, 0, true},
	}
	for _, c := range cases {
		got, err := ParseLevel(c.name, c.v2)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("ParseLevel(%q, v2=%v) = %v, %v; want %v, err=%v", c.name, c.v2, got, err, c.want, c.err)
		}
	}
}

func TestTextFormatAndConsoleSplit(t *testing.T) {
	var out, errOut bytes.Buffer
	h := NewHandler(ConsoleOutput(&out, &errOut), Options{Pid: 42, Level: slog.LevelDebug})
	log := slog.New(h).With(CID("k3j9x0a2"), "vhost", "__defaultVhost__")
	log.Info("publish start", "stream", "/live/cam 1", "err", errors.New("boom"))
	log.Warn("slow viewer")
	log.Debug("detail")
	slog.New(h).InfoContext(WithCID(context.Background(), "abcdefgh"), "from context")

	line := regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[INFO\]\[42\]\[k3j9x0a2\] publish start vhost=__defaultVhost__ stream="/live/cam 1" err=boom$`)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("stdout has %d lines, want 3:\n%s", len(lines), out.String())
	}
	if !line.MatchString(lines[0]) {
		t.Errorf("unexpected line: %q", lines[0])
	}
	if !strings.Contains(lines[1], "[DEBUG][42][k3j9x0a2] detail") {
		t.Errorf("debug line: %q", lines[1])
	}
	if !strings.Contains(lines[2], "[INFO][42][abcdefgh] from context") {
		t.Errorf("context cid line: %q", lines[2])
	}
	if !strings.Contains(errOut.String(), "[WARN][42][k3j9x0a2] slow viewer") {
		t.Errorf("warn must go to stderr, got %q", errOut.String())
	}
}

func TestLevelFilter(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(NewHandler(ConsoleOutput(&out, &out), Options{Level: slog.LevelWarn}))
	log.Info("hidden")
	log.Error("shown")
	if strings.Contains(out.String(), "hidden") || !strings.Contains(out.String(), "[ERROR]") {
		t.Fatalf("level filter broken: %q", out.String())
	}
}

func TestJSONKeepsAttrs(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(NewHandler(ConsoleOutput(&out, &out), Options{JSON: true, Pid: 7}))
	log.With(CID("zzzzzzzz"), "app", "live").WithGroup("g").Info("hello", "n", 3)
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v: %q", err, out.String())
	}
	if m["cid"] != "zzzzzzzz" || m["app"] != "live" || m["g.n"] != float64(3) || m["msg"] != "hello" || m["level"] != "INFO" {
		t.Fatalf("unexpected JSON record: %v", m)
	}
}

func TestFileReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "castd.log")
	o, err := FileOutput(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	log := slog.New(NewHandler(o, Options{}))
	log.Info("first")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := o.Reopen(); err != nil {
		t.Fatal(err)
	}
	log.Info("second")
	rotated, _ := os.ReadFile(path + ".1")
	fresh, _ := os.ReadFile(path)
	if !strings.Contains(string(rotated), "first") || strings.Contains(string(rotated), "second") {
		t.Errorf("rotated file: %q", rotated)
	}
	if !strings.Contains(string(fresh), "second") {
		t.Errorf("reopened file: %q", fresh)
	}
}
