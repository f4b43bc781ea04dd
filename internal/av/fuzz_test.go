package av

import (
	"bytes"
	"testing"
)

// Fuzz targets: every parser must return an error, never panic or hang, on
// any input, and what it accepts must be self-consistent. Seeds are the real
// samples the table tests use.

func seedH264SPS(f *testing.F) {
	for _, tt := range h264SequenceHeaders {
		body := mustHex(f, tt.tag)
		c, err := ParseAVCConfig(body[5:])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c.SPS[0])
	}
	f.Add(craftedHighSPS())
	f.Add(craftedSeparatePlanesSPS())
	f.Add(craftedMonochromeFieldSPS())
}

func FuzzH264SPS(f *testing.F) {
	seedH264SPS(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseH264SPS(b)
		if err != nil {
			return
		}
		if s.Width <= 0 || s.Height <= 0 || s.Width > maxMBDimension*16 || s.Height > maxMBDimension*32 {
			t.Fatalf("accepted size %dx%d", s.Width, s.Height)
		}
		if fps := s.FrameRate(); fps < 0 {
			t.Fatalf("frame rate %v", fps)
		}
	})
}

func FuzzAVCConfig(f *testing.F) {
	for _, tt := range h264SequenceHeaders {
		f.Add(mustHex(f, tt.tag)[5:])
	}
	f.Add(mustHex(f, "0142c01efde20002 6742 0003 674201 01 0002 68ce"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseAVCConfig(b)
		if err != nil {
			return
		}
		if c.NALULengthSize != 1 && c.NALULengthSize != 2 && c.NALULengthSize != 4 {
			t.Fatalf("length size %d", c.NALULengthSize)
		}
		total := 0
		for _, set := range append(c.SPS, c.PPS...) {
			if len(set) == 0 {
				t.Fatal("empty parameter set accepted")
			}
			total += len(set) + 2
		}
		if total > len(b) {
			t.Fatalf("parameter sets hold %d bytes of a %d-byte record", total, len(b))
		}
	})
}

func FuzzHEVCConfig(f *testing.F) {
	for _, tt := range hevcConfigs {
		f.Add(mustHex(f, tt.record))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseHEVCConfig(b)
		if err != nil {
			return
		}
		if c.NALULengthSize == 3 || c.BitDepthLuma < 8 || c.BitDepthLuma > 15 {
			t.Fatalf("config %+v", c)
		}
		for _, n := range append(append(append(c.VPS, c.SPS...), c.PPS...), c.SEI...) {
			if len(n) == 0 || len(n) > len(b) {
				t.Fatalf("NAL unit of %d bytes from %d", len(n), len(b))
			}
		}
	})
}

func FuzzH265SPS(f *testing.F) {
	for _, tt := range hevcConfigs {
		c, err := ParseHEVCConfig(mustHex(f, tt.record))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c.SPS[0])
	}
	f.Add(craftedH265SPS(3, 3, 3840, 2176, [4]uint32{2, 2, 0, 16}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseH265SPS(b)
		if err != nil {
			return
		}
		if s.Width <= 0 || s.Height <= 0 || s.Width > s.CodedWidth || s.Height > s.CodedHeight || s.CodedWidth > maxPicDimension {
			t.Fatalf("accepted %+v", s)
		}
	})
}

func FuzzAV1Config(f *testing.F) {
	f.Add(mustHex(f, "81010c000a0b0000000cc4ff6736be4010"))
	f.Add(mustHex(f, "81054c000a0b0000002d4d55bfccaf9404"))
	seq := craftedAV1SequenceHeader(1920, 1080)
	f.Add(cat(mustHex(f, "815fec00 1200 0e00"), []byte{byte(len(seq))}, seq))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseAV1Config(b)
		if err != nil {
			return
		}
		if c.BitDepth != 8 && c.BitDepth != 10 && c.BitDepth != 12 || c.Width < 0 || c.Width > 1<<16 {
			t.Fatalf("accepted %+v", c)
		}
	})
}

func FuzzAudioSpecificConfig(f *testing.F) {
	for _, s := range []string{"139056e500", "121056e500", "118856e500", "11b056e500", "0a1056e500", "2b118800", "eb098800", "11b8", "f8"} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseAudioSpecificConfig(b)
		if err != nil {
			return
		}
		if c.SampleRate <= 0 || c.OutputSampleRate <= 0 || c.Channels < 0 {
			t.Fatalf("accepted %+v", c)
		}
		// Whatever was accepted must make a parseable ADTS header.
		h := c.ADTSHeader(100)
		back, err := ParseADTSHeader(h[:])
		if err != nil || back.FrameLength != 107 {
			t.Fatalf("ADTS header %x of %+v: %+v, %v", h, c, back, err)
		}
	})
}

