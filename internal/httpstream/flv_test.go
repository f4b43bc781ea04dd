package httpstream

import (
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hub"
)

func TestMountPath(t *testing.T) {
	key := hub.Key{Vhost: "v.com", App: "live", Name: "cam"}
	def := hub.Key{Vhost: hub.DefaultVhost, App: "live/sub", Name: "cam"}
	cases := []struct {
		tmpl string
		key  hub.Key
		want string
	}{
		{"[vhost]/[app]/[stream].flv", key, "/live/cam.flv"},
		{"[vhost]/[app]/[stream].flv", def, "/live/sub/cam.flv"},
		{"/hls/[app]/[stream].flv", key, "/hls/live/cam.flv"},
		{"[app]/[stream].ts", key, "/live/cam.ts"},
		{"/[vhost]/[app]/[stream].flv", key, "/v.com/live/cam.flv"},
	}
	for _, c := range cases {
		if got := MountPath(c.tmpl, c.key); got != c.want {
			t.Errorf("MountPath(%q, %v) = %q, want %q", c.tmpl, c.key, got, c.want)
		}
	}
}

func d(kind av.Kind, sh bool, ts uint32) hub.Delivery {
	return hub.Delivery{Packet: &av.Packet{Kind: kind, SequenceHeader: sh}, Timestamp: ts}
}

func TestGuessHasAV(t *testing.T) {
	const A, V = av.KindAudio, av.KindVideo
	cases := []struct {
		name         string
		in           []hub.Delivery
		ready        bool
		audio, video bool
	}{
		{"headers only: wait", []hub.Delivery{d(A, true, 0), d(V, true, 0), d(V, false, 0)}, false, false, false},
		{"both kinds have frames", []hub.Delivery{d(A, true, 0), d(V, true, 0), d(V, false, 0), d(A, false, 20)}, true, true, true},
		{"audio header only after a second", []hub.Delivery{d(A, true, 0), d(V, true, 0), d(V, false, 0), d(V, false, 1000)}, true, false, true},
		{"pure audio after a second", []hub.Delivery{d(A, true, 0), d(A, false, 0), d(A, false, 1000)}, true, true, false},
		{"no frames at all after a second", []hub.Delivery{d(A, true, 0), d(V, true, 1000)}, true, true, true},
	}
	for _, c := range cases {
		f := &flvWriter{pending: c.in}
		ready := f.guess()
		if ready != c.ready || (ready && (f.hasAudio != c.audio || f.hasVideo != c.video)) {
			t.Errorf("%s: ready=%v audio=%v video=%v, want %v %v %v", c.name, ready, f.hasAudio, f.hasVideo, c.ready, c.audio, c.video)
		}
	}
}
