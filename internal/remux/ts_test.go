package remux

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

func annexB(nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = append(append(b, 0, 0, 0, 1), n...)
	}
	return b
}

func TestVideoAccessUnits(t *testing.T) {
	idr := []byte{0x65, 0x88, 0x84}
	slice := []byte{0x41, 0x9a, 0x02}
	sei := []byte{0x06, 0x05, 0x01}
	aud := []byte{0x09, 0x10}
	hevcIDR := []byte{0x26, 0x01, 0xaf}   // type 19, IDR_W_RADL
	hevcTrail := []byte{0x02, 0x01, 0xd0} // type 1
	hevcAUD := []byte{0x46, 0x01, 0x10}
	audH264NAL, audH265NAL := audH264[4:], audH265[4:]

	tests := []struct {
		name    string
		packets [][]byte // after the sequence header
		seq     []byte
		want    [][]byte // Annex-B access units
		pts     []int64
		dts     []int64
	}{
		{
			name: "H.264 keyframe gets AUD and parameter sets, P frame only the AUD",
			seq:  avcSequenceHeader(testSPS, testPPS),
			packets: [][]byte{
				avcFrame(true, 40, sei, idr),
				avcFrame(false, 0, slice),
			},
			want: [][]byte{
				annexB(audH264NAL, testSPS, testPPS, sei, idr),
				annexB(audH264NAL, slice),
			},
			pts: []int64{1000*90 + 40*90, 1040 * 90},
			dts: []int64{1000 * 90, 1040 * 90},
		},
		{
			name:    "H.264 keyframe that carries its parameter sets and an AUD",
			seq:     avcSequenceHeader(testSPS, testPPS),
			packets: [][]byte{avcFrame(true, 0, aud, testSPS, testPPS, idr)},
			want:    [][]byte{annexB(audH264NAL, testSPS, testPPS, idr)},
			pts:     []int64{1000 * 90},
			dts:     []int64{1000 * 90},
		},
		{
			name:    "H.264 keyframe with only an SPS gets both",
			seq:     avcSequenceHeader(testSPS, testPPS),
			packets: [][]byte{avcFrame(true, 0, testSPS, idr)},
			want:    [][]byte{annexB(audH264NAL, testSPS, testPPS, testSPS, idr)},
			pts:     []int64{1000 * 90},
			dts:     []int64{1000 * 90},
		},
		{
			name:    "negative composition time is clamped",
			seq:     avcSequenceHeader(testSPS, testPPS),
			packets: [][]byte{avcFrame(false, -80, slice)},
			want:    [][]byte{annexB(audH264NAL, slice)},
			pts:     []int64{1000 * 90},
			dts:     []int64{1000 * 90},
		},
		{
			name: "H.264 enhanced RTMP (avc1)",
			seq:  enhancedVideo("avc1", true, 0, avcSequenceHeader(testSPS, testPPS)[5:]),
			packets: [][]byte{
				enhancedVideo("avc1", true, 40, nil, idr),
				enhancedVideo("avc1", false, 0, nil, slice),
			},
			want: [][]byte{
				annexB(audH264NAL, testSPS, testPPS, idr),
				annexB(audH264NAL, slice),
			},
			pts: []int64{1040 * 90, 1040 * 90},
			dts: []int64{1000 * 90, 1040 * 90},
		},
		{
			name: "H.265 enhanced RTMP: CodedFrames with CTS, CodedFramesX without",
			seq:  hevcEnhanced(true, 0, hevcRecord(testVPS, testHEVCSPS, testHEVCPPS)),
			packets: [][]byte{
				hevcEnhanced(true, 80, nil, hevcAUD, hevcIDR),
				hevcEnhanced(false, 0, nil, hevcTrail),
			},
			want: [][]byte{
				annexB(audH265NAL, testVPS, testHEVCSPS, testHEVCPPS, hevcIDR),
				annexB(audH265NAL, hevcTrail),
			},
			pts: []int64{1080 * 90, 1040 * 90},
			dts: []int64{1000 * 90, 1040 * 90},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tw := newTS(t, &out, TSOptions{})
			if err := tw.WritePacket(mustPacket(t, av.KindVideo, 1000, tt.seq)); err != nil {
				t.Fatal(err)
			}
			if out.Len() != 0 {
				t.Fatalf("the sequence header wrote %d bytes", out.Len())
			}
			for i, p := range tt.packets {
				if err := tw.WritePacket(mustPacket(t, av.KindVideo, uint32(1000+40*i), p)); err != nil {
					t.Fatal(err)
				}
			}
			frames, d := demux(t, out.Bytes())
			if len(frames) != len(tt.want) {
				t.Fatalf("%d frames, want %d", len(frames), len(tt.want))
			}
			for i, f := range frames {
				if !bytes.Equal(f.Data, tt.want[i]) {
					t.Errorf("frame %d\n got %x\nwant %x", i, f.Data, tt.want[i])
				}
				if f.PTS != tt.pts[i] || f.DTS != tt.dts[i] || f.PID != mpegts.DefaultVideoPID || f.RandomAccess != (i == 0 && tt.packets[0][0]&0x70 == 0x10) {
					t.Errorf("frame %d: PID %x PTS %d DTS %d RAI %v, want PTS %d DTS %d", i, f.PID, f.PTS, f.DTS, f.RandomAccess, tt.pts[i], tt.dts[i])
				}
			}
			if prog := d.Programs(); len(prog) != 1 || len(prog[0].Streams) != 1 || prog[0].PCRPID != mpegts.DefaultVideoPID {
				t.Errorf("programs %+v", prog)
			}
			last := tw.LastFrame()
			if last.Kind != av.KindVideo || last.DTS != tt.dts[len(tt.dts)-1] || last.Keyframe != (len(tt.packets) == 1 && tt.packets[0][0]&0x70 == 0x10) {
				t.Errorf("last frame %+v", last)
			}
		})
	}
}