func FuzzADTSHeader(f *testing.F) {
	f.Add(mustHex(f, "fff150802b3ffc"))
	f.Add(mustHex(f, "fff050802b3ffc0000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseADTSHeader(b)
		if err != nil {
			return
		}
		if fr.FrameLength < fr.HeaderLength || fr.Config.SampleRate <= 0 {
			t.Fatalf("accepted %+v", fr)
		}
		asc, err := fr.Config.AudioSpecificConfig()
		if err != nil {
			if fr.Config.ChannelConfig != 0 {
				t.Fatalf("no ASC for %+v: %v", fr.Config, err)
			}
			return // channel configuration 0 needs a PCE
		}
		c, err := ParseAudioSpecificConfig(asc)
		if err != nil || c.SampleRate != fr.Config.SampleRate || c.ChannelConfig != fr.Config.ChannelConfig || c.ObjectType != fr.Config.ObjectType {
			t.Fatalf("ASC %x from %+v parses as %+v, %v", asc, fr.Config, c, err)
		}
	})
}

func FuzzMP3Header(f *testing.F) {
	for _, s := range []string{"fffbb400", "fffb9064", "fff340c4", "fff342c4", "ffe338c0", "fffdc480", "fffe4200", "fff7e800", "fffb0400"} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseMP3Header(b)
		if err != nil {
			return
		}
		if h.SampleRate < 8000 || h.SampleRate > 48000 || h.Channels < 1 || h.Channels > 2 || h.Samples == 0 {
			t.Fatalf("accepted %+v", h)
		}
		if h.Bitrate > 0 && h.FrameLength < 4 {
			t.Fatalf("frame length %d shorter than its header", h.FrameLength)
		}
	})
}

func FuzzFLVVideoTag(f *testing.F) {
	f.Add(mustHex(f, h264SequenceHeaders[0].tag))
	f.Add(mustHex(f, tinyH264Keyframe))
	f.Add(mustHex(f, "5700"))
	f.Add(cat([]byte{0x90}, []byte("hvc1"), mustHex(f, hevcConfigs[0].record)))
	f.Add(cat(mustHex(f, "97 02 000f42 01"), []byte("hvc1"), mustHex(f, "000000 ab")))
	f.Add(cat(mustHex(f, "96 01"), []byte("avc1"), mustHex(f, "02 000010 ff")))
	f.Add(cat([]byte{0x90}, []byte("av01"), mustHex(f, "81010c000a0b0000000cc4ff6736be4010")))
	f.Fuzz(func(t *testing.T, b []byte) {
		tag, err := ParseFLVVideoTag(b)
		p, perr := NewPacket(KindVideo, 0, b)
		if (err == nil) != (perr == nil) {
			t.Fatalf("ParseFLVVideoTag error %v but NewPacket error %v", err, perr)
		}
		if err != nil {
			return
		}
		if tag.PayloadOffset < 1 || tag.PayloadOffset > len(b) {
			t.Fatalf("payload offset %d of %d bytes", tag.PayloadOffset, len(b))
		}
		if p.SequenceHeader != tag.IsSequenceHeader() || p.Keyframe != tag.IsKeyframe() || p.Codec != tag.Codec {
			t.Fatalf("packet %+v disagrees with tag %+v", p, tag)
		}
		if p.SequenceHeader {
			_, _ = VideoInfoFromSequenceHeader(p) // must not panic on any body
		}
	})
}

