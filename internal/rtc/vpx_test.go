package rtc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
)

// Payload descriptors from RFC 7741 4.2: what follows them is the data.
func TestParseVP8Descriptor(t *testing.T) {
	cases := []struct {
		name   string
		in     []byte
		data   string
		start  bool
		errHas string
	}{
		{"minimal, frame start", []byte{0x10, 'a'}, "a", true, ""},
		{"continuation", []byte{0x00, 'b'}, "b", false, ""},
		{"partition 1 is not a frame start", []byte{0x11, 'c'}, "c", false, ""},
		{"7-bit picture ID", []byte{0x90, 0x80, 0x05, 'd'}, "d", true, ""},
		{"15-bit picture ID", []byte{0x90, 0x80, 0x81, 0x02, 'e'}, "e", true, ""},
		{"picture ID, TL0PICIDX, TID", []byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x40, 'f'}, "f", true, ""},
		{"KEYIDX alone", []byte{0x80, 0x10, 0x1f, 'g'}, "g", false, ""},
		{"empty", nil, "", false, "empty"},
		{"extension missing", []byte{0x80}, "", false, "extension"},
		{"picture ID missing", []byte{0x90, 0x80}, "", false, "picture ID"},
		{"15-bit picture ID cut", []byte{0x90, 0x80, 0x81}, "", false, "truncated"},
		{"TL0PICIDX cut", []byte{0x90, 0x40}, "", false, "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, start, err := parseVP8Descriptor(c.in)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err = %v, want one mentioning %q", err, c.errHas)
				}
				return
			}
			if err != nil || string(data) != c.data || start != c.start {
				t.Fatalf("data %q start %v err %v; want %q %v", data, start, err, c.data, c.start)
			}
		})
	}
}

func TestVP8KeyFrameAndConfig(t *testing.T) {
	frames := testVideo(t, av.CodecVP8)
	k, ok := parseVP8KeyFrame(frames[0].data)
	if !ok || k.width != 320 || k.height != 240 || k.version != 0 {
		t.Fatalf("key frame header %+v %v, want 320x240 version 0", k, ok)
	}
	if _, ok := parseVP8KeyFrame(frames[1].data); ok {
		t.Fatal("an inter frame read as a key frame")
	}
	bad := bytes.Clone(frames[0].data)
	bad[4] = 0 // start code
	if _, ok := parseVP8KeyFrame(bad); ok {
		t.Fatal("a key frame without its start code was accepted")
	}
	if _, ok := parseVP8KeyFrame(frames[0].data[:9]); ok {
		t.Fatal("a truncated key frame header was accepted")
	}
	// 320x240 is over level 1.1's 73728 samples: level 2. 8 bits, 4:2:0
	// (0), limited range, unspecified colours, no initialization data.
	ing := &vpxIngest{codec: av.CodecVP8}
	if _, _, ready, _ := ing.tags(&videoFrame{units: [][]byte{frames[1].data}}); ready {
		t.Fatal("a frame before any key frame must wait")
	}
	header, frame, ready, err := ing.tags(&videoFrame{units: [][]byte{frames[0].data}, keyframe: true})
	if err != nil || !ready || frame == nil {
		t.Fatalf("key frame: ready %v, %v", ready, err)
	}
	want := append([]byte{0x90, 'v', 'p', '0', '8'}, 0, 20, 0x80, 2, 2, 2, 0, 0)
	if !bytes.Equal(header, want) {
		t.Fatalf("sequence start %x, want %x", header, want)
	}
	if header, _, _, _ = ing.tags(&videoFrame{units: [][]byte{frames[25].data}, keyframe: true}); header != nil {
		t.Fatal("the same configuration twice must give one sequence start")
	}
}

// Descriptors from RFC 9628 4.2, in flexible and non-flexible mode.
func TestParseVP9Descriptor(t *testing.T) {
	ss := []byte{0x18, 0x01, 0x40, 0x00, 0xf0, 0x01, 0x14, 0x01} // 1 layer 320x240, 1 picture, 1 ref
	cases := []struct {
		name       string
		in         []byte
		data       string
		begin, end bool
		errHas     string
	}{
		{"begin and end", []byte{0x0c, 'a'}, "a", true, true, ""},
		{"middle", []byte{0x40, 'b'}, "b", false, false, ""},
		{"15-bit picture ID", []byte{0x88, 0x81, 0x02, 'c'}, "c", true, false, ""},
		{"layer indices, non-flexible", []byte{0xa4, 0x05, 0x20, 0x07, 'd'}, "d", false, true, ""},
		{"flexible, two references", []byte{0xdc, 0x05, 0x02 | 1, 0x04, 'e'}, "e", true, true, ""},
		{"scalability structure", append([]byte{0x8a, 0x81, 0x02}, append(ss, 'f')...), "f", true, false, ""},
		{"empty", nil, "", false, false, "empty"},
		{"picture ID cut", []byte{0x88}, "", false, false, "truncated"},
		{"four references", []byte{0xd0, 0x05, 3, 3, 3, 2, 'x'}, "", false, false, "3 reference"},
		{"references cut", []byte{0xd0, 0x05, 3}, "", false, false, "truncated"},
		{"scalability structure cut", append([]byte{0x0a}, ss[:4]...), "", false, false, "scalability"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, data, err := parseVP9Descriptor(c.in)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err = %v, want one mentioning %q", err, c.errHas)
				}
				return
			}
			if err != nil || string(data) != c.data || d.begin != c.begin || d.end != c.end {
				t.Fatalf("data %q %+v err %v; want %q begin %v end %v", data, d, err, c.data, c.begin, c.end)
			}
		})
	}
}

