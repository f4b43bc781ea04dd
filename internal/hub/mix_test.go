package hub

import (
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/format/flv"
)

func TestMixCorrectReordersAudioAndVideo(t *testing.T) {
	h := newTestHub(t)
	opt := DefaultStreamOptions()
	opt.MixCorrect = true
	p := publish(t, h, opt)
	v := h.Play(key, ClientInfo{ID: "mix"}, opt, ViewerOptions{Jitter: JitterOff})
	defer v.Close()
	// An encoder that sends video ahead of audio.
	write(t, p, vkey(0), vint(40), vint(80), araw(10), araw(33), araw(56), araw(79), vint(120), araw(102))
	got := describe(readAll(t, v))
	// Everything up to the last audio is in timestamp order; the rest waits
	// for audio to show the mix.
	want := "video-key@0 audio@10 audio@33 video@40 audio@56 audio@79 video@80 audio@102"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestMixCorrectPassesPureAudio(t *testing.T) {
	var q mixQueue
	var out []uint32
	for i := 0; i < 12; i++ {
		q.push(&av.Packet{Kind: av.KindAudio, Timestamp: uint32(i * 23)})
		for p := q.pop(); p != nil; p = q.pop() {
			out = append(out, p.Timestamp)
		}
	}
	// SRS holds the first 9 packets of a pure audio stream, then lets the
	// queue drain while it stays at 10.
	if len(out) != 3 || out[0] != 0 || out[2] != 46 {
		t.Fatalf("pure audio through the mix queue: %v", out)
	}
}

func TestATCAutoFollowsBravoATC(t *testing.T) {
	h := newTestHub(t)
	opt := DefaultStreamOptions()
	opt.ATCAuto = true
	p := publish(t, h, opt)
	v := h.Play(key, ClientInfo{ID: "atc"}, opt, ViewerOptions{Jitter: JitterFull})
	defer v.Close()
	body, err := flv.AppendScriptData(nil, flv.OnMetaData, amf.ECMAArray{{Key: "bravo_atc", Value: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	write(t, p, mustPkt(av.KindData, 0, body), vkey(90000), vint(90040))
	got := readAll(t, v)
	if len(got) != 3 || got[1].Timestamp != 90000 || got[2].Timestamp != 90040 {
		t.Fatalf("with bravo_atc the viewer must keep absolute times: %+v", got)
	}
	// Without atc_auto the same metadata changes nothing.
	h2 := newTestHub(t)
	p2 := publish(t, h2, DefaultStreamOptions())
	v2 := h2.Play(key, ClientInfo{ID: "noatc"}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterFull})
	defer v2.Close()
	write(t, p2, mustPkt(av.KindData, 0, body), vkey(90000), vint(90040))
	got = readAll(t, v2)
	if got[1].Timestamp != 0 || got[2].Timestamp != 40 {
		t.Fatalf("full jitter should start at 0: %+v", got)
	}
}