func TestAudioFrames(t *testing.T) {
	raw := filler(200, 3)
	var out bytes.Buffer
	tw := newTS(t, &out, TSOptions{})
	for _, p := range []*av.Packet{
		mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)),
		mustPacket(t, av.KindAudio, 0, aacFrame(raw)),
		mustPacket(t, av.KindAudio, 23, aacFrame(raw)),
	} {
		if err := tw.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	frames, d := demux(t, out.Bytes())
	// ADTS: MPEG-4, no CRC, LC, 44.1 kHz (index 4), 2 channels, 207 bytes.
	header := []byte{0xff, 0xf1, 0x50, 0x80, 0x19, 0xff, 0xfc}
	if len(frames) != 2 || !bytes.Equal(frames[0].Data, append(header, raw...)) || frames[1].PTS != 23*90 || frames[1].HasDTS ||
		!frames[0].RandomAccess || frames[0].StreamType != mpegts.StreamTypeAAC {
		t.Fatalf("frames %+v", frames)
	}
	if p := d.Programs()[0]; p.PCRPID != mpegts.DefaultAudioPID {
		t.Fatalf("audio-only PCR PID 0x%x", p.PCRPID)
	}
	if v, a := tw.Codecs(); v != av.CodecUnknown || a != av.CodecAAC {
		t.Fatalf("codecs %v %v", v, a)
	}
}

func TestMP3StreamTypes(t *testing.T) {
	mpeg2 := []byte{0x2f, 0xff, 0xf3, 0x90, 0x00, 1, 2, 3} // MPEG-2 Layer III, 22.05 kHz
	var out bytes.Buffer
	tw := newTS(t, &out, TSOptions{})
	for i, payload := range [][]byte{mp3Frame(100), mp3Frame(100), mpeg2} {
		if err := tw.WritePacket(mustPacket(t, av.KindAudio, uint32(26*i), payload)); err != nil {
			t.Fatal(err)
		}
	}
	frames, _ := demux(t, out.Bytes())
	if len(frames) != 3 || frames[0].StreamType != mpegts.StreamTypeMPEG1Audio || frames[2].StreamType != mpegts.StreamTypeMPEG2Audio ||
		!bytes.Equal(frames[2].Data, mpeg2[1:]) {
		t.Fatalf("frames %+v", frames)
	}
}

