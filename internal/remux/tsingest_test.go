package remux

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// H.265 parameter sets of a 64x64 Main-profile stream made by x265.
var (
	x265VPS = []byte{0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
		0x00, 0x00, 0x03, 0x00, 0x1e, 0x95, 0x98, 0x09}
	x265SPS = []byte{0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
		0x00, 0x1e, 0xa0, 0x20, 0x81, 0x05, 0x96, 0x56, 0x69, 0x24, 0xca, 0xf0, 0x16, 0x80, 0x80, 0x00, 0x00, 0x03,
		0x00, 0x80, 0x00, 0x00, 0x0c, 0x84}
	x265PPS = []byte{0x44, 0x01, 0xc1, 0x72, 0xb4, 0x22, 0x40}
	// Slices: an IDR_W_RADL and a TRAIL_R.
	hevcIDRSlice   = []byte{0x26, 0x01, 0xaf, 0x12, 0x34}
	hevcTrailSlice = []byte{0x02, 0x01, 0xd0, 0x56}
)

// tsOf muxes packets with a TSWriter and demuxes the result: the frames a
// publisher's transport stream would give.
func tsOf(t testing.TB, packets []*av.Packet) []mpegts.Frame {
	t.Helper()
	tw := newTS(t, nil, TSOptions{})
	var ts []byte
	for _, p := range packets {
		var err error
		if ts, err = tw.AppendPacket(ts, p); err != nil {
			t.Fatal(err)
		}
	}
	frames, _ := demux(t, ts)
	return frames
}

func convertAll(frames []mpegts.Frame, opts TSToFLVOptions) ([]*av.Packet, *TSToFLV) {
	c := NewTSToFLV(opts)
	var out []*av.Packet
	for i := range frames {
		out = c.AppendPackets(out, &frames[i])
	}
	return out, c
}

// describe lists what each packet means, per kind and in order, with
// timestamps relative to the earliest packet: two streams that describe
// the same are the same media, whatever bytes carried it.
func describe(t testing.TB, packets []*av.Packet) (video, audio []string) {
	t.Helper()
	if len(packets) == 0 {
		return nil, nil
	}
	first := slices.MinFunc(packets, func(a, b *av.Packet) int { return int(a.Timestamp) - int(b.Timestamp) }).Timestamp
	for _, p := range packets {
		ts := p.Timestamp - first
		switch p.Kind {
		case av.KindVideo:
			tag, err := av.ParseFLVVideoTag(p.Payload)
			if err != nil {
				t.Fatal(err)
			}
			body := p.Payload[tag.PayloadOffset:]
			if tag.IsSequenceHeader() {
				video = append(video, "config "+describeConfig(t, tag.Codec, body))
				continue
			}
			if tag.PacketType == av.VideoPacketSequenceEnd {
				continue
			}
			nalus, err := av.SplitAVCC(body, 4)
			if err != nil {
				t.Fatal(err)
			}
			video = append(video, fmt.Sprintf("%s t=%d key=%v cts=%d %x", tag.Codec, ts, p.Keyframe, tag.CompositionTime, nalus))
		case av.KindAudio:
			tag, err := av.ParseFLVAudioTag(p.Payload)
			if err != nil {
				t.Fatal(err)
			}
			body := p.Payload[tag.PayloadOffset:]
			if tag.IsSequenceHeader() {
				// ADTS cannot carry an AudioSpecificConfig's extensions (an
				// explicit "no SBR" signal, for one): compare what it means.
				c, err := av.ParseAudioSpecificConfig(body)
				if err != nil {
					t.Fatal(err)
				}
				audio = append(audio, fmt.Sprintf("asc object=%d rate=%d channels=%d", c.CoreObjectType, c.SampleRate, c.Channels))
				continue
			}
			audio = append(audio, fmt.Sprintf("%s t=%d %x", tag.Codec, ts, body))
		}
	}
	return video, audio
}

func describeConfig(t testing.TB, codec av.Codec, record []byte) string {
	t.Helper()
	if codec == av.CodecH265 {
		c, err := av.ParseHEVCConfig(record)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("hevc profile=%d level=%d vps=%x sps=%x pps=%x", c.ProfileIDC, c.LevelIDC, c.VPS, c.SPS, c.PPS)
	}
	c, err := av.ParseAVCConfig(record)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("avc profile=%d level=%d sps=%x pps=%x", c.Profile, c.Level, c.SPS, c.PPS)
}

