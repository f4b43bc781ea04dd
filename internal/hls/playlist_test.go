package hls

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

const msec = time.Millisecond

func TestPlaylistAppend(t *testing.T) {
	k1 := &KeyRef{URI: "cam-0.key", IV: [16]byte{0: 0xab, 15: 0x01}}
	k2 := &KeyRef{URI: "cam-2.key", IV: [16]byte{15: 0x02}}
	for _, tc := range []struct {
		name string
		p    MediaPlaylist
		want string
	}{
		{
			name: "SRS's form",
			p: MediaPlaylist{MediaSequence: 7, TargetDuration: 10, Segments: []Entry{
				{Seq: 7, URI: "cam-7.ts", Duration: 10000 * msec},
				{Seq: 8, URI: "cam-8.ts", Duration: 9960 * msec, Discontinuity: true},
			}},
			want: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-TARGETDURATION:10\n" +
				"#EXTINF:10.000, no desc\ncam-7.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:9.960, no desc\ncam-8.ts\n",
		},
		{
			name: "keys: first segment, then at every change",
			p: MediaPlaylist{MediaSequence: 1, TargetDuration: 2, DiscontinuitySequence: 3, Segments: []Entry{
				{Seq: 1, URI: "a.ts", Duration: 1500 * msec, Key: k1},
				{Seq: 2, URI: "b.ts", Duration: 1500 * msec, Key: k2},
				{Seq: 3, URI: "c.ts", Duration: 1500 * msec, Key: k2},
				{Seq: 4, URI: "d.ts", Duration: 1 * msec},
			}},
			want: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXT-X-TARGETDURATION:2\n" +
				"#EXT-X-KEY:METHOD=AES-128,URI=\"cam-0.key\",IV=0xab000000000000000000000000000001\n#EXTINF:1.500, no desc\na.ts\n" +
				"#EXT-X-KEY:METHOD=AES-128,URI=\"cam-2.key\",IV=0x00000000000000000000000000000002\n#EXTINF:1.500, no desc\nb.ts\n" +
				"#EXTINF:1.500, no desc\nc.ts\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:0.001, no desc\nd.ts\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(tc.p.Append(nil))
			if got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
			back, err := ParseMediaPlaylist([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			back.Version = 0
			if !reflect.DeepEqual(*back, tc.p) {
				t.Fatalf("round trip:\n%+v\n%+v", *back, tc.p)
			}
		})
	}
}

func TestTargetDuration(t *testing.T) {
	for _, tc := range []struct {
		durs  []time.Duration
		floor time.Duration
		want  int
	}{
		{nil, 10 * time.Second, 10},
		{[]time.Duration{9960 * msec, 10 * time.Second}, 10 * time.Second, 10},
		{[]time.Duration{10001 * msec}, 10 * time.Second, 11},
		{[]time.Duration{1023 * msec}, time.Second, 2},
		{[]time.Duration{500 * msec}, 1500 * msec, 2},
	} {
		var segs []Entry
		for _, d := range tc.durs {
			segs = append(segs, Entry{Duration: d})
		}
		if got := targetDuration(segs, tc.floor); got != tc.want {
			t.Errorf("targetDuration(%v, %v) = %d, want %d", tc.durs, tc.floor, got, tc.want)
		}
	}
}

func TestParseMediaPlaylistErrors(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"no header", "#EXTINF:1,\na.ts\n"},
		{"uri without extinf", "#EXTM3U\na.ts\n"},
		{"extinf at the end", "#EXTM3U\n#EXTINF:1,\n"},
		{"bad duration", "#EXTM3U\n#EXTINF:abc,\na.ts\n"},
		{"negative duration", "#EXTM3U\n#EXTINF:-1,\na.ts\n"},
		{"bad sequence", "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n"},
		{"key without uri", "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128\n"},
		{"key method", "#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"k\"\n"},
		{"short iv", "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x1234\n"},
		{"unterminated quote", "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\n"},
		{"too large", "#EXTM3U\n" + strings.Repeat("#", MaxPlaylistSize)},
	} {
		if _, err := ParseMediaPlaylist([]byte(tc.in)); !errors.Is(err, ErrBadPlaylist) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	p, err := ParseMediaPlaylist([]byte("#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXT-X-UNKNOWN:1\r\n\r\n#EXTINF:1.5,\r\na.ts\r\n"))
	if err != nil || len(p.Segments) != 1 || p.Segments[0].Duration != 1500*msec || p.Segments[0].URI != "a.ts" {
		t.Fatalf("CRLF playlist: %+v, %v", p, err)
	}
}

func TestAddSession(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"#EXTM3U\n#EXTINF:1.000, no desc\ncam-0.ts\n", "#EXTM3U\n#EXTINF:1.000, no desc\ncam-0.ts?hls_ctx=abc\n"},
		{"#EXTINF:1,\ncam-0.ts?token=1\n", "#EXTINF:1,\ncam-0.ts?token=1&hls_ctx=abc\n"},
		{"#EXTINF:1,\r\nhttp://cdn/live/cam-0.ts\r\n", "#EXTINF:1,\r\nhttp://cdn/live/cam-0.ts?hls_ctx=abc\r\n"},
		{"#EXTINF:1,\ncam-0.ts#frag\n", "#EXTINF:1,\ncam-0.ts?hls_ctx=abc#frag\n"},
		{"#EXT-X-KEY:METHOD=AES-128,URI=\"k.key\"\n\n#EXTINF:1,\na.ts", "#EXT-X-KEY:METHOD=AES-128,URI=\"k.key\"\n\n#EXTINF:1,\na.ts?hls_ctx=abc"},
	} {
		if got := string(addSession([]byte(tc.in), "abc")); got != tc.want {
			t.Errorf("addSession(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSessionURL(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"/live/cam.m3u8", "/live/cam.m3u8?hls_ctx=id1"},
		{"/live/cam.m3u8?token=x&b=2", "/live/cam.m3u8?hls_ctx=id1&token=x&b=2"},
		{"/live/cam.m3u8?hls_ctx=old&token=x", "/live/cam.m3u8?hls_ctx=id1&token=x"},
		{"/live/a%20b.m3u8?hls_ctx", "/live/a%20b.m3u8?hls_ctx=id1"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := sessionURL(u, "id1"); got != tc.want {
			t.Errorf("sessionURL(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
	for s, want := range map[string]bool{"abc123": true, "A-b_9": true, "": false, "a b": false, "a&b": false, strings.Repeat("x", 65): false, "é": false} {
		if validCtx(s) != want {
			t.Errorf("validCtx(%q) = %v", s, !want)
		}
	}
}
