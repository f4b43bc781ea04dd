package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve runs the command on a free port until the test ends.
func serve(t *testing.T, args ...string) (base string, stdout *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &lockedBuffer{}
	addr := make(chan net.Addr, 1)
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, append([]string{"-listen", "127.0.0.1:0"}, args...), stdout, io.Discard, func(a net.Addr) { addr <- a })
	}()
	select {
	case a := <-addr:
		base = "http://" + a.String()
	case c := <-code:
		t.Fatalf("exited with %d", c)
	}
	t.Cleanup(func() {
		cancel()
		if c := <-code; c != 0 {
			t.Errorf("exit code %d", c)
		}
	})
	return base, stdout
}

func TestServeAndReject(t *testing.T) {
	base, stdout := serve(t, "-reject", "on_play, on_connect", "-status", "403")
	c := hooks.New(hooks.Options{ServerID: "vid-x", ServiceID: "y"})
	defer c.Close()
	h := conf.HTTPHooks{Enabled: true, OnPublish: []string{base + "/api/v1/streams"},
		OnPlay: []string{base + "/api/v1/sessions"}, OnConnect: []string{base + "/api/v1/clients"}}
	r := hooks.Request{ClientID: "abcd1234", IP: "127.0.0.1", Vhost: "__defaultVhost__", App: "live", Stream: "s"}

	if err := c.OnPublish(context.Background(), h, r); err != nil {
		t.Fatalf("on_publish: %v", err)
	}
	for _, fn := range []func() error{
		func() error { return c.OnPlay(context.Background(), h, r) },
		func() error { return c.OnConnect(context.Background(), h, r) },
	} {
		var herr *hooks.Error
		if err := fn(); !errors.As(err, &herr) || herr.Code != hooks.CodeHTTPStatus || herr.Status != 403 {
			t.Fatalf("%v, want a 403 rejection", err)
		}
	}
	resp, err := http.Get(base + "/api/v1/hooks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Hooks []struct {
			Action   string `json:"action"`
			Rejected bool   `json:"rejected"`
		} `json:"hooks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Hooks) != 3 {
		t.Fatalf("hooks %+v: %v", list, err)
	}
	if list.Hooks[0].Rejected || !list.Hooks[1].Rejected || !list.Hooks[2].Rejected {
		t.Fatalf("hooks %+v", list.Hooks)
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(stdout.String(), "\n") < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if lines := strings.Split(strings.TrimSpace(stdout.String()), "\n"); len(lines) != 3 || !strings.Contains(lines[0], `"action":"on_publish"`) {
		t.Fatalf("stdout:\n%s", stdout.String())
	}
}

func TestQuiet(t *testing.T) {
	base, stdout := serve(t, "-quiet")
	resp, err := http.Post(base+"/x", "application/json", strings.NewReader(`{"action":"on_stop"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "0" || resp.StatusCode != 200 {
		t.Fatalf("answer %d %q", resp.StatusCode, b)
	}
	if stdout.String() != "" {
		t.Fatalf("-quiet printed %q", stdout.String())
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-status", "42"}, {"-nope"}, {"extra"}, {"-listen", "256.0.0.1:1"}} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, io.Discard, &stderr, nil); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
		if stderr.Len() == 0 {
			t.Errorf("%v: no message", args)
		}
	}
	if code := run(context.Background(), []string{"-h"}, io.Discard, io.Discard, nil); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}