func FuzzFLVAudioTag(f *testing.F) {
	for _, s := range []string{"af00121056e500", "af01de02", "2ffffb9064", "e2ffe338c0", "d200", "3a0000", "af00eb098800"} {
		f.Add(mustHex(f, s))
	}
	f.Add(cat([]byte{0x90}, []byte("mp4a"), mustHex(f, "1210")))
	f.Add(cat(mustHex(f, "97 02 000010 01"), []byte("Opus"), mustHex(f, "fc")))
	f.Add(cat(mustHex(f, "95 00"), []byte("mp4a"), mustHex(f, "01 1210")))
	f.Add(cat([]byte{0x90}, []byte("Opus"), []byte("OpusHead"), mustHex(f, "01 02 3801 80bb0000 0000 00")))
	f.Fuzz(func(t *testing.T, b []byte) {
		tag, err := ParseFLVAudioTag(b)
		p, perr := NewPacket(KindAudio, 0, b)
		if (err == nil) != (perr == nil) {
			t.Fatalf("ParseFLVAudioTag error %v but NewPacket error %v", err, perr)
		}
		if err != nil {
			return
		}
		if tag.PayloadOffset < 1 || tag.PayloadOffset > len(b) {
			t.Fatalf("payload offset %d of %d bytes", tag.PayloadOffset, len(b))
		}
		if p.SequenceHeader != tag.IsSequenceHeader() || p.Codec != tag.Codec {
			t.Fatalf("packet %+v disagrees with tag %+v", p, tag)
		}
		if info, err := AudioInfoFromPacket(p); err == nil && (info.SampleRate < 0 || info.Channels < 0) {
			t.Fatalf("audio info %+v", info)
		}
	})
}

func FuzzAnnexB(f *testing.F) {
	f.Add(mustHex(f, tinyH265AnnexB))
	f.Add(mustHex(f, "0000 00000001 09f0 000001 6588 00000001 4101"))
	f.Add(mustHex(f, "000001 000001 00000001 6588 0000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		nalus, err := SplitAnnexB(b)
		if err == nil {
			for _, n := range nalus {
				if len(n) == 0 || n[len(n)-1] == 0 || bytes.Contains(n, []byte{0, 0, 1}) {
					t.Fatalf("bad unit %x", n)
				}
			}
			again, err := SplitAVCC(AppendAVCC(nil, nalus...), 4)
			if err != nil || len(again) != len(nalus) {
				t.Fatalf("AVCC round trip: %d units of %d, %v", len(again), len(nalus), err)
			}
		}
		// The same bytes read as AVCC with each length size.
		for _, size := range []int{1, 2, 4} {
			units, err := SplitAVCC(b, size)
			if err != nil {
				continue
			}
			annexB, err := AVCCToAnnexB(nil, b, size)
			if err != nil || len(annexB) != len(b)+len(units)*(4-size)-zeroLengthUnits(b, size)*size {
				t.Fatalf("AVCCToAnnexB size %d: %d bytes from %d, %v", size, len(annexB), len(b), err)
			}
		}
	})
}

// zeroLengthUnits counts the empty units that SplitAVCC skips in a valid frame.
func zeroLengthUnits(b []byte, size int) int {
	n := 0
	for p := 0; p+size <= len(b); {
		l := 0
		for _, c := range b[p : p+size] {
			l = l<<8 | int(c)
		}
		if l == 0 {
			n++
		}
		p += size + l
	}
	return n
}

func FuzzSEI(f *testing.F) {
	body := mustHex(f, tinyH264Keyframe)
	nalus, err := SplitAVCC(body[5:], 4)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(nalus[0], []byte("stamp"))
	f.Add(mustHex(f, "06 06 01 84 05 11 00112233445566778899aabbccddeeff 42 80"), []byte{0, 0, 1, 0, 0, 3})
	f.Add(mustHex(f, "4e01 05 14 0000 03 0001 0000 03 02 aabbccddeeff112233 0000 03 03 09 80"), []byte{})
	f.Fuzz(func(t *testing.T, nalu, data []byte) {
		for _, codec := range []Codec{CodecH264, CodecH265} {
			msgs, _ := ParseSEI(codec, nalu)
			for _, m := range msgs {
				if len(m.Payload) > len(nalu) {
					t.Fatalf("payload of %d bytes from a %d-byte unit", len(m.Payload), len(nalu))
				}
			}
			FindSEIUserData(codec, [][]byte{nalu}, x264UUID)

			uuid := [16]byte{0xca, 0x57}
			sei, err := BuildSEIUserData(codec, uuid, data)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := FindSEIUserData(codec, [][]byte{nalu, sei}, uuid)
			if !ok {
				t.Fatalf("%s: built SEI not found", codec)
			}
			if !bytes.Equal(got, data) {
				// An SEI in nalu with the same UUID may come first; check the built one alone.
				if alone, _ := FindSEIUserData(codec, [][]byte{sei}, uuid); !bytes.Equal(alone, data) {
					t.Fatalf("%s: round trip %x -> %x", codec, data, alone)
				}
			}
		}
	})
}