func TestSampleClock(t *testing.T) {
	aac := audioFrame{sampleRate: 44100, samples: 1024}
	tests := []struct {
		name  string
		frame audioFrame
		ms    []uint32
		want  []int64
	}{
		// 1024 samples at 44.1 kHz are 2089.80 ticks: FLV rounds to 23 or
		// 24 ms, counting gives exact multiples.
		{"AAC 44.1 kHz", aac, []uint32{1000, 1023, 1046, 1070, 1093}, []int64{90000, 92089, 94179, 96269, 98359}},
		{"a dropped frame counts two", aac, []uint32{0, 23, 70}, []int64{0, 2089, 6269}},
		{"repeated timestamp", aac, []uint32{0, 0, 23}, []int64{0, 0, 2089}},
		{"backwards re-anchors", aac, []uint32{500, 523, 100, 123}, []int64{45000, 47089, 9000, 11089}},
		{"a gap is counted in whole frames", aac, []uint32{0, 23, 1023}, []int64{0, 2089, 91951}},
		{"MP3 1152 samples", audioFrame{sampleRate: 44100, samples: 1152}, []uint32{0, 26, 52, 78}, []int64{0, 2351, 4702, 7053}},
		{"AAC 960 at 48 kHz", audioFrame{sampleRate: 48000, samples: 960}, []uint32{0, 20, 40}, []int64{0, 1800, 3600}},
		{"unknown rate uses the timestamp", audioFrame{}, []uint32{0, 23, 46}, []int64{0, 2070, 4140}},
	}
	for _, tt := range tests {
		var c sampleClock
		for i, ms := range tt.ms {
			if got := c.dts(ms, tt.frame); got != tt.want[i] {
				t.Errorf("%s: frame %d at %d ms: DTS %d, want %d", tt.name, i, ms, got, tt.want[i])
			}
		}
	}

	// Timestamps 30 ms apart for 23 ms frames: the count falls behind by
	// 611 ticks a frame and re-anchors once it is over 100 ms behind.
	var c sampleClock
	var got []int64
	for i := 0; i < 17; i++ {
		got = append(got, c.dts(uint32(30*i), aac))
	}
	if got[14] != 14*1024*90000/44100 || got[15] != 450*90 || got[16] != 450*90+2089 {
		t.Errorf("drifting clock: %v", got)
	}
}