func sameLists(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s differ:\n got  %s\n want %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// TestTSToFLVRoundTrip: FLV packets → TSWriter → demuxer → TSToFLV gives
// back the same frames, headers and timestamps, for every codec pair.
func TestTSToFLVRoundTrip(t *testing.T) {
	sei := []byte{0x06, 0x05, 0x02, 0xaa, 0xbb, 0x80}
	hevcRec := hevcRecordFromSPS(x265VPS, x265SPS, x265PPS)
	tests := []struct {
		name string
		opts TSToFLVOptions
		in   [][]any // kind, ms, payload
	}{
		{"h264-aac", TSToFLVOptions{}, [][]any{
			{av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS)},
			{av.KindAudio, 0, aacSequenceHeader(testASC)},
			{av.KindVideo, 0, avcFrame(true, 80, sei, []byte{0x65, 0x88, 0x84})},
			{av.KindAudio, 10, aacFrame(filler(200, 1))},
			{av.KindVideo, 40, avcFrame(false, 120, []byte{0x41, 0x9a, 0x01})},
			{av.KindAudio, 33, aacFrame(filler(180, 2))},
			{av.KindVideo, 80, avcFrame(false, 0, []byte{0x01, 0x9e, 0x02})},
			{av.KindAudio, 56, aacFrame(filler(190, 3))},
			{av.KindVideo, 120, avcFrame(true, 40, []byte{0x65, 0x88, 0x85})},
		}},
		{"h264-mp3", TSToFLVOptions{}, [][]any{
			{av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS)},
			{av.KindVideo, 0, avcFrame(true, 0, []byte{0x65, 0x88, 0x84})},
			{av.KindAudio, 5, mp3Frame(413)},
			{av.KindVideo, 40, avcFrame(false, 0, []byte{0x41, 0x9a, 0x01})},
			{av.KindAudio, 31, mp3Frame(413)},
		}},
		{"hevc-enhanced-aac", TSToFLVOptions{}, [][]any{
			{av.KindVideo, 0, hevcEnhanced(true, 0, hevcRec)},
			{av.KindAudio, 0, aacSequenceHeader(testASC)},
			{av.KindVideo, 0, hevcEnhanced(true, 40, nil, hevcIDRSlice)},
			{av.KindAudio, 20, aacFrame(filler(100, 4))},
			{av.KindVideo, 40, hevcEnhanced(false, 0, nil, hevcTrailSlice)},
		}},
		{"hevc-legacy", TSToFLVOptions{LegacyHEVC: true}, [][]any{
			{av.KindVideo, 0, legacyHEVC(true, true, 0, hevcRec)},
			{av.KindVideo, 0, legacyHEVC(true, false, 40, nil, hevcIDRSlice)},
			{av.KindVideo, 40, legacyHEVC(false, false, 0, nil, hevcTrailSlice)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []*av.Packet
			for _, p := range tt.in {
				in = append(in, mustPacket(t, p[0].(av.Kind), uint32(p[1].(int)), p[2].([]byte)))
			}
			out, c := convertAll(tsOf(t, in), tt.opts)
			wantV, wantA := describe(t, in)
			gotV, gotA := describe(t, out)
			sameLists(t, "video", gotV, wantV)
			sameLists(t, "audio", gotA, wantA)
			if st := c.Stats(); st.Dropped != 0 {
				t.Errorf("dropped: %+v", st)
			}
			// The tags are the form asked for.
			for _, p := range out {
				tag, _ := p.VideoTag()
				if p.IsVideo() && tag.Codec == av.CodecH265 && tag.Enhanced == tt.opts.LegacyHEVC {
					t.Errorf("H.265 tag enhanced=%v with LegacyHEVC=%v", tag.Enhanced, tt.opts.LegacyHEVC)
				}
			}
		})
	}
}

