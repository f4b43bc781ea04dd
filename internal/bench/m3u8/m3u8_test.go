package m3u8

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// castdLive is a live playlist as castd and SRS write it.
const castdLive = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:17\n#EXT-X-TARGETDURATION:10\n" +
	"#EXTINF:9.984, no desc\nlivestream-17.ts\n" +
	"#EXT-X-DISCONTINUITY\n#EXTINF:10.010, no desc\nlivestream-18.ts?hls_ctx=ab12\n" +
	"#EXTINF:4.5, no desc\nhttp://cdn.example/live/livestream-19.ts\n"

// srsMaster is SRS's (and castd's) answer to a new hls_ctx session.
const srsMaster = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n/live/livestream.m3u8?hls_ctx=ab12\n"

func TestParse(t *testing.T) {
	seg := func(ms int, uri string) Segment {
		return Segment{Duration: time.Duration(ms) * time.Millisecond, URI: []byte(uri)}
	}
	disc := seg(10010, "livestream-18.ts?hls_ctx=ab12")
	disc.Discontinuity = true
	enc1, enc2 := seg(2000, "a.ts"), seg(2000, "b.ts")
	enc1.Encrypted = true
	tests := []struct {
		name string
		in   string
		want Playlist
	}{
		{"castd live", castdLive, Playlist{TargetDuration: 10 * time.Second, MediaSequence: 17,
			Segments: []Segment{seg(9984, "livestream-17.ts"), disc, seg(4500, "http://cdn.example/live/livestream-19.ts")}}},
		{"master", srsMaster, Playlist{Variants: [][]byte{[]byte("/live/livestream.m3u8?hls_ctx=ab12")}}},
		{"master with two variants and media tags", "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\"\n" +
			"#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS=\"avc1.64001f,mp4a.40.2\"\nhi/index.m3u8\n" +
			"#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI=\"iframe.m3u8\"\n" +
			"#EXT-X-STREAM-INF:BANDWIDTH=500000\nlo/index.m3u8\n",
			Playlist{Variants: [][]byte{[]byte("hi/index.m3u8"), []byte("lo/index.m3u8")}}},
		{"ended, CRLF, BOM, blank lines, comments", "\xef\xbb\xbf#EXTM3U\r\n\r\n# a comment\r\n#EXT-X-TARGETDURATION:2\r\n" +
			"#EXT-X-PLAYLIST-TYPE:EVENT\r\n#EXTINF:2\r\n  seg0.ts  \r\n#EXT-X-ENDLIST\r\n",
			Playlist{TargetDuration: 2 * time.Second, Segments: []Segment{seg(2000, "seg0.ts")}, EndList: true}},
		{"just started: no segment", "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:6\n",
			Playlist{TargetDuration: 6 * time.Second}},
		{"decimal target duration", "#EXTM3U\n#EXT-X-TARGETDURATION:0.5\n#EXTINF:.25,\nx.ts\n",
			Playlist{TargetDuration: 500 * time.Millisecond, Segments: []Segment{seg(250, "x.ts")}}},
		{"digits past nanoseconds", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:0.1234567891234,\nx.ts\n",
			Playlist{TargetDuration: time.Second, Segments: []Segment{{Duration: 123456789, URI: []byte("x.ts")}}}},
		{"keys", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI=\"k, 1.key\",IV=0x01\n#EXTINF:2,\na.ts\n" +
			"#EXT-X-KEY:METHOD=NONE\n#EXTINF:2,\nb.ts\n",
			Playlist{TargetDuration: 2 * time.Second, Segments: []Segment{enc1, enc2}}},
		{"largest media sequence", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:4611686018427387904\n",
			Playlist{TargetDuration: time.Second, MediaSequence: MaxMediaSequence}},
	}
	for _, tt := range tests {
		var p Playlist
		if err := Parse(&p, []byte(tt.in)); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !samePlaylist(&p, &tt.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, show(&p), show(&tt.want))
		}
	}
}

func TestParseErrors(t *testing.T) {
	const head = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"blank", "\n\n  \n", "empty"},
		{"not a playlist", "<html>404</html>", "not #EXTM3U"},
		{"tag before EXTM3U", "#EXT-X-TARGETDURATION:2\n#EXTM3U\n", "not #EXTM3U"},
		{"no target duration", "#EXTM3U\n#EXTINF:2,\na.ts\n", "without EXT-X-TARGETDURATION"},
		{"zero target duration", "#EXTM3U\n#EXT-X-TARGETDURATION:0\n", "zero"},
		{"negative target duration", "#EXTM3U\n#EXT-X-TARGETDURATION:-2\n", "not a number"},
		{"huge target duration", "#EXTM3U\n#EXT-X-TARGETDURATION:99999999999999999999\n", "over"},
		{"target duration over a day", "#EXTM3U\n#EXT-X-TARGETDURATION:86400.5\n", "over 24h0m0s"},
		{"bad EXTINF", head + "#EXTINF:ten,\na.ts\n", "not a number"},
		{"EXTINF with two dots", head + "#EXTINF:1.2.3,\na.ts\n", "not a number"},
		{"EXTINF of a dot", head + "#EXTINF:.,\na.ts\n", "not a number"},
		{"empty EXTINF", head + "#EXTINF:\na.ts\n", "not a number"},
		{"bad media sequence", "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n", "not a number"},
		{"media sequence too large", "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:4611686018427387905\n", "over"},
		{"URI without EXTINF", head + "a.ts\n", "without EXTINF"},
		{"EXTINF without URI", head + "#EXTINF:2,\n", "wants a URI"},
		{"STREAM-INF without URI", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", "wants a URI"},
		{"STREAM-INF and EXTINF", head + "#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXTINF:2,\na.ts\n", "before one URI"},
		{"master and media", head + "#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXTINF:2,\na.ts\n", "both"},
		{"key without method", head + "#EXT-X-KEY:URI=\"k\"\n", "no METHOD"},
		{"key with an open quote", head + "#EXT-X-KEY:URI=\"k,METHOD=NONE\n", "no METHOD"},
	}
	for _, tt := range tests {
		var p Playlist
		err := Parse(&p, []byte(tt.in))
		if !errors.Is(err, ErrBadPlaylist) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one with %q", tt.name, err, tt.want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-TARGETDURATION:1\n")
	for i := range MaxSegments {
		fmt.Fprintf(&b, "#EXTINF:1,\n%d.ts\n", i)
	}
	var p Playlist
	if err := Parse(&p, []byte(b.String())); err != nil || len(p.Segments) != MaxSegments {
		t.Fatalf("%d segments: %v", len(p.Segments), err)
	}
	if p.LastSequence() != MaxSegments-1 {
		t.Errorf("last sequence %d", p.LastSequence())
	}
	b.WriteString("#EXTINF:1,\none-more.ts\n")
	if err := Parse(&p, []byte(b.String())); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("one segment too many: %v", err)
	}
	b.Reset()
	b.WriteString("#EXTM3U\n")
	for range MaxVariants + 1 {
		b.WriteString("#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n")
	}
	if err := Parse(&p, []byte(b.String())); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("one variant too many: %v", err)
	}
}

