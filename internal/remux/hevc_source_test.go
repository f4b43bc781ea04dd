package remux

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// hevcPacketsFromTS turns an H.265+AAC transport stream into the packets
// an enhanced-RTMP publisher would send: an hvc1 SequenceStart, then frames
// without AUDs and parameter sets (CodedFrames, or CodedFramesX when the
// composition time is 0), an AAC sequence header and raw AAC frames.
func hevcPacketsFromTS(t testing.TB, file string) []*av.Packet {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d := mpegts.NewDemuxer(bytes.NewReader(b))
	var tp []timedPacket
	var base int64 = -1
	var vps, sps, pps []byte
	haveASC := false
	for {
		f, err := d.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if base < 0 {
			base = f.DTS
		}
		ms := (f.DTS - base) / 90
		switch f.StreamType {
		case mpegts.StreamTypeH265:
			nalus, err := av.SplitAnnexB(f.Data)
			if err != nil {
				t.Fatal(err)
			}
			var frame [][]byte
			for _, n := range nalus {
				switch av.H265NALUType(n) {
				case av.H265NALVPS:
					vps = n
				case av.H265NALSPS:
					sps = n
				case av.H265NALPPS:
					pps = n
				case av.H265NALAUD:
				default:
					frame = append(frame, n)
				}
			}
			key := av.IsKeyframeNALUs(av.CodecH265, frame)
			if len(tp) == 0 {
				if !key || vps == nil || sps == nil || pps == nil {
					t.Fatal("the stream does not start with parameter sets and a keyframe")
				}
				tp = append(tp, timedPacket{ms, true, mustPacket(t, av.KindVideo, uint32(ms), hevcEnhanced(true, 0, hevcRecordFromSPS(vps, sps, pps)))})
			}
			cts := int32((f.PTS - f.DTS) / 90)
			tp = append(tp, timedPacket{ms, true, mustPacket(t, av.KindVideo, uint32(ms), hevcEnhanced(key, cts, nil, frame...))})
		case mpegts.StreamTypeAAC:
			for i, data := 0, f.Data; len(data) > 0; i++ {
				h, err := av.ParseADTSHeader(data)
				if err != nil || h.FrameLength > len(data) {
					t.Fatalf("ADTS: %v", err)
				}
				if !haveASC {
					asc, err := h.Config.AudioSpecificConfig()
					if err != nil {
						t.Fatal(err)
					}
					tp = append(tp, timedPacket{0, false, mustPacket(t, av.KindAudio, 0, aacSequenceHeader(asc))})
					haveASC = true
				}
				at := (f.PTS - base + int64(i)*1024*90000/int64(h.Config.SampleRate)) / 90
				tp = append(tp, timedPacket{at, false, mustPacket(t, av.KindAudio, uint32(at), aacFrame(data[h.HeaderLength:h.FrameLength]))})
				data = data[h.FrameLength:]
			}
		}
	}
	return sortPackets(tp)
}

// hevcRecordFromSPS builds an HEVCDecoderConfigurationRecord whose profile,
// tier and level come from the SPS's profile_tier_level, as an encoder would.
func hevcRecordFromSPS(vps, sps, pps []byte) []byte {
	rec := hevcRecord(vps, sps, pps)
	rbsp := av.UnescapeRBSP(sps)
	// After the 2-byte NAL header and the VPS id/sub-layers byte come the
	// 12 general profile bytes, laid out as the record's bytes 1..12.
	copy(rec[1:13], rbsp[3:15])
	return rec
}
