package mp4

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
)

// Sequence headers and frames taken from FLVs made by ffmpeg 5.1:
// `-f lavfi -i testsrc=size=64x48:rate=25 -pix_fmt yuv420p -c:v libx264
// -profile:v baseline -f lavfi -i sine=sample_rate=44100 -c:a aac` and
// `-c:a libmp3lame -b:a 64k` (mono).
const (
	avcSequenceHeader = "17000000000142c00affe100156742c00ada11ec0440000003004000000c83c489a801000468ce0fc8"
	aacSequenceHeader = "af00120856e500" // AAC LC 44.1 kHz mono, with an explicit "no SBR" extension
	mp3Frame          = "2efffb50c400000a"
)

func packet(t *testing.T, kind av.Kind, ts uint32, hexBody string) *av.Packet {
	t.Helper()
	p, err := av.NewPacket(kind, ts, unhex(t, hexBody))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTrackConstructors(t *testing.T) {
	video, err := TrackFromSequenceHeader(packet(t, av.KindVideo, 0, avcSequenceHeader))
	if err != nil {
		t.Fatal(err)
	}
	wantConfig := unhex(t, avcSequenceHeader)[5:]
	if video.ID != DefaultVideoTrackID || video.Kind != KindVideo || video.Codec != av.CodecH264 || video.Timescale != VideoTimescale ||
		video.Width != 64 || video.Height != 48 || !bytes.Equal(video.Config, wantConfig) {
		t.Errorf("video track %+v", video)
	}

	audio, err := TrackFromSequenceHeader(packet(t, av.KindAudio, 0, aacSequenceHeader))
	if err != nil {
		t.Fatal(err)
	}
	if audio.ID != DefaultAudioTrackID || audio.Kind != KindAudio || audio.Codec != av.CodecAAC || audio.Timescale != 44100 ||
		audio.SampleRate != 44100 || audio.Channels != 1 || audio.DefaultDuration != 1024 || !bytes.Equal(audio.Config, unhex(t, "120856e500")) {
		t.Errorf("AAC track %+v", audio)
	}

	mp3, err := TrackFromMP3Frame(packet(t, av.KindAudio, 0, mp3Frame))
	if err != nil {
		t.Fatal(err)
	}
	if mp3.Codec != av.CodecMP3 || mp3.Timescale != 44100 || mp3.SampleRate != 44100 || mp3.Channels != 1 || mp3.DefaultDuration != 1152 || len(mp3.Config) != 0 {
		t.Errorf("MP3 track %+v", mp3)
	}

	// HE-AAC: 24 kHz core, SBR to 48 kHz; a frame lasts 2048 output samples.
	he, err := TrackFromSequenceHeader(packet(t, av.KindAudio, 0, "af00"+"2b118800"))
	if err != nil {
		t.Fatal(err)
	}
	if he.SampleRate != 48000 || he.Timescale != 48000 || he.DefaultDuration != 2048 || he.Channels != 2 {
		t.Errorf("HE-AAC track %+v", he)
	}
}

func TestTrackConstructorErrors(t *testing.T) {
	cases := []struct {
		name string
		fn   func() (Track, error)
		want string
	}{
		{"AVC frame, not a header", func() (Track, error) {
			return TrackFromSequenceHeader(packet(t, av.KindVideo, 0, "1701000000000000020000"))
		}, "not a sequence header"},
		{"AAC frame, not a header", func() (Track, error) {
			return TrackFromSequenceHeader(packet(t, av.KindAudio, 0, "af01aabb"))
		}, "not a sequence header"},
		{"MP3 has no header", func() (Track, error) {
			return TrackFromSequenceHeader(packet(t, av.KindAudio, 0, mp3Frame))
		}, "TrackFromMP3Frame"},
		{"VP6 video", func() (Track, error) {
			return TrackFromSequenceHeader(packet(t, av.KindVideo, 0, "1400"))
		}, "not a sequence header"},
		{"Speex audio", func() (Track, error) {
			return TrackFromSequenceHeader(packet(t, av.KindAudio, 0, "b600"))
		}, "not supported"},
		{"broken avcC", func() (Track, error) {
			return TrackFromSequenceHeader(packet(t, av.KindVideo, 0, "1700000000010203"))
		}, "AVC config"},
		{"broken ASC", func() (Track, error) {
			return TrackFromSequenceHeader(packet(t, av.KindAudio, 0, "af0012"))
		}, "AudioSpecificConfig"},
		{"data packet", func() (Track, error) {
			return TrackFromSequenceHeader(&av.Packet{Kind: av.KindData})
		}, "not a sequence header"},
		{"MP3 from AAC", func() (Track, error) {
			return TrackFromMP3Frame(packet(t, av.KindAudio, 0, aacSequenceHeader))
		}, "MP3 track from a AAC"},
		{"MP3 without sync", func() (Track, error) {
			return TrackFromMP3Frame(packet(t, av.KindAudio, 0, "2e00112233"))
		}, "sync word"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.fn()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestTrackValidate(t *testing.T) {
	good := Track{ID: 1, Kind: KindVideo, Codec: av.CodecH264, Timescale: 90000, Width: 2, Height: 2, Config: []byte{1}}
	cases := []struct {
		name   string
		modify func(*Track)
		want   string
	}{
		{"id 0", func(t *Track) { t.ID = 0 }, "id 0"},
		{"timescale 0", func(t *Track) { t.Timescale = 0 }, "timescale 0"},
		{"VP8", func(t *Track) { t.Codec = av.CodecVP8 }, "not supported"},
		{"audio codec on video", func(t *Track) { t.Codec = av.CodecAAC }, "is video but"},
		{"no size", func(t *Track) { t.Width = 0 }, "video size"},
		{"huge size", func(t *Track) { t.Height = 70000 }, "video size"},
		{"no config", func(t *Track) { t.Config = nil }, "no decoder configuration"},
		{"video codec on audio", func(t *Track) { t.Kind = KindAudio; t.SampleRate, t.Channels = 8000, 1 }, "is audio but"},
		{"no rate", func(t *Track) { *t = Track{ID: 1, Kind: KindAudio, Codec: av.CodecMP3, Timescale: 1, Channels: 1} }, "0 Hz"},
		{"AAC without config", func(t *Track) {
			*t = Track{ID: 1, Kind: KindAudio, Codec: av.CodecAAC, Timescale: 1, SampleRate: 8000, Channels: 1}
		}, "no AudioSpecificConfig"},
		{"no kind", func(t *Track) { t.Kind = 0 }, "kind(0)"},
		{"huge config", func(t *Track) { t.Config = make([]byte, maxConfigSize+1) }, "too large"},
	}
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := good
			c.modify(&tr)
			err := tr.validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if _, err := InitSegment(tr); err == nil {
				t.Fatal("InitSegment accepted the track")
			}
		})
	}
	if _, err := InitSegment(good, good); err == nil || !strings.Contains(err.Error(), "two tracks") {
		t.Fatalf("duplicate ids: %v", err)
	}
	if _, err := InitSegment(); err == nil {
		t.Fatal("no tracks accepted")
	}
}

func TestCodecString(t *testing.T) {
	hvcC := func(b1 byte, compat string, constraints string, level byte) []byte {
		b := []byte{1, b1}
		b = append(b, unhex(t, compat)...)
		b = append(b, unhex(t, constraints)...)
		return append(b, level)
	}
	cases := []struct {
		name  string
		track Track
		want  string
	}{
		{"H.264 baseline", Track{Codec: av.CodecH264, Config: unhex(t, avcSequenceHeader)[5:]}, "avc1.42C00A"},
		{"H.264 high", Track{Codec: av.CodecH264, Config: []byte{1, 0x64, 0x00, 0x1f}}, "avc1.64001F"},
		{"HEVC main", Track{Codec: av.CodecH265, Config: hvcC(0x01, "60000000", "900000000000", 93)}, "hvc1.1.6.L93.90"},
		{"HEVC main10 high tier", Track{Codec: av.CodecH265, Config: hvcC(0x22, "20000000", "b00000000001", 120)}, "hvc1.2.4.H120.B0.0.0.0.0.1"},
		{"HEVC profile space 1", Track{Codec: av.CodecH265, Config: hvcC(0x41, "00000001", "000000000000", 30)}, "hvc1.A1.80000000.L30"},
		{"AV1 8-bit", Track{Codec: av.CodecAV1, Config: unhex(t, "8104 0c 00")}, "av01.0.04M.08"},
		{"AV1 10-bit high tier", Track{Codec: av.CodecAV1, Config: unhex(t, "8128 cc 00")}, "av01.1.08H.10"},
		{"AAC LC", Track{Codec: av.CodecAAC, Config: []byte{0x12, 0x10}}, "mp4a.40.2"},
		{"HE-AAC", Track{Codec: av.CodecAAC, Config: unhex(t, "2b118800")}, "mp4a.40.5"},
		{"MP3", Track{Codec: av.CodecMP3, SampleRate: 44100}, "mp4a.6B"},
		{"MP3 low rate", Track{Codec: av.CodecMP3, SampleRate: 16000}, "mp4a.69"},
	}
	for _, c := range cases {
		got, err := c.track.CodecString()
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for _, bad := range []Track{
		{Codec: av.CodecH264, Config: []byte{1, 2}},
		{Codec: av.CodecH265, Config: make([]byte, 12)},
		{Codec: av.CodecAV1, Config: []byte{1, 2, 3, 4}},
		{Codec: av.CodecAAC, Config: []byte{0}},
		{Codec: av.CodecOpus},
	} {
		if s, err := bad.CodecString(); err == nil {
			t.Errorf("%s with config %x: %q, want an error", bad.Codec, bad.Config, s)
		}
	}
}

func TestSampleFromPacket(t *testing.T) {
	video := Track{ID: 1, Kind: KindVideo, Codec: av.CodecH264, Timescale: 90000}
	audio := Track{ID: 2, Kind: KindAudio, Codec: av.CodecAAC, Timescale: 44100}
	av1 := Track{ID: 1, Kind: KindVideo, Codec: av.CodecAV1, Timescale: 90000}
	cases := []struct {
		name    string
		track   Track
		kind    av.Kind
		ts      uint32
		body    string
		want    Sample
		wantErr error
	}{
		{"AVC keyframe with composition time 80 ms", video, av.KindVideo, 1000, "17 01 000050 00000002 6588",
			Sample{DTS: 90000, PTS: 97200, Keyframe: true, Data: unhex(t, "00000002 6588")}, nil},
		{"AVC inter frame, negative composition time", video, av.KindVideo, 40, "27 01 ffffd8 00000001 41",
			Sample{DTS: 3600, PTS: 0, Data: unhex(t, "00000001 41")}, nil},
		{"AVC sequence header", video, av.KindVideo, 0, avcSequenceHeader, Sample{}, ErrNoSample},
		{"AVC end of sequence", video, av.KindVideo, 0, "1702000000", Sample{}, ErrNoSample},
		{"AVC empty frame", video, av.KindVideo, 0, "2701000000", Sample{}, ErrNoSample},
		{"AAC frame", audio, av.KindAudio, 1000, "af01 2110", Sample{DTS: 44100, PTS: 44100, Keyframe: true, Data: unhex(t, "2110")}, nil},
		{"AAC header", audio, av.KindAudio, 0, aacSequenceHeader, Sample{}, ErrNoSample},
		{"AAC empty frame", audio, av.KindAudio, 0, "af01", Sample{}, ErrNoSample},
		{"AV1 frame with a temporal delimiter", av1, av.KindVideo, 40, "93 61763031 1200 3203aabbcc",
			Sample{DTS: 3600, PTS: 3600, Keyframe: true, Data: unhex(t, "3203aabbcc")}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := c.track.SampleFromPacket(packet(t, c.kind, c.ts, c.body))
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
			if s.DTS != c.want.DTS || s.PTS != c.want.PTS || s.Keyframe != c.want.Keyframe || !bytes.Equal(s.Data, c.want.Data) {
				t.Fatalf("sample %+v, want %+v", s, c.want)
			}
		})
	}
	if _, err := audio.SampleFromPacket(packet(t, av.KindVideo, 0, "1701000000aa")); err == nil {
		t.Fatal("an H264 packet made an AAC sample")
	}
}

func TestTrimAV1TemporalDelimiter(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1200 0a0b", "0a0b"},                                // TD with size 0
		{"1600 00 0a0b", "0a0b"},                             // with an extension byte
		{"1280 00 0a0b", "0a0b"},                             // size padded to two LEB128 bytes
		{"1201 ff 0a0b", "1201ff0a0b"},                       // not empty: left alone
		{"1281 00 0a", "128100 0a"},                          // padded, but not zero
		{"10 0a0b", "100a0b"},                                // TD without size field: left alone
		{"0a0b", "0a0b"},                                     // sequence header first
		{"12", "12"},                                         // too short
		{"1280808080808080808080", "1280808080808080808080"}, // endless size
	}
	for _, c := range cases {
		got := trimAV1TemporalDelimiter(unhex(t, c.in))
		if !bytes.Equal(got, unhex(t, c.want)) {
			t.Errorf("%s: got %x, want %s", c.in, got, c.want)
		}
	}
}
