package srturl

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		raw  string
		want URL
		err  string
	}{
		{"srt://127.0.0.1:10080?streamid=#!::r=live/s0,m=publish", URL{Addr: "127.0.0.1:10080", StreamID: "#!::r=live/s0,m=publish"}, ""},
		{"srt://h:9000?streamid=live/s&latency=200&passphrase=0123456789&pbkeylen=24",
			URL{Addr: "h:9000", StreamID: "live/s", Latency: 200 * time.Millisecond, Passphrase: "0123456789", PBKeyLen: 24}, ""},
		{"srt://[::1]:10080?streamid=%23!::r=live/s", URL{Addr: "[::1]:10080", StreamID: "#!::r=live/s"}, ""},
		{"srt://h:10080", URL{Addr: "h:10080"}, ""},
		{"srt://h:10080?mode=caller&streamid=x", URL{Addr: "h:10080", StreamID: "x"}, ""},
		{"rtmp://h/live/s", URL{}, "srt://"},
		{"srt://h?streamid=x", URL{}, "host:port"},
		{"srt://h:0", URL{}, "port"},
		{"srt://:10080", URL{}, "no host"},
		{"srt://h:10080?latency=-1", URL{}, "latency"},
		{"srt://h:10080?latency=70000", URL{}, "latency"},
		{"srt://h:10080?pbkeylen=20", URL{}, "pbkeylen"},
		{"srt://h:10080?passphrase=short", URL{}, "passphrase"},
		{"srt://h:10080?mode=listener", URL{}, "caller"},
		{"srt://h:10080?stream=x", URL{}, "unknown option"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.raw)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %+v, %v; want an error with %q", tt.raw, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
	o := URL{StreamID: "s", Latency: 300 * time.Millisecond}.Options(2 * time.Second)
	if o.StreamID != "s" || o.RecvLatency != 300*time.Millisecond || o.PeerLatency != 300*time.Millisecond || o.ConnectTimeout != 2*time.Second || !o.TLPktDrop {
		t.Errorf("options %+v", o)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("srt://127.0.0.1:10080?streamid=#!::r=live/s0,m=publish&latency=200")
	f.Add("srt://[::1]:1?passphrase=0123456789&pbkeylen=16")
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := Parse(raw)
		if err != nil {
			return
		}
		if u.Addr == "" || u.Latency < 0 || u.Latency > maxLatency {
			t.Fatalf("%q parsed to %+v", raw, u)
		}
		_ = u.Options(0)
	})
}