func TestPureAudioAggregation(t *testing.T) {
	var out bytes.Buffer
	tw := newTS(t, &out, TSOptions{AggregatePureAudio: true, AudioDTSFromSamples: true})
	if err := tw.WritePacket(mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC))); err != nil {
		t.Fatal(err)
	}
	raw := filler(100, 1)
	const n = 100 // 2.3 s of audio
	for i := 0; i < n; i++ {
		ms := uint32(i * 1024 * 1000 / 44100)
		if err := tw.WritePacket(mustPacket(t, av.KindAudio, ms, aacFrame(raw))); err != nil {
			t.Fatal(err)
		}
	}
	if tw.LastFrame().DTS != int64(99*1024*90000/44100) {
		t.Fatalf("last DTS %d", tw.LastFrame().DTS)
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	frames, _ := demux(t, out.Bytes())
	// 0.72 s is 31.01 frames: a PES closes with the frame that reaches it,
	// the 33rd.
	total := 0
	for i, f := range frames {
		adts := len(f.Data) / 107
		total += adts
		if i < len(frames)-1 && adts != 33 {
			t.Errorf("PES %d holds %d frames, want 33", i, adts)
		}
		if want := int64(i * 33 * 1024 * 90000 / 44100); f.PTS != want {
			t.Errorf("PES %d PTS %d, want %d", i, f.PTS, want)
		}
	}
	if total != n || len(frames) != 4 {
		t.Fatalf("%d frames in %d PES", total, len(frames))
	}
	// Tables at most once a second (before PES 0 and 2), not before every PES.
	if tables := countTables(out.Bytes()); tables != 2 {
		t.Errorf("%d PATs in 2.3 s of audio, want 2", tables)
	}

	// Video arriving flushes the aggregate and ends aggregation.
	out.Reset()
	tw = newTS(t, &out, TSOptions{AggregatePureAudio: true})
	_ = tw.WritePacket(mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)))
	for i := 0; i < 5; i++ {
		_ = tw.WritePacket(mustPacket(t, av.KindAudio, uint32(i*23), aacFrame(raw)))
	}
	if out.Len() != 0 {
		t.Fatalf("aggregated audio written early: %d bytes", out.Len())
	}
	_ = tw.WritePacket(mustPacket(t, av.KindVideo, 100, avcSequenceHeader(testSPS, testPPS)))
	_ = tw.WritePacket(mustPacket(t, av.KindVideo, 100, avcFrame(true, 0, []byte{0x65, 1})))
	_ = tw.WritePacket(mustPacket(t, av.KindAudio, 115, aacFrame(raw)))
	frames, d := demux(t, out.Bytes())
	if len(frames) != 3 || len(frames[0].Data) != 5*107 || frames[1].PID != mpegts.DefaultVideoPID || len(frames[2].Data) != 107 {
		t.Fatalf("frames after video arrived: %d", len(frames))
	}
	if p := d.Programs()[0]; p.PCRPID != mpegts.DefaultVideoPID || len(p.Streams) != 2 {
		t.Fatalf("program %+v", p)
	}
}

func TestResetStartsSegments(t *testing.T) {
	var seg1, seg2 bytes.Buffer
	tw := newTS(t, &seg1, TSOptions{AggregatePureAudio: true})
	_ = tw.WritePacket(mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)))
	raw := filler(50, 2)
	for i := 0; i < 10; i++ {
		_ = tw.WritePacket(mustPacket(t, av.KindAudio, uint32(i*23), aacFrame(raw)))
	}
	if seg1.Len() != 0 {
		t.Fatal("aggregate written early")
	}
	if err := tw.Reset(&seg2); err != nil {
		t.Fatal(err)
	}
	if frames, _ := demux(t, seg1.Bytes()); len(frames) != 1 || len(frames[0].Data) != 10*57 {
		t.Fatalf("first segment: %d frames", len(frames))
	}
	tw.ResetContinuity()
	for i := 10; i < 50; i++ {
		_ = tw.WritePacket(mustPacket(t, av.KindAudio, uint32(i*23), aacFrame(raw)))
	}
	b := seg2.Bytes()
	if len(b) == 0 || b[1]&0x1f != 0 || b[2] != 0 || b[3]&0x0f != 0 {
		t.Fatalf("second segment does not start with a fresh PAT: % x", b[:min(len(b), 4)])
	}
	if _, err := newTS(t, nil, TSOptions{}).AppendPacket(nil, mustPacket(t, av.KindAudio, 0, aacFrame(raw))); err != nil {
		t.Fatal(err)
	}
	noWriter := newTS(t, nil, TSOptions{})
	_ = noWriter.WritePacket(mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)))
	if err := noWriter.WritePacket(mustPacket(t, av.KindAudio, 0, aacFrame(raw))); !errors.Is(err, ErrNoWriter) {
		t.Fatalf("no writer: %v", err)
	}
}

