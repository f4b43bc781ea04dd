package rtc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
)

func TestLEB128(t *testing.T) {
	cases := []struct {
		v   uint64
		enc []byte
	}{
		{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0x80, 0x01}}, {1200, []byte{0xb0, 0x09}},
		{1<<32 - 1, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, c := range cases {
		if got := appendLEB128(nil, c.v); !bytes.Equal(got, c.enc) {
			t.Errorf("appendLEB128(%d) = %x, want %x", c.v, got, c.enc)
		}
		if v, n, err := readLEB128(append(c.enc, 0xaa)); err != nil || v != c.v || n != len(c.enc) {
			t.Errorf("readLEB128(%x) = %d, %d, %v", c.enc, v, n, err)
		}
	}
	// A padded encoding (AV1 allows it) reads the same.
	if v, n, err := readLEB128([]byte{0x85, 0x80, 0x80, 0x00}); err != nil || v != 5 || n != 4 {
		t.Errorf("padded leb128: %d, %d, %v", v, n, err)
	}
	for _, bad := range [][]byte{nil, {0x80}, bytes.Repeat([]byte{0x80}, 9)} {
		if _, _, err := readLEB128(bad); err == nil {
			t.Errorf("readLEB128(%x) accepted", bad)
		}
	}
}

func TestAV1SequenceHeaderAndConfig(t *testing.T) {
	tu := testVideo(t, av.CodecAV1)[0].data
	obus, err := splitOBUs(tu)
	if err != nil || len(obus) < 3 || obus[0].typ != obuTemporalDelim || obus[1].typ != obuSequenceHeader {
		t.Fatalf("key frame OBUs %v, %v", obus, err)
	}
	h, err := av.ParseAV1SequenceHeader(obus[1].payload)
	if err != nil || !h.ColorKnown || h.Profile != 0 || h.Color.HighBitDepth || h.Color.Monochrome || !h.Color.SubX || !h.Color.SubY || h.ReducedStillPictureHeader {
		t.Fatalf("sequence header %+v, %v", h, err)
	}
	rec, err := av1Config(obus[1])
	if err != nil {
		t.Fatal(err)
	}
	c, err := av.ParseAV1Config(rec)
	if err != nil || c.Profile != 0 || c.Level != h.Level || c.BitDepth != 8 || !c.ChromaSubX || !c.ChromaSubY || c.Width != 320 || c.Height != 240 {
		t.Fatalf("config %+v, %v", c, err)
	}
	if !bytes.Equal(c.ConfigOBUs, obus[1].appendSized(nil)) {
		t.Fatal("configOBUs must be the sequence header OBU")
	}
	// Truncated sequence headers fail instead of reading garbage.
	for n := 0; n < len(obus[1].payload)-1; n++ {
		cut := obus[1]
		cut.payload = cut.payload[:n]
		if _, err := av1Config(cut); err == nil {
			t.Fatalf("a sequence header cut to %d bytes was accepted", n)
		}
	}
}

func TestAV1KeyFrameDetection(t *testing.T) {
	frames := testVideo(t, av.CodecAV1)
	for i, f := range frames {
		obus, err := splitOBUs(f.data)
		if err != nil {
			t.Fatal(err)
		}
		if key, _ := av1KeyFrame(obus, false); key != f.key {
			t.Errorf("frame %d: key %v, want %v", i, key, f.key)
		}
	}
	// A reduced still picture header makes every frame a key frame.
	frame := obu{typ: obuFrame, header: []byte{obuFrame<<3 | 2}, payload: []byte{0xff}}
	if key, _ := av1KeyFrame([]obu{frame}, true); !key {
		t.Fatal("reduced still picture header: not a key frame")
	}
	if key, _ := av1KeyFrame([]obu{frame}, false); key {
		t.Fatal("show_existing_frame read as a key frame")
	}
}

// Aggregation headers and OBU elements (AV1 RTP specification 4.4).
func TestAV1Depacketizer(t *testing.T) {
	seqOBU := []byte{obuSequenceHeader << 3, 0x00, 0x00, 0x00} // no size field
	frameOBU := []byte{obuFrame << 3, 0x10, 0x20}
	sized := func(b []byte) []byte { o, _, _ := parseOBU(b); return o.appendSized(nil) }
	cases := []struct {
		name   string
		pkts   [][]byte
		want   [][]byte
		errHas string
	}{
		{"two elements with lengths (W=0)", [][]byte{append(append([]byte{0x00, 4}, seqOBU...), append([]byte{3}, frameOBU...)...)},
			[][]byte{sized(seqOBU), sized(frameOBU)}, ""},
		{"W=2: the last without a length", [][]byte{append(append([]byte{0x20, 4}, seqOBU...), frameOBU...)},
			[][]byte{sized(seqOBU), sized(frameOBU)}, ""},
		{"a fragment over two packets", [][]byte{{0x50, frameOBU[0], frameOBU[1]}, {0x90, frameOBU[2]}},
			[][]byte{sized(frameOBU)}, ""},
		{"temporal delimiter and padding dropped", [][]byte{{0x00, 1, obuTemporalDelim << 3, 2, obuPadding << 3, 0xff, 3, frameOBU[0], frameOBU[1], frameOBU[2]}},
			[][]byte{sized(frameOBU)}, ""},
		{"an OBU with its own size field kept", [][]byte{{0x10, obuFrame<<3 | 2, 1, 0x77}}, [][]byte{{obuFrame<<3 | 2, 1, 0x77}}, ""},
		{"continuation without a start", [][]byte{{0x90, 1}}, nil, "start was lost"},
		{"element longer than the packet", [][]byte{{0x00, 9, 1}}, nil, "left"},
		{"Y without an element", [][]byte{{0x40}}, nil, "too short"},
		{"forbidden bit", [][]byte{{0x10, 0x80}}, nil, "forbidden"},
		{"own size disagrees with the element", [][]byte{{0x10, obuFrame<<3 | 2, 5, 0x77}}, nil, "left"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &depacketizer{format: &av1Format{}}
			var frames []*videoFrame
			var err error
			for i, p := range c.pkts {
				frames, err = d.push(rtpPacket{seq: uint16(i), marker: i == len(c.pkts)-1, payload: p}, frames)
				if err != nil {
					break
				}
			}
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err = %v, want one mentioning %q", err, c.errHas)
				}
				return
			}
			if err != nil || len(frames) != 1 || !equalNALUs(frames[0].units, c.want) {
				t.Fatalf("frames %v, %v; want units %x", frames, err, c.want)
			}
		})
	}
}

