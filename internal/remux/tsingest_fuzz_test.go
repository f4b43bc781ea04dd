package remux

import (
	"encoding/binary"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// fuzzStreamTypes are the stream types a fuzz frame's first byte picks.
var fuzzStreamTypes = []mpegts.StreamType{
	mpegts.StreamTypeH264, mpegts.StreamTypeH265, mpegts.StreamTypeAAC,
	mpegts.StreamTypeMPEG1Audio, mpegts.StreamTypeMPEG2Audio, mpegts.StreamTypeAC3,
}

// encodeFrames lays frames out as the fuzz input: type index and a flag
// for a second PID, 33-bit PTS and DTS in 5 bytes each, 16-bit length, data.
func encodeFrames(frames ...mpegts.Frame) []byte {
	var b []byte
	for _, f := range frames {
		sel := byte(0)
		for i, st := range fuzzStreamTypes {
			if st == f.StreamType {
				sel = byte(i)
			}
		}
		if f.PID&1 != 0 {
			sel |= 0x80
		}
		b = append(b, sel)
		b = append(b, byte(f.PTS>>32), byte(f.PTS>>24), byte(f.PTS>>16), byte(f.PTS>>8), byte(f.PTS))
		b = append(b, byte(f.DTS>>32), byte(f.DTS>>24), byte(f.DTS>>16), byte(f.DTS>>8), byte(f.DTS))
		b = binary.BigEndian.AppendUint16(b, uint16(len(f.Data)))
		b = append(b, f.Data...)
	}
	return b
}

func decodeFrames(data []byte) []mpegts.Frame {
	var frames []mpegts.Frame
	for len(data) >= 13 {
		sel := data[0]
		read40 := func(b []byte) int64 {
			return int64(b[0]&0x01)<<32 | int64(binary.BigEndian.Uint32(b[1:]))
		}
		pts, dts := read40(data[1:]), read40(data[6:])
		n := min(int(binary.BigEndian.Uint16(data[11:])), len(data)-13)
		f := mpegts.Frame{
			PID: 0x100 + uint16(sel>>7), StreamType: fuzzStreamTypes[int(sel&0x7f)%len(fuzzStreamTypes)],
			PTS: pts, DTS: dts, HasDTS: data[1]&0x80 != 0, Data: data[13 : 13+n],
		}
		if data[6]&0x80 != 0 {
			f.PTS, f.DTS = mpegts.NoPTS, mpegts.NoPTS
		}
		frames = append(frames, f)
		data = data[13+n:]
	}
	return frames
}

// FuzzTSToFLV feeds arbitrary frames to the converter: it must not panic,
// and everything it makes must be packets castd's own TS muxer takes
// without finding anything malformed.
func FuzzTSToFLV(f *testing.F) {
	hevcRec := hevcRecordFromSPS(x265VPS, x265SPS, x265PPS)
	seed := []*av.Packet{
		mustPacket(f, av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS)),
		mustPacket(f, av.KindAudio, 0, aacSequenceHeader(testASC)),
		mustPacket(f, av.KindVideo, 0, avcFrame(true, 80, []byte{0x06, 0x05, 0x01, 0xaa, 0x80}, []byte{0x65, 0x88})),
		mustPacket(f, av.KindAudio, 10, aacFrame(filler(40, 1))),
		mustPacket(f, av.KindVideo, 40, avcFrame(false, 40, []byte{0x41, 0x9a})),
		mustPacket(f, av.KindAudio, 30, mp3Frame(100)),
	}
	f.Add(encodeFrames(tsOf(f, seed)...))
	hevc := []*av.Packet{
		mustPacket(f, av.KindVideo, 0, hevcEnhanced(true, 0, hevcRec)),
		mustPacket(f, av.KindVideo, 0, hevcEnhanced(true, 40, nil, hevcIDRSlice)),
		mustPacket(f, av.KindVideo, 40, hevcEnhanced(false, 0, nil, hevcTrailSlice)),
	}
	f.Add(encodeFrames(tsOf(f, hevc)...))
	cfg := av.AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 4, SampleRate: 44100, ChannelConfig: 2}
	h1, h2 := cfg.ADTSHeader(3), cfg.ADTSHeader(2)
	f.Add(encodeFrames(mpegts.Frame{StreamType: mpegts.StreamTypeAAC, PTS: 1<<33 - 10, DTS: 1<<33 - 10,
		Data: append(append(append(h1[:], 1, 2, 3), h2[:]...), 4, 5)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := decodeFrames(data)
		for _, opts := range []TSToFLVOptions{{}, {LegacyHEVC: true}} {
			out, c := convertAll(frames, opts)
			st := c.Stats()
			if st.VideoFrames+st.AudioFrames+st.SequenceHeaders != uint64(len(out)) {
				t.Fatalf("%d packets, stats %+v", len(out), st)
			}
			tw := newTS(t, nil, TSOptions{})
			var ts []byte
			for _, p := range out {
				var err error
				if ts, err = tw.AppendPacket(ts, p); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range []dropReason{dropMalformedVideo, dropBadVideoConfig, dropMalformedAudio, dropBadAudioConfig,
				dropVideoBeforeConfig, dropAudioBeforeConfig} {
				if n := tw.drops.counts[r]; n > 0 {
					t.Fatalf("the TS muxer dropped %d packets: %s", n, r)
				}
			}
		}
	})
}