func TestCodecChangeUpdatesPMT(t *testing.T) {
	var out bytes.Buffer
	tw := newTS(t, &out, TSOptions{})
	write := func(kind av.Kind, ms uint32, payload []byte) {
		t.Helper()
		if err := tw.WritePacket(mustPacket(t, kind, ms, payload)); err != nil {
			t.Fatal(err)
		}
	}
	write(av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS))
	write(av.KindAudio, 0, aacSequenceHeader(testASC))
	write(av.KindVideo, 0, avcFrame(true, 0, []byte{0x65, 1}))
	write(av.KindAudio, 10, aacFrame([]byte{1, 2}))
	// Republished as H.265 with MP3.
	write(av.KindVideo, 1000, hevcEnhanced(true, 0, hevcRecord(testVPS, testHEVCSPS, testHEVCPPS)))
	write(av.KindVideo, 1000, hevcEnhanced(true, 0, nil, []byte{0x26, 0x01, 0xaf}))
	write(av.KindAudio, 1010, mp3Frame(50))
	frames, _ := demux(t, out.Bytes())
	var types []mpegts.StreamType
	for _, f := range frames {
		types = append(types, f.StreamType)
	}
	want := []mpegts.StreamType{mpegts.StreamTypeH264, mpegts.StreamTypeAAC, mpegts.StreamTypeH265, mpegts.StreamTypeMPEG1Audio}
	if len(types) != len(want) {
		t.Fatalf("stream types %v", types)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("stream types %v, want %v", types, want)
		}
	}
	// The same sequence header again changes nothing.
	before := out.Len()
	write(av.KindVideo, 2000, hevcEnhanced(true, 0, hevcRecord(testVPS, testHEVCSPS, testHEVCPPS)))
	if out.Len() != before {
		t.Fatal("a repeated sequence header wrote bytes")
	}
}

func TestDropsAreCountedAndLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var out bytes.Buffer
	tw := newTS(t, &out, TSOptions{Logger: log})
	packets := []*av.Packet{
		mustPacket(t, av.KindVideo, 0, avcFrame(true, 0, []byte{0x65})),                 // before its sequence header
		mustPacket(t, av.KindVideo, 0, avcFrame(true, 0, []byte{0x65})),                 // again
		mustPacket(t, av.KindAudio, 0, []byte{0xb2, 1, 2}),                              // Speex
		mustPacket(t, av.KindAudio, 0, aacFrame([]byte{1})),                             // before the ASC
		mustPacket(t, av.KindVideo, 0, []byte{0x1d, 0, 0, 0, 0, 1}),                     // AV1 sequence header
		mustPacket(t, av.KindVideo, 0, []byte{0x17, 0, 0, 0, 0, 2, 3}),                  // bad AVC record
		mustPacket(t, av.KindAudio, 0, aacSequenceHeader([]byte{0x17})),                 // bad ASC
		mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)),                      // good
		mustPacket(t, av.KindAudio, 0, aacFrame(make([]byte, av.MaxADTSPayload+1))),     // too big for ADTS
		mustPacket(t, av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS)),             // good
		mustPacket(t, av.KindVideo, 0, []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 9, 1}),         // NALU length overruns
		mustPacket(t, av.KindVideo, 0, []byte{0x27, 1, 0, 0, 0}),                        // no NAL unit
		mustPacket(t, av.KindVideo, 0, hevcEnhanced(false, 0, nil, []byte{0x02, 0x01})), // H.265 frame, H.264 config
		mustPacket(t, av.KindData, 0, []byte{2, 0, 1, 'x'}),                             // script data: ignored
		mustPacket(t, av.KindVideo, 0, []byte{0x57, 0}),                                 // command frame: ignored
		mustPacket(t, av.KindVideo, 0, []byte{0x17, 2, 0, 0, 0}),                        // end of sequence: ignored
	}
	for _, p := range packets {
		if err := tw.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	st := tw.Stats()
	want := map[string]uint64{
		dropVideoBeforeConfig.String(): 3,
		dropAudioCodec.String():        1,
		dropAudioBeforeConfig.String(): 1,
		dropVideoCodec.String():        1,
		dropBadVideoConfig.String():    1,
		dropBadAudioConfig.String():    1,
		dropAACTooLarge.String():       1,
		dropMalformedVideo.String():    2,
	}
	if st.Dropped != 11 || len(st.DropReasons) != len(want) {
		t.Fatalf("stats %+v", st)
	}
	for k, v := range want {
		if st.DropReasons[k] != v {
			t.Errorf("%s: %d, want %d", k, st.DropReasons[k], v)
		}
	}
	if lines := strings.Count(logs.String(), "\n"); lines != len(want) {
		t.Errorf("%d log lines, want one per reason:\n%s", lines, logs.String())
	}
	if out.Len() != 0 || st.VideoFrames+st.AudioFrames != 0 {
		t.Errorf("wrote %d bytes, frames %+v", out.Len(), st)
	}
}