func TestAV1PacketizerAddsSequenceHeader(t *testing.T) {
	frames := testVideo(t, av.CodecAV1)
	obus, _ := splitOBUs(frames[0].data)
	rec, err := av1Config(obus[1])
	if err != nil {
		t.Fatal(err)
	}
	var p av1Packetizer
	p.sequenceHeader(rec)
	// A key frame without its sequence header gets the record's.
	var noSeq []byte
	for _, o := range obus {
		if o.typ != obuSequenceHeader {
			noSeq = o.appendSized(noSeq)
		}
	}
	payloads, key, send := p.frame(nil, noSeq, true)
	if !send || !key || payloads[0][0]&0x08 == 0 {
		t.Fatalf("send %v key %v, N %v", send, key, payloads[0][0]&0x08 != 0)
	}
	got := depacketizeAll(t, newDepacketizer(&av1Format{}, nil), rtpPacketsOf(payloads, 0, 0))
	if len(got) != 1 || !bytes.Equal(joinUnits(got[0].units), canonicalAV1(t, frames[0].data)) {
		t.Fatal("the key frame did not come back with its sequence header")
	}
	// Inter frames go as they are, without N.
	payloads, key, _ = p.frame(nil, frames[1].data, false)
	if key || payloads[0][0]&0x08 != 0 {
		t.Fatal("an inter frame went out as a new coded video sequence")
	}
}

func TestSplitOBUs(t *testing.T) {
	if _, err := splitOBUs([]byte{0x12, 0x00, 0x30, 0x01}); err == nil {
		t.Fatal("a second OBU without a size field was accepted")
	}
	if _, err := splitOBUs([]byte{0x12, 0x05, 0x00}); err == nil {
		t.Fatal("an OBU whose size overruns was accepted")
	}
	if _, err := splitOBUs([]byte{0x16}); err == nil {
		t.Fatal("an OBU cut in its extension byte was accepted")
	}
	obus, err := splitOBUs([]byte{0x12, 0x00, 0x36, 0x48, 0x01, 0xaa})
	if err != nil || len(obus) != 2 || obus[1].typ != obuFrame || !bytes.Equal(obus[1].header, []byte{0x36, 0x48}) || !bytes.Equal(obus[1].payload, []byte{0xaa}) {
		t.Fatalf("OBUs %+v, %v", obus, err)
	}
}
