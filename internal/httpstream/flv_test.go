package httpstream

import (
	"bytes"
	"fmt"
	"net"
	"net/http/httputil"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/httpx"
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

// TestFLVWriterOutputParses: batches written by flvWriter in HTTP chunks, with tags
// dropped by drop_if_not_match, read back as a valid FLV stream whose
// PreviousTagSize fields all check out.
func TestFLVWriterOutputParses(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	resp := httpx.NewLiveResponse(server, true)
	w := newFLVWriter(resp, Remux{HasAudio: false, HasVideo: true, DropIfNotMatch: true})
	pkt := func(kind av.Kind, ts uint32, size int) hub.Delivery {
		b := bytes.Repeat([]byte{byte(ts)}, size)
		b[0] = 0x17
		if kind == av.KindAudio {
			b[0] = 0xaf
		}
		return hub.Delivery{Packet: &av.Packet{Kind: kind, Payload: b}, Timestamp: ts}
	}
	batches := [][]hub.Delivery{
		{pkt(av.KindVideo, 0, 30), pkt(av.KindAudio, 10, 7), pkt(av.KindVideo, 40, 100)},
		{pkt(av.KindAudio, 50, 7)}, // nothing to write but the framing
		{pkt(av.KindVideo, 80, 5), pkt(av.KindVideo, 120, 64)},
	}
	go func() {
		for _, b := range batches {
			if err := w.write(b); err != nil {
				t.Error(err)
			}
		}
		server.Close()
	}()
	h, tags, err := flv.ReadAll(httputil.NewChunkedReader(client))
	if err != nil {
		t.Fatal(err)
	}
	if h.HasAudio || !h.HasVideo {
		t.Errorf("header %+v", h)
	}
	var got []string
	for _, tag := range tags {
		got = append(got, fmt.Sprintf("%d@%d:%d", tag.Type, tag.Timestamp, len(tag.Data)))
	}
	if want := "9@0:30 9@40:100 9@80:5 9@120:64"; strings.Join(got, " ") != want {
		t.Fatalf("tags %v, want %s", got, want)
	}
}