func TestNewTSWriterOptions(t *testing.T) {
	for name, opts := range map[string]TSOptions{
		"same PID":     {VideoPID: 0x200, AudioPID: 0x200},
		"reserved PID": {VideoPID: 0x05},
		"PMT clash":    {AudioPID: mpegts.DefaultPMTPID},
		"bad PMT PID":  {PMTPID: 0x1fff},
		"video hint":   {VideoHint: av.CodecAV1},
		"audio hint":   {AudioHint: av.CodecOpus},
	} {
		if _, err := NewTSWriter(nil, opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	var out bytes.Buffer
	tw := newTS(t, &out, TSOptions{VideoPID: 0x44, AudioPID: 0x45, PMTPID: 0x46})
	_ = tw.WritePacket(mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)))
	_ = tw.WritePacket(mustPacket(t, av.KindAudio, 0, aacFrame([]byte{1})))
	if _, d := demux(t, out.Bytes()); d.Programs()[0].PMTPID != 0x46 || d.Programs()[0].Streams[0].PID != 0x45 {
		t.Fatalf("programs %+v", d.Programs())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteErrors(t *testing.T) {
	tw := newTS(t, failingWriter{}, TSOptions{})
	_ = tw.WritePacket(mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)))
	if err := tw.WritePacket(mustPacket(t, av.KindAudio, 0, aacFrame([]byte{1}))); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("ts: %v", err)
	}
	a := NewADTSWriter(failingWriter{}, nil)
	_ = a.WritePacket(mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)))
	if err := a.WritePacket(mustPacket(t, av.KindAudio, 0, aacFrame([]byte{1}))); err == nil {
		t.Fatal("aac: no error")
	}
	m := NewMP3Writer(failingWriter{}, nil)
	if err := m.WritePacket(mustPacket(t, av.KindAudio, 0, mp3Frame(10))); err == nil {
		t.Fatal("mp3: no error")
	}
}