// legacyHEVC builds an FLV codec id 12 tag, laid out like AVC.
func legacyHEVC(key, header bool, ctsMS int32, record []byte, nalus ...[]byte) []byte {
	first := byte(0x2c)
	if key {
		first = 0x1c
	}
	packetType := byte(1)
	if header {
		packetType = 0
	}
	b := append([]byte{first, packetType, byte(ctsMS >> 16), byte(ctsMS >> 8), byte(ctsMS)}, record...)
	return av.AppendAVCC(b, nalus...)
}

func annexBAU(nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = append(append(b, 0, 0, 0, 1), n...)
	}
	return b
}

func h264Frame(pts, dts int64, nalus ...[]byte) mpegts.Frame {
	return mpegts.Frame{PID: 0x100, StreamType: mpegts.StreamTypeH264, PTS: pts, DTS: dts, HasDTS: true, Data: annexBAU(nalus...)}
}

// TestTSToFLVParameterSets: in-band parameter sets make the sequence
// header, which is sent again only when they change; frames before the
// parameter sets and before the first keyframe are dropped; AUDs and
// filler never reach FLV.
func TestTSToFLVParameterSets(t *testing.T) {
	aud, filler := []byte{0x09, 0xf0}, []byte{0x0c, 0xff, 0xff}
	sps2 := []byte{0x67, 0x4d, 0x00, 0x28, 0xab}
	idr, p := []byte{0x65, 0x01}, []byte{0x41, 0x02}
	frames := []mpegts.Frame{
		h264Frame(0, 0, aud, p),                           // no parameter sets yet: dropped
		h264Frame(3600, 3600, aud, testSPS, testPPS, p),   // config, but no keyframe yet: dropped
		h264Frame(7200, 7200, aud, testSPS, testPPS, idr), // first keyframe
		h264Frame(10800, 10800, aud, p, filler),
		h264Frame(14400, 14400, aud, testSPS, testPPS, idr), // same sets: no new header
		h264Frame(18000, 18000, aud, sps2, testPPS, idr),    // new SPS: new header
	}
	out, c := convertAll(frames, TSToFLVOptions{})
	var got []string
	for _, pk := range out {
		tag, _ := pk.VideoTag()
		body := pk.Payload[tag.PayloadOffset:]
		if pk.SequenceHeader {
			got = append(got, fmt.Sprintf("t=%d config %s", pk.Timestamp, describeConfig(t, av.CodecH264, body)))
			continue
		}
		nalus, err := av.SplitAVCC(body, 4)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("t=%d key=%v %x", pk.Timestamp, pk.Keyframe, nalus))
	}
	// The header comes with the first access unit that carried the sets,
	// before any frame could use it.
	want := []string{
		fmt.Sprintf("t=40 config avc profile=100 level=31 sps=[%x] pps=[%x]", testSPS, testPPS),
		fmt.Sprintf("t=80 key=true [%x]", idr),
		fmt.Sprintf("t=120 key=false [%x]", p),
		fmt.Sprintf("t=160 key=true [%x]", idr),
		fmt.Sprintf("t=200 config avc profile=77 level=40 sps=[%x] pps=[%x]", sps2, testPPS),
		fmt.Sprintf("t=200 key=true [%x]", idr),
	}
	sameLists(t, "packets", got, want)
	st := c.Stats()
	if st.DropReasons[dropVideoBeforeConfig.String()] != 1 || st.DropReasons[dropWaitKeyframe.String()] != 1 || st.SequenceHeaders != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestTSToFLVADTS: ffmpeg packs several ADTS frames in one PES; each
