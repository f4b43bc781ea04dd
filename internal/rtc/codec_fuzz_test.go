package rtc

import (
	"bytes"
	"testing"

	"github.com/castd/castd/internal/av"
)

// encodeFuzzPackets writes packets in the fuzz input form of
// FuzzH264Depacketizer: a 2-byte length, a flags byte (bit 0 the marker,
// bit 1 a loss before the packet, bit 2 a new timestamp), the payload.
func encodeFuzzPackets(dst []byte, payloads [][]byte, newTimestamp bool) []byte {
	for i, p := range payloads {
		flags := byte(0)
		if i == len(payloads)-1 {
			flags |= 1
		}
		if i == 0 && newTimestamp {
			flags |= 4
		}
		dst = append(dst, byte(len(p)>>8), byte(len(p)), flags)
		dst = append(dst, p...)
	}
	return dst
}

// addCodecSeeds seeds a fuzz target with the first frames of a codec's
// test video as pion packetizes them, one frame and two.
func addCodecSeeds(f *testing.F, codec av.Codec) {
	c, _ := codecCaseOf(codec)
	frames := testVideo(f, codec)
	pay := c.payloader()
	var two []byte
	for i, fr := range frames[:2] {
		data := fr.data
		if codec == av.CodecH265 {
			data = stripAUD(f, data)
		}
		one := encodeFuzzPackets(nil, pay.Payload(rtpMaxPayload, data), i > 0)
		if i == 0 {
			f.Add(one)
		}
		two = append(two, one...)
	}
	f.Add(two)
}

// fuzzDepacketizer feeds the fuzz input to a depacketizer of codec and
// checks every frame it gives: within the limits, with non-empty units,
// and the same again after castd's own packetizer and depacketizer
// (repacketize returns no payloads for frames it cannot send).
func fuzzDepacketizer(t *testing.T, codec av.Codec, in []byte, repacketize func(units [][]byte) [][]byte) {
	vc, _ := videoCodecOf(codec)
	d := newDepacketizer(vc.newFormat(), func() {})
	var frames []*videoFrame
	ts := uint32(0)
	for seq := uint16(0); len(in) >= 3; seq++ {
		n := int(in[0])<<8 | int(in[1])
		flags := in[2]
		in = in[3:]
		n = min(n, len(in))
		if flags&2 != 0 {
			d.lost()
		}
		if flags&4 != 0 {
			ts += 3000
		}
		frames, _ = d.push(rtpPacket{seq: seq, timestamp: ts, marker: flags&1 != 0, payload: in[:n]}, frames[:0])
		in = in[n:]
		for _, fr := range frames {
			size := 0
			for _, u := range fr.units {
				if len(u) == 0 {
					t.Fatal("empty unit in a frame")
				}
				size += len(u)
			}
			if size > maxFrameBytes || len(fr.units) > maxFrameNALUs {
				t.Fatalf("frame of %d bytes, %d units over the limits", size, len(fr.units))
			}
			payloads := repacketize(fr.units)
			if len(payloads) == 0 {
				continue
			}
			for _, p := range payloads {
				if len(p) > rtpMaxPayload {
					t.Fatalf("a %d-byte payload", len(p))
				}
			}
			back := &depacketizer{format: vc.newFormat()}
			var got []*videoFrame
			var err error
			for _, p := range rtpPacketsOf(payloads, 0, 1) {
				if got, err = back.push(p, got); err != nil {
					break
				}
			}
			if err != nil || len(got) != 1 || !bytes.Equal(joinUnits(got[0].units), joinUnits(fr.units)) {
				t.Fatalf("re-packetized frame does not come back: %v, %d frames", err, len(got))
			}
		}
	}
}

func FuzzVP8Depacketizer(f *testing.F) {
	addCodecSeeds(f, av.CodecVP8)
	f.Add([]byte{0, 2, 0, 0x10, 1, 0, 2, 1, 0x00, 2})
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzDepacketizer(t, av.CodecVP8, in, func(units [][]byte) [][]byte {
			var p vp8Packetizer
			out, _, _ := p.frame(nil, units[0], false)
			return out
		})
	})
}

func FuzzVP9Depacketizer(f *testing.F) {
	addCodecSeeds(f, av.CodecVP9)
	f.Add([]byte{0, 3, 0, 0x88, 0x80, 0x82, 0, 2, 1, 0x04, 0x49})
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzDepacketizer(t, av.CodecVP9, in, func(units [][]byte) [][]byte {
			if len(units) != 1 {
				return nil // layers go to the hub as a superframe, checked in the tests
			}
			var p vp9Packetizer
			out, _, _ := p.frame(nil, units[0], false)
			return out
		})
	})
}

func FuzzAV1Depacketizer(f *testing.F) {
	addCodecSeeds(f, av.CodecAV1)
	f.Add([]byte{0, 3, 0, 0x50, 0x30, 0x01, 0, 2, 1, 0x90, 0x02})
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzDepacketizer(t, av.CodecAV1, in, func(units [][]byte) [][]byte {
			var p av1Packetizer
			out, _, _ := p.frame(nil, joinUnits(units), false)
			return out
		})
	})
}