func TestVP9FrameHeaderAndConfig(t *testing.T) {
	frames := testVideo(t, av.CodecVP9)
	h, err := parseVP9FrameHeader(frames[0].data)
	if err != nil || !h.keyframe || h.profile != 0 || h.bitDepth != 8 || h.width != 320 || h.height != 240 || !h.subX || !h.subY {
		t.Fatalf("key frame header %+v, %v", h, err)
	}
	// libvpx marks the colour space unknown (0): the matrix stays unspecified.
	if want := []byte{0, 20, 0x80, 2, 2, 2, 0, 0}; h.colorSpace != 0 || !bytes.Equal(h.config().record(), want) {
		t.Fatalf("colour space %d, record %x, want 0 and %x", h.colorSpace, h.config().record(), want)
	}
	if h, err := parseVP9FrameHeader(frames[1].data); err != nil || h.keyframe {
		t.Fatalf("inter frame header %+v, %v", h, err)
	}
	cases := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"bad frame marker", []byte{0x42}},
		{"key frame without sync code", []byte{0x80, 0x00, 0x00, 0x00, 0x00}},
		{"key frame cut in its size", frames[0].data[:6]},
	}
	for _, c := range cases {
		if _, err := parseVP9FrameHeader(c.in); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	// A 10-bit profile 2 key frame: marker 2, profile bits low 0 high 1,
	// show_existing 0, key, show, not error resilient, sync code, 10 bits,
	// BT.709, full range, then 1919x1079 as minus-one sizes.
	w := &bitSink{}
	w.put(2, 2)
	w.put(0, 1)
	w.put(1, 1)
	w.put(0, 1)
	w.put(0, 1)
	w.put(1, 1)
	w.put(0, 1)
	w.put(0x498342, 24)
	w.put(0, 1)
	w.put(2, 3)
	w.put(1, 1)
	w.put(1919, 16)
	w.put(1079, 16)
	h, err = parseVP9FrameHeader(w.bytes())
	if err != nil || h.profile != 2 || h.bitDepth != 10 || h.width != 1920 || h.height != 1080 || !h.fullRange || h.colorSpace != 2 {
		t.Fatalf("profile 2 header %+v, %v", h, err)
	}
	if rec := h.config().record(); !bytes.Equal(rec, []byte{2, 40, 10<<4 | 1, 2, 2, 1, 0, 0}) {
		t.Fatalf("profile 2 record %x", rec)
	}
}

// bitSink writes MSB-first bit fields for test vectors.
type bitSink struct {
	buf []byte
	n   int
}

func (w *bitSink) put(v uint64, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		w.buf[len(w.buf)-1] |= byte(v>>uint(i)&1) << (7 - w.n%8)
		w.n++
	}
}

func (w *bitSink) bytes() []byte { return w.buf }

func TestVP9Superframes(t *testing.T) {
	frames := testVideo(t, av.CodecVP9)
	layers := [][]byte{frames[0].data, frames[1].data}
	sf := joinVP9Superframe(layers)
	if n := len(sf) - len(frames[0].data) - len(frames[1].data); n != 2+2*2 {
		t.Fatalf("index of %d bytes for two frames under 64 KB, want 6", n)
	}
	got, err := splitVP9Superframe(sf)
	if err != nil || !equalNALUs(got, layers) {
		t.Fatalf("split %d frames, %v", len(got), err)
	}
	if got, err := splitVP9Superframe(frames[2].data); err != nil || len(got) != 1 || !bytes.Equal(got[0], frames[2].data) {
		t.Fatal("a plain frame must come back as itself")
	}
	if _, err := splitVP9Superframe([]byte{0xaa, 0xc1, 0x10, 0x10, 0xc1}); err == nil {
		t.Fatal("a superframe whose sizes overrun it was accepted")
	}
	if joinVP9Superframe(layers[:1])[0] != frames[0].data[0] || len(joinVP9Superframe(layers[:1])) != len(frames[0].data) {
		t.Fatal("one layer needs no superframe")
	}
	// A superframe goes out as one picture: one frame, a key frame (its
	// first frame is), with the scalability structure on its first packet.
	var p vp9Packetizer
	payloads, key, send := p.frame(nil, sf, false)
	if !send || !key || payloads[0][0]&0x0a != 0x0a {
		t.Fatalf("send %v key %v first descriptor %x", send, key, payloads[0][0])
	}
	got2 := depacketizeAll(t, newDepacketizer(&vp9Format{}, nil), rtpPacketsOf(payloads, 0, 0))
	if len(got2) != 1 || !bytes.Equal(joinUnits(got2[0].units), sf) {
		t.Fatal("the superframe did not come back whole")
	}
	// Two spatial layers of one picture become one superframe for the hub.
	ing := &vpxIngest{codec: av.CodecVP9}
	_, body, ready, err := ing.tags(&videoFrame{units: layers, keyframe: true})
	if err != nil || !ready || !bytes.Equal(body[5:], sf) {
		t.Fatalf("ingest of two layers: ready %v, %v", ready, err)
	}
}
