package conf

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"testing"
)

// envMap is an injected environment for tests.
func envMap(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// memFiles serves includes from memory.
func memFiles(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		s, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("open %s: %w", name, fs.ErrNotExist)
		}
		return []byte(s), nil
	}
}

// noFiles forbids file access.
func noFiles(name string) ([]byte, error) {
	return nil, errors.New("file access disabled in tests")
}

// mustParse loads text as "test.conf" with no environment.
func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	c, err := Parse("test.conf", []byte(text), Options{ReadFile: noFiles})
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return c
}

// base is the smallest valid config; tests append to it.
const base = "listen 1935;\n"

func wantErr(t *testing.T, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not contain %q", err, substr)
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