// TestCodecHints checks the PMT of the first frame: hinted tracks are listed
// until the stream's own codec replaces them (SRS's hls_acodec/hls_vcodec).
func TestCodecHints(t *testing.T) {
	type stream struct {
		pid uint16
		typ mpegts.StreamType
	}
	video := func(ms uint32) *av.Packet { return mustPacket(t, av.KindVideo, ms, avcFrame(true, 0, []byte{0x65, 1})) }
	for _, tc := range []struct {
		name    string
		opts    TSOptions
		packets func() []*av.Packet
		first   []stream // the PMT before the first frame
		last    []stream // the PMT at the end
		pmts    int      // PMT versions seen
	}{
		{
			name: "no hints: MP3 after video changes the PMT",
			packets: func() []*av.Packet {
				return []*av.Packet{mustPacket(t, av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS)), video(0), mustPacket(t, av.KindAudio, 10, mp3Frame(50))}
			},
			first: []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH264}},
			last:  []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH264}, {mpegts.DefaultAudioPID, mpegts.StreamTypeMPEG1Audio}},
			pmts:  2,
		},
		{
			name: "MP3 hint: one PMT from the start",
			opts: TSOptions{AudioHint: av.CodecMP3},
			packets: func() []*av.Packet {
				return []*av.Packet{mustPacket(t, av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS)), video(0), mustPacket(t, av.KindAudio, 10, mp3Frame(50))}
			},
			first: []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH264}, {mpegts.DefaultAudioPID, mpegts.StreamTypeMPEG1Audio}},
			last:  []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH264}, {mpegts.DefaultAudioPID, mpegts.StreamTypeMPEG1Audio}},
			pmts:  1,
		},
		{
			name: "AAC hint replaced by MP3",
			opts: TSOptions{AudioHint: av.CodecAAC},
			packets: func() []*av.Packet {
				return []*av.Packet{mustPacket(t, av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS)), video(0), mustPacket(t, av.KindAudio, 10, mp3Frame(50))}
			},
			first: []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH264}, {mpegts.DefaultAudioPID, mpegts.StreamTypeAAC}},
			last:  []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH264}, {mpegts.DefaultAudioPID, mpegts.StreamTypeMPEG1Audio}},
			pmts:  2,
		},
		{
			name: "H.264 hint on an audio-only stream stays",
			opts: TSOptions{VideoHint: av.CodecH264},
			packets: func() []*av.Packet {
				return []*av.Packet{mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)), mustPacket(t, av.KindAudio, 0, aacFrame([]byte{1, 2}))}
			},
			first: []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH264}, {mpegts.DefaultAudioPID, mpegts.StreamTypeAAC}},
			last:  []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH264}, {mpegts.DefaultAudioPID, mpegts.StreamTypeAAC}},
			pmts:  1,
		},
		{
			name: "H.265 hint replaced by H.264",
			opts: TSOptions{VideoHint: av.CodecH265, AudioHint: av.CodecAAC},
			packets: func() []*av.Packet {
				return []*av.Packet{mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)), mustPacket(t, av.KindAudio, 0, aacFrame([]byte{1, 2})),
					mustPacket(t, av.KindVideo, 20, avcSequenceHeader(testSPS, testPPS)), video(20)}
			},
			first: []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH265}, {mpegts.DefaultAudioPID, mpegts.StreamTypeAAC}},
			last:  []stream{{mpegts.DefaultVideoPID, mpegts.StreamTypeH264}, {mpegts.DefaultAudioPID, mpegts.StreamTypeAAC}},
			pmts:  2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			tw := newTS(t, &out, tc.opts)
			var firstPMT []stream
			for _, p := range tc.packets() {
				if err := tw.WritePacket(p); err != nil {
					t.Fatal(err)
				}
				if firstPMT == nil && out.Len() > 0 {
					_, d := demux(t, out.Bytes())
					for _, s := range d.Programs()[0].Streams {
						firstPMT = append(firstPMT, stream{s.PID, s.Type})
					}
				}
			}
			_, d := demux(t, out.Bytes())
			var last []stream
			for _, s := range d.Programs()[0].Streams {
				last = append(last, stream{s.PID, s.Type})
			}
			if !slices.Equal(firstPMT, tc.first) || !slices.Equal(last, tc.last) {
				t.Fatalf("PMT first %v last %v, want %v then %v", firstPMT, last, tc.first, tc.last)
			}
			if n := countPMTVersions(out.Bytes()); n != tc.pmts {
				t.Fatalf("%d PMT versions, want %d", n, tc.pmts)
			}
		})
	}
}

// countPMTVersions counts the distinct PMT versions in a transport stream.
func countPMTVersions(b []byte) int {
	seen := map[byte]bool{}
	for i := 0; i+188 <= len(b); i += 188 {
		p := b[i : i+188]
		pid := uint16(p[1]&0x1f)<<8 | uint16(p[2])
		if pid != mpegts.DefaultPMTPID || p[1]&0x40 == 0 {
			continue
		}
		off := 4
		if p[3]&0x20 != 0 {
			off += 1 + int(p[4])
		}
		off += 1 + int(p[off]) // pointer field
		seen[(p[off+5]>>1)&0x1f] = true
	}
	return len(seen)
}
