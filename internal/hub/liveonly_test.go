package hub

import "testing"

func TestLiveOnlyViewerSkipsGOPCacheAndWaitsForKeyframe(t *testing.T) {
	h := newTestHub(t)
	p := publish(t, h, DefaultStreamOptions())
	write(t, p, meta(0), ash(0), vsh(0), vkey(0), araw(20), vint(40))
	v := h.Play(key, ClientInfo{ID: "live"}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterOff, LiveOnly: true})
	defer v.Close()
	write(t, p, araw(60), vint(80), vkey(120), vint(160))
	got := describe(readAll(t, v))
	want := "data@0 audio-sh@0 video-sh@0 audio@60 video-key@120 video@160"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
