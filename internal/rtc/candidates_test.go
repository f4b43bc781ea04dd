package rtc

import (
	"context"
	"strconv"
	"testing"

	"github.com/castd/castd/internal/conf"
)

func TestCandidates(t *testing.T) {
	e := newTestEnv(t, func(c *conf.RTCServer, _ *Vhost) { c.TCP.Enabled, c.TCP.Listen, c.Protocol = true, 0, "all" })
	udp, tcp := e.srv.ports()
	if udp == 0 || tcp == 0 {
		t.Fatalf("ports %d %d", udp, tcp)
	}
	base := e.cfg
	cases := []struct {
		name string
		edit func(*conf.RTCServer)
		src  candidateSource
		want []string
	}{
		{"configured", nil, candidateSource{}, []string{"udp 127.0.0.1 U", "tcp 127.0.0.1 T"}},
		{"eip with a port first, then the API host", func(c *conf.RTCServer) { c.APIAsCandidates = true },
			candidateSource{eip: "192.0.2.7:9999", apiHost: "198.51.100.1:1985"},
			[]string{"udp 192.0.2.7 9999", "udp 198.51.100.1 U", "udp 127.0.0.1 U", "tcp 192.0.2.7 9999", "tcp 198.51.100.1 T", "tcp 127.0.0.1 T"}},
		{"api_as_candidates off", nil, candidateSource{apiHost: "198.51.100.1"}, []string{"udp 127.0.0.1 U", "tcp 127.0.0.1 T"}},
		{"kept API domain, not resolved", func(c *conf.RTCServer) {
			c.APIAsCandidates, c.KeepAPIDomain, c.ResolveAPIDomain, c.Protocol = true, true, false, "udp"
		}, candidateSource{apiHost: "rtc.example.com:1985"}, []string{"udp rtc.example.com U", "udp 127.0.0.1 U"}},
		{"unspecified API host skipped", func(c *conf.RTCServer) { c.APIAsCandidates, c.Protocol = true, "tcp" },
			candidateSource{apiHost: "0.0.0.0:1985"}, []string{"tcp 127.0.0.1 T"}},
		{"bad eip ignored", func(c *conf.RTCServer) { c.Protocol = "udp" }, candidateSource{eip: "a b"}, []string{"udp 127.0.0.1 U"}},
	}
	e.srv.mu.Lock()
	lease := e.srv.leaseLocked() // what a session made now holds
	e.srv.mu.Unlock()
	defer e.srv.release(lease)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			if c.edit != nil {
				c.edit(&cfg)
			}
			var got []string
			for _, cand := range e.srv.candidates(context.Background(), cfg, c.src, lease) {
				proto, port := "udp", strconv.Itoa(cand.port)
				if cand.tcp {
					proto = "tcp"
				}
				switch {
				case cand.port == udp && !cand.tcp:
					port = "U"
				case cand.port == tcp && cand.tcp:
					port = "T"
				}
				got = append(got, proto+" "+cand.host+" "+port)
			}
			if !equalStrings(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	cfg := base
	cfg.Candidate, cfg.UseAutoDetectNetworkIP = "*", true
	for _, cand := range e.srv.candidates(context.Background(), cfg, candidateSource{}, lease) {
		if cand.host == "" || cand.port == 0 {
			t.Fatalf("auto-detected candidate %+v", cand)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
