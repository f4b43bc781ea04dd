package hls

import (
	"bytes"
	"testing"
	"time"
)

func FuzzParseMediaPlaylist(f *testing.F) {
	k := &KeyRef{URI: "k.key", IV: [16]byte{1}}
	p := MediaPlaylist{MediaSequence: 3, TargetDuration: 2, DiscontinuitySequence: 1, Segments: []Entry{
		{Seq: 3, URI: "a.ts", Duration: 1500 * time.Millisecond, Key: k},
		{Seq: 4, URI: "b.ts?x=1", Duration: time.Second, Discontinuity: true},
	}}
	f.Add(p.Append(nil))
	f.Add([]byte("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"a,b\",IV=0x000102030405060708090a0b0c0d0e0f\n#EXTINF:1,\nx\n"))
	f.Add([]byte("#EXTM3U\r\n#EXTINF:1.5,\r\na.ts\r\n#EXT-X-ENDLIST\r\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-KEY:METHOD=NONE\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseMediaPlaylist(b)
		if err != nil {
			return
		}
		// What parses renders, and the rendering parses to the same segments.
		q, err := ParseMediaPlaylist(p.Append(nil))
		if err != nil {
			t.Fatalf("rendered playlist does not parse: %v", err)
		}
		if len(q.Segments) != len(p.Segments) {
			t.Fatalf("%d segments, then %d", len(p.Segments), len(q.Segments))
		}
	})
}

func FuzzAddSession(f *testing.F) {
	f.Add([]byte("#EXTM3U\n#EXTINF:1.000, no desc\ncam-0.ts\n"), "abc")
	f.Add([]byte("#EXTINF:1,\r\na.ts?x=1#f\r\n\n"), "x")
	f.Fuzz(func(t *testing.T, b []byte, id string) {
		out := addSession(b, id)
		if bytes.Count(out, []byte("\n")) != bytes.Count(b, []byte("\n")) {
			t.Fatal("lines added or lost")
		}
		if bytes.Equal(out, b) != (countURIs(b) == 0) {
			t.Fatalf("%d URIs, output changed: %v", countURIs(b), !bytes.Equal(out, b))
		}
	})
}

func countURIs(b []byte) int {
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(line) > 0 && line[0] != '#' {
			n++
		}
	}
	return n
}
