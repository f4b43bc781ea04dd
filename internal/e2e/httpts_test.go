package e2e

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

const remuxConf = `
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
vhost __defaultVhost__ { http_remux { enabled on; mount [vhost]/[app]/[stream].ts; } }
vhost aac.com { http_remux { enabled on; mount [vhost]/[app]/[stream].aac; fast_cache 5; } }
vhost mp3.com { http_remux { enabled on; mount [vhost]/[app]/[stream].mp3; } }
`

// firstBytes reads the start of a live response.
func firstBytes(t *testing.T, url string, n int) (string, []byte) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.Header.Get("Content-Type"), b
}

func TestHTTPTSAACMP3(t *testing.T) {
	c := startCastd(t, remuxConf)
	ffmpegPublish(t, c.rtmpURL("live/s"), 30*time.Second)
	ffmpegPublish(t, c.rtmpURL("live/a?vhost=aac.com"), 30*time.Second)
	ffmpegPublish(t, c.rtmpURL("live/m?vhost=mp3.com"), 30*time.Second, "-tune", "zerolatency", "-c:a", "libmp3lame", "-ar", "44100")
	c.waitPublished(t, "s", 10*time.Second)
	c.waitPublished(t, "a", 10*time.Second)
	c.waitPublished(t, "m", 10*time.Second)

	ts := c.httpURL("live/s.ts")
	checkProbe(t, "http-ts", ffprobe(t, ts, 0))
	if ctype, b := firstBytes(t, ts, 188*3); ctype != "video/MP2T" || b[0] != 0x47 || b[188] != 0x47 {
		t.Errorf("HTTP-TS: type %q, first bytes %x", ctype, b[:4])
	}

	aac := c.httpURL("live/a.aac?vhost=aac.com")
	p := ffprobe(t, aac, 0)
	if len(p.Streams) != 1 || p.Streams[0].CodecName != "aac" || p.Streams[0].SampleRate != "44100" || p.Streams[0].Channels != 2 {
		t.Errorf("HTTP-AAC streams: %+v", p.Streams)
	}
	if ctype, b := firstBytes(t, aac, 7); ctype != "audio/x-aac" || b[0] != 0xff || b[1]&0xf0 != 0xf0 {
		t.Errorf("HTTP-AAC: type %q, first bytes %x (want an ADTS sync word)", ctype, b)
	}

	// fast_cache 5: a new AAC listener gets the seconds already published at
	// once (64 kbit/s is 8 KB/s live), not just what comes next.
	start := time.Now()
	if _, b := firstBytes(t, aac, 12<<10); time.Since(start) > 700*time.Millisecond {
		t.Errorf("fast_cache: %d bytes took %v, want them at once", len(b), time.Since(start))
	}

	mp3 := c.httpURL("live/m.mp3?vhost=mp3.com")
	p = ffprobe(t, mp3, 0)
	if len(p.Streams) != 1 || p.Streams[0].CodecName != "mp3" || p.Streams[0].SampleRate != "44100" {
		t.Errorf("HTTP-MP3 streams: %+v", p.Streams)
	}
	if ctype, b := firstBytes(t, mp3, 3); ctype != "audio/mpeg" || !bytes.Equal(b, []byte("ID3")) {
		t.Errorf("HTTP-MP3: type %q, starts %q (want SRS's ID3 tag)", ctype, b)
	}

	// The relays are internal: the API lists only the three published streams.
	var r struct{ Streams []struct{ Name string } }
	getJSON(t, "GET", c.apiURL("api/v1/streams/"), &r)
	if len(r.Streams) != 3 {
		t.Errorf("API lists %d streams, want 3: %+v", len(r.Streams), r.Streams)
	}
}

// TestHTTPTSEndsAtUnpublish: an HTTP-TS response ends when the publisher
// leaves, like HTTP-FLV.
func TestHTTPTSEndsAtUnpublish(t *testing.T) {
	c := startCastd(t, remuxConf)
	pub := ffmpegPublish(t, c.rtmpURL("live/end"), 3*time.Second)
	c.waitPublished(t, "end", 10*time.Second)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(c.httpURL("live/end.ts"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); done <- err }()
	_ = pub.Wait()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("HTTP-TS ended with %v, want a clean end", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the HTTP-TS response did not end after unpublish")
	}
}