// becomes a raw AAC frame 1024 samples after the previous one, and a
// configuration change sends a new sequence header.
func TestTSToFLVADTS(t *testing.T) {
	cfg44 := av.AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 4, SampleRate: 44100, ChannelConfig: 2}
	cfg48 := av.AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 1}
	adts := func(c av.AACConfig, raws ...[]byte) []byte {
		var b []byte
		for _, r := range raws {
			h := c.ADTSHeader(len(r))
			b = append(append(b, h[:]...), r...)
		}
		return b
	}
	a1, a2, a3, a4 := filler(50, 1), filler(60, 2), filler(70, 3), filler(40, 4)
	frames := []mpegts.Frame{
		{PID: 0x101, StreamType: mpegts.StreamTypeAAC, PTS: 90000, DTS: 90000, Data: adts(cfg44, a1, a2, a3)},
		{PID: 0x101, StreamType: mpegts.StreamTypeAAC, PTS: 90000 + 3*1024*90000/44100, DTS: 90000 + 3*1024*90000/44100, Data: adts(cfg48, a4)},
	}
	out, c := convertAll(frames, TSToFLVOptions{})
	_, got := describe(t, out)
	want := []string{
		"asc object=2 rate=44100 channels=2",
		fmt.Sprintf("AAC t=0 %x", a1),
		fmt.Sprintf("AAC t=23 %x", a2), // 1024/44.1 = 23.2 ms
		fmt.Sprintf("AAC t=46 %x", a3),
		"asc object=2 rate=48000 channels=1",
		fmt.Sprintf("AAC t=69 %x", a4),
	}
	sameLists(t, "audio", got, want)
	if st := c.Stats(); st.AudioFrames != 4 || st.SequenceHeaders != 2 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	// A truncated ADTS frame is dropped, not fatal; what came before stays.
	trunc := adts(cfg44, a1, a2)
	out, c = convertAll([]mpegts.Frame{{PID: 0x101, StreamType: mpegts.StreamTypeAAC, PTS: 0, DTS: 0, Data: trunc[:len(trunc)-5]}}, TSToFLVOptions{})
	if len(out) != 2 || c.Stats().DropReasons[dropMalformedAudio.String()] != 1 {
		t.Errorf("truncated PES: %d packets, stats %+v", len(out), c.Stats())
	}
}

// TestTSClock: 33-bit wraps are undone, the first frame is time 0, audio
// and video keep their offsets, and jumps are smoothed over.
func TestTSClock(t *testing.T) {
	const wrap = 1 << 33
	tests := []struct {
		name  string
		raw   []int64
		ticks []int64
		jumps uint64
	}{
		{"start at zero", []int64{900000, 903600, 907200}, []int64{0, 3600, 7200}, 0},
		{"wraps forward", []int64{wrap - 3600, wrap - 1, 3599, 7199}, []int64{0, 3599, 7199, 10799}, 0},
		{"interleaved tracks before the wrap", []int64{wrap - 1800, 1800, wrap - 900, 5400}, []int64{0, 3600, 900, 7200}, 0},
		{"earlier audio goes negative", []int64{9000, 5400, 12600}, []int64{0, -3600, 3600}, 0},
		{"jump forward smoothed", []int64{0, 3600, 3600 + 3600*90000, 3600 + 3600*90000 + 3600}, []int64{0, 3600, 3690, 7290}, 1},
		{"jump back smoothed", []int64{50 * 90000, 50*90000 + 3600, 0, 3600}, []int64{0, 3600, 3690, 7290}, 1},
		{"ten seconds is still time", []int64{0, 10 * 90000}, []int64{0, 10 * 90000}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c tsClock
			var got []int64
			for _, r := range tt.raw {
				got = append(got, c.at(r))
			}
			if !slices.Equal(got, tt.ticks) || c.jumps != tt.jumps {
				t.Errorf("ticks %v jumps %d, want %v jumps %d", got, c.jumps, tt.ticks, tt.jumps)
			}
		})
	}
	if ms := ticksToMillis(-3600); ms != 0 {
		t.Errorf("negative time gives %d ms", ms)
	}
}