func FuzzH265Depacketizer(f *testing.F) {
	addCodecSeeds(f, av.CodecH265)
	f.Add([]byte{0, 4, 0, 0x62, 0x01, 0x80 | 20, 0xaf, 0, 4, 1, 0x62, 0x01, 0x40 | 20, 0xb0})
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzDepacketizer(t, av.CodecH265, in, func(units [][]byte) [][]byte {
			for _, u := range units {
				if len(u) < 3 || u[0]&0x80 != 0 || h265Type(u) >= h265AP {
					return nil // not a unit the packetizer sends again
				}
			}
			return packetizeH265(nil, units, rtpMaxPayload, false)
		})
	})
}

// FuzzVideoPacketizers gives each codec's relay packetizer what an RTMP
// publisher may send: any sequence header and frame bodies. Payloads must
// stay under the MTU and castd's depacketizer must take them.
func FuzzVideoPacketizers(f *testing.F) {
	for _, c := range []av.Codec{av.CodecVP8, av.CodecVP9, av.CodecAV1, av.CodecH265} {
		frames := testVideo(f, c)
		vc, _ := videoCodecOf(c)
		cc, _ := codecCaseOf(c)
		data := frames[0].data
		if c == av.CodecH265 {
			data = stripAUD(f, data)
		}
		got := depacketizeAll(f, newDepacketizer(vc.newFormat(), nil), rtpPacketsOf(cc.payloader().Payload(rtpMaxPayload, data), 0, 0))
		if len(got) != 1 {
			f.Fatalf("%s seed frame did not depacketize", c)
		}
		header, body, _, err := vc.newIngest().tags(got[0])
		if err != nil || header == nil {
			f.Fatalf("%s seed: no sequence header: %v", c, err)
		}
		f.Add(byte(c), header[5:], body[5:], true)
	}
	f.Fuzz(func(t *testing.T, codec byte, header, body []byte, key bool) {
		vc, ok := videoCodecOf(av.Codec(codec))
		if !ok {
			return
		}
		p := vc.newPacketizer(packetizerOptions{keepSEI: true, keepBFrames: true})
		p.sequenceHeader(header)
		payloads, _, send := p.frame(nil, body, key)
		if !send {
			return
		}
		for _, pl := range payloads {
			if len(pl) > rtpMaxPayload || len(pl) == 0 {
				t.Fatalf("a %d-byte payload", len(pl))
			}
		}
		d := &depacketizer{format: vc.newFormat()}
		for _, pk := range rtpPacketsOf(payloads, 0, 0) {
			if _, err := d.push(pk, nil); err != nil {
				t.Fatalf("castd cannot depacketize its own %s packets: %v", vc.codec, err)
			}
		}
	})
}

// FuzzVideoHeaders parses key frame headers and sequence headers and
// checks the records castd makes of them parse in av.
func FuzzVideoHeaders(f *testing.F) {
	for _, c := range []av.Codec{av.CodecVP8, av.CodecVP9, av.CodecAV1} {
		frames := testVideo(f, c)
		f.Add(frames[0].data)
		f.Add(frames[1].data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := parseVP9FrameHeader(b); err == nil && h.keyframe {
			if h.width < 1 || h.height < 1 {
				t.Fatalf("VP9 key frame of %dx%d", h.width, h.height)
			}
			if rec := h.config().record(); len(rec) != 8 {
				t.Fatal("VP9 record size")
			}
		}
		if k, ok := parseVP8KeyFrame(b); ok && (k.width < 1 || k.height < 1) {
			t.Fatalf("VP8 key frame of %dx%d", k.width, k.height)
		}
		if frames, err := splitVP9Superframe(b); err == nil {
			total := 0
			for _, fr := range frames {
				total += len(fr)
			}
			if total > len(b) {
				t.Fatalf("superframe of %d bytes split into %d", len(b), total)
			}
		}
		if obus, err := splitOBUs(b); err == nil {
			for _, o := range obus {
				if o.typ != obuSequenceHeader {
					continue
				}
				if rec, err := av1Config(o); err == nil {
					if _, err := av.ParseAV1Config(rec); err != nil {
						t.Fatalf("av cannot parse castd's AV1 config %x: %v", rec, err)
					}
				}
			}
		}
	})
}

// FuzzHEVCConfig builds records from any parameter sets: av must parse
// every record castd makes, with the same parameter sets.
func FuzzHEVCConfig(f *testing.F) {
	nalus, err := av.SplitAnnexB(testVideo(f, av.CodecH265)[0].data)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(nalus[1], nalus[2], nalus[3])
	f.Fuzz(func(t *testing.T, vps, sps, pps []byte) {
		rec, err := hevcConfig(vps, sps, pps)
		if err != nil {
			return
		}
		c, err := av.ParseHEVCConfig(rec)
		if err != nil {
			t.Fatalf("av cannot parse castd's HEVC config: %v", err)
		}
		if len(c.SPS) != 1 || !bytes.Equal(c.SPS[0], sps) {
			t.Fatal("the record's SPS differs")
		}
	})
}