// A player parses its playlist every few seconds into the same Playlist:
// that must leave nothing of the previous one and allocate nothing.
func TestParseReuses(t *testing.T) {
	var p Playlist
	if err := Parse(&p, []byte(srsMaster)); err != nil {
		t.Fatal(err)
	}
	if err := Parse(&p, []byte(castdLive+"#EXT-X-ENDLIST\n")); err != nil {
		t.Fatal(err)
	}
	if err := Parse(&p, []byte("#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\nz.ts\n")); err != nil {
		t.Fatal(err)
	}
	want := Playlist{TargetDuration: 3 * time.Second, Segments: []Segment{{Duration: 3 * time.Second, URI: []byte("z.ts")}}}
	if !samePlaylist(&p, &want) {
		t.Errorf("got %s", show(&p))
	}
	live := []byte(castdLive)
	if allocs := testing.AllocsPerRun(100, func() {
		if err := Parse(&p, live); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("%v allocations per parse", allocs)
	}
}

func samePlaylist(a, b *Playlist) bool {
	return a.TargetDuration == b.TargetDuration && a.MediaSequence == b.MediaSequence && a.EndList == b.EndList &&
		len(a.Segments) == len(b.Segments) && len(a.Variants) == len(b.Variants) &&
		(len(a.Segments) == 0 || reflect.DeepEqual(a.Segments, b.Segments)) &&
		(len(a.Variants) == 0 || reflect.DeepEqual(a.Variants, b.Variants))
}

func show(p *Playlist) string {
	var b strings.Builder
	fmt.Fprintf(&b, "target %v seq %d end %v", p.TargetDuration, p.MediaSequence, p.EndList)
	for _, s := range p.Segments {
		fmt.Fprintf(&b, " [%v %q disc=%v enc=%v]", s.Duration, s.URI, s.Discontinuity, s.Encrypted)
	}
	for _, v := range p.Variants {
		fmt.Fprintf(&b, " variant %q", v)
	}
	return b.String()
}

// FuzzParse feeds arbitrary playlists to the parser: it must never panic,
// what it accepts must be consistent, and parsing into a used Playlist must
// give what parsing into a new one gives.
func FuzzParse(f *testing.F) {
	f.Add([]byte(castdLive))
	f.Add([]byte(srsMaster))
	f.Add([]byte("#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXT-X-KEY:METHOD=AES-128,URI=\"k.key\"\r\n#EXTINF:2,\r\na.ts\r\n#EXT-X-ENDLIST\r\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:0.5\n#EXT-X-MEDIA-SEQUENCE:4611686018427387904\n#EXTINF:.25,\nx.ts\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n"))
	used := &Playlist{}
	_ = Parse(used, []byte(castdLive))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fresh Playlist
		err := Parse(&fresh, data)
		if err2 := Parse(used, data); (err == nil) != (err2 == nil) || (err == nil && !samePlaylist(&fresh, used)) {
			t.Fatalf("fresh %s (%v), reused %s (%v)", show(&fresh), err, show(used), err2)
		}
		if err != nil {
			if !errors.Is(err, ErrBadPlaylist) {
				t.Fatalf("error %v does not wrap ErrBadPlaylist", err)
			}
			return
		}
		if (!fresh.IsMaster() && fresh.TargetDuration <= 0) || (fresh.IsMaster() && len(fresh.Segments) > 0) {
			t.Fatalf("master and media at once: %s", show(&fresh))
		}
		if fresh.TargetDuration > MaxDuration || fresh.MediaSequence < 0 || fresh.MediaSequence > MaxMediaSequence {
			t.Fatalf("out of range: %s", show(&fresh))
		}
		for _, s := range append(fresh.Segments, Segment{URI: []byte("x")}) {
			if s.Duration < 0 || s.Duration > MaxDuration || len(s.URI) == 0 || s.URI[0] == '#' ||
				strings.TrimSpace(string(s.URI)) != string(s.URI) {
				t.Fatalf("bad segment %+v", s)
			}
		}
		for _, v := range fresh.Variants {
			if len(v) == 0 || v[0] == '#' {
				t.Fatalf("bad variant %q", v)
			}
		}
	})
}