// TestTSToFLVTracks: a second video track and unsupported stream types are
// dropped and counted; frames without a timestamp too.
func TestTSToFLVTracks(t *testing.T) {
	frames := []mpegts.Frame{
		h264Frame(0, 0, testSPS, testPPS, []byte{0x65, 1}),
		{PID: 0x200, StreamType: mpegts.StreamTypeH264, PTS: 0, DTS: 0, HasDTS: true, Data: annexBAU(testSPS, testPPS, []byte{0x65, 2})},
		{PID: 0x300, StreamType: mpegts.StreamTypeAC3, PTS: 0, DTS: 0, Data: []byte{0x0b, 0x77}},
		{PID: 0x100, StreamType: mpegts.StreamTypeH264, PTS: mpegts.NoPTS, DTS: mpegts.NoPTS, Data: annexBAU([]byte{0x41, 3})},
	}
	out, c := convertAll(frames, TSToFLVOptions{})
	if len(out) != 2 {
		t.Fatalf("%d packets, want the header and one frame", len(out))
	}
	st := c.Stats()
	if st.DropReasons[dropStreamType.String()] != 2 || st.DropReasons[dropNoTimestamp.String()] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestHEVCConfigRecord: the record made from x265's parameter sets says
// what the SPS says (Main profile, level 3.0, 4:2:0, 8 bits).
func TestHEVCConfigRecord(t *testing.T) {
	rec, err := hevcConfigRecord([][]byte{x265VPS}, [][]byte{x265SPS}, [][]byte{x265PPS})
	if err != nil {
		t.Fatal(err)
	}
	c, err := av.ParseHEVCConfig(rec)
	if err != nil {
		t.Fatal(err)
	}
	if c.ProfileIDC != 1 || c.LevelIDC != 30 || c.ChromaFormat != 1 || c.BitDepthLuma != 8 || c.NALULengthSize != 4 ||
		c.NumTemporalLayers != 1 || !bytes.Equal(c.SPS[0], x265SPS) || !bytes.Equal(c.VPS[0], x265VPS) || !bytes.Equal(c.PPS[0], x265PPS) {
		t.Errorf("record %+v", c)
	}
	// The same fields a test encoder wrote by hand (hevcRecordFromSPS).
	if want := hevcRecordFromSPS(x265VPS, x265SPS, x265PPS); !bytes.Equal(rec[1:13], want[1:13]) {
		t.Errorf("profile bytes %x, want %x", rec[1:13], want[1:13])
	}
	if _, err := hevcConfigRecord([][]byte{x265VPS}, [][]byte{{0x42, 0x01, 0x01}}, [][]byte{x265PPS}); err == nil {
		t.Error("a 3-byte SPS made a record")
	}
	if _, err := avcConfigRecord([][]byte{{0x67, 0x64}}, [][]byte{testPPS}); err == nil {
		t.Error("a 2-byte SPS made a record")
	}
}

// TestTSToFLVLengthPrefixedH264: an encoder that puts length-prefixed
// (IBMF) NAL units in TS instead of Annex B is read too, as SRS does with
// try_annexb_first; garbage is still dropped.
func TestTSToFLVLengthPrefixedH264(t *testing.T) {
	idr := []byte{0x65, 0x01, 0x02}
	ibmf := h264Frame(3600, 3600, testSPS, testPPS, idr)
	ibmf.Data = av.AppendAVCC(nil, testSPS, testPPS, idr)
	garbage := h264Frame(7200, 7200, idr)
	garbage.Data = []byte{0xff, 0xff, 0xff, 0xff, 0x01}
	out, c := convertAll([]mpegts.Frame{ibmf, garbage}, TSToFLVOptions{})
	if len(out) != 2 || !out[0].SequenceHeader || !out[1].Keyframe {
		t.Fatalf("got %d packets %+v", len(out), out)
	}
	if st := c.Stats(); st.DropReasons[dropMalformedVideo.String()] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestTSToFLVDropSEI: with DropSEI (srt_server.sei_filter) the SEI NAL
// units of H.264 and H.265 access units are dropped; without it they pass.
func TestTSToFLVDropSEI(t *testing.T) {
	sei := []byte{0x06, 0x05, 0x01, 0xaa, 0x80}
	idr := []byte{0x65, 0x01, 0x02}
	for _, drop := range []bool{false, true} {
		out, _ := convertAll([]mpegts.Frame{h264Frame(3600, 3600, testSPS, testPPS, sei, idr)}, TSToFLVOptions{DropSEI: drop})
		if len(out) != 2 {
			t.Fatalf("drop %v: %d packets", drop, len(out))
		}
		tag, _ := out[1].VideoTag()
		nalus, err := av.SplitAVCC(out[1].Payload[tag.PayloadOffset:], 4)
		if err != nil {
			t.Fatal(err)
		}
		want := [][]byte{sei, idr}
		if drop {
			want = [][]byte{idr}
		}
		if fmt.Sprintf("%x", nalus) != fmt.Sprintf("%x", want) {
			t.Errorf("drop %v: NAL units %x, want %x", drop, nalus, want)
		}
	}
}
