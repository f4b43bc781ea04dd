//go:build cgo && !castd_nolibav

package transcode

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
)

func TestAvailable(t *testing.T) {
	if err := Available(); err != nil {
		t.Fatalf("Available() = %v in a libav build", err)
	}
}

// transcodeAll writes every frame of s, stamped by pts, and collects copies
// of the output.
func transcodeAll(t *testing.T, tc Transcoder, s aacStream, pts func(i int) time.Duration) []Frame {
	t.Helper()
	var out []Frame
	for i, f := range s.frames {
		frames, err := tc.Write(f, pts(i))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		for _, o := range frames {
			o.Data = bytes.Clone(o.Data)
			out = append(out, o)
		}
	}
	return out
}

func TestAACToOpus(t *testing.T) {
	const seconds = 2
	tests := []struct {
		name        string
		rate, ch    int
		native      bool
		wantEncoder string
		start       time.Duration
	}{
		{"44.1 kHz stereo", 44100, 2, false, "libopus", 0},
		{"48 kHz mono", 48000, 1, false, "libopus", 0},
		{"32 kHz stereo, late start", 32000, 2, false, "libopus", 3 * time.Hour},
		{"FFmpeg's own encoder", 44100, 2, true, "opus", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := makeAAC(t, seconds, tt.rate, tt.ch)
			tc, err := newAACToOpus(in.asc, DefaultBitrate, tt.native)
			if err != nil {
				t.Fatal(err)
			}
			defer tc.Close()
			if dec, enc := tc.codecNames(); dec != "aac" || enc != tt.wantEncoder {
				t.Errorf("codecs %q → %q, want aac → %q", dec, enc, tt.wantEncoder)
			}
			out := transcodeAll(t, tc, in, func(i int) time.Duration { return tt.start + in.pts(i) })

			inDuration := in.pts(len(in.frames))
			want := int(inDuration / (20 * time.Millisecond))
			if len(out) < want-2 || len(out) > want+2 {
				t.Errorf("%d Opus frames for %v of input, want %d±2", len(out), inDuration, want)
			}
			if len(out) == 0 {
				t.FailNow()
			}
			if first := out[0].PTS; first < tt.start || first > tt.start+20*time.Millisecond {
				t.Errorf("first PTS %v, want within 20ms after the input's %v", first, tt.start)
			}
			if steps := irregular(out); len(steps) > 0 {
				t.Errorf("PTS steps other than the frame duration: %v", steps)
			}
			for i, f := range out {
				if f.Duration != 20*time.Millisecond || len(f.Data) == 0 {
					t.Fatalf("frame %d: %v, %d bytes; want 20ms and data", i, f.Duration, len(f.Data))
				}
				d, n := opusTOCDuration(f.Data[0])
				if d*time.Duration(n) != 20*time.Millisecond {
					t.Fatalf("frame %d: TOC %#02x says %d×%v, want 20ms", i, f.Data[0], n, d)
				}
				if f.Data[0]&0x04 == 0 {
					t.Fatalf("frame %d: TOC %#02x is mono, want stereo", i, f.Data[0])
				}
			}
		})
	}
}

// TestRoundTrip goes AAC → Opus → AAC and has ffmpeg decode the result: it
// must decode without errors, last as long as the input and still be the
// sine, not silence.
func TestRoundTrip(t *testing.T) {
	const seconds = 3
	tests := []struct {
		name        string
		channels    int
		native      bool
		wantDecoder string
	}{
		{"stereo", 2, false, "libopus"},
		{"mono decoder", 1, false, "libopus"},
		{"FFmpeg's own decoder", 2, true, "opus"},
	}
	opus := makeOpus(t, seconds)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := newOpusToAAC(tt.channels, DefaultBitrate, tt.native)
			if err != nil {
				t.Fatal(err)
			}
			defer tc.Close()
			if dec, enc := tc.codecNames(); dec != tt.wantDecoder || enc != "aac" {
				t.Errorf("codecs %q → %q, want %q → aac", dec, enc, tt.wantDecoder)
			}
			cfg, err := av.ParseAudioSpecificConfig(tc.AudioSpecificConfig())
			if err != nil {
				t.Fatalf("output ASC %x: %v", tc.AudioSpecificConfig(), err)
			}
			if cfg.ObjectType != av.AACObjectLC || cfg.SampleRate != 48000 || cfg.Channels != 2 {
				t.Errorf("output ASC %x: %+v, want AAC-LC 48 kHz stereo", tc.AudioSpecificConfig(), cfg)
			}
			var out []Frame
			for i, f := range opus {
				frames, err := tc.Write(f.Data, f.PTS)
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				for _, o := range frames {
					o.Data = bytes.Clone(o.Data)
					out = append(out, o)
				}
			}
			if len(out) == 0 {
				t.Fatal("no AAC frames")
			}
			if steps := irregular(out); len(steps) > 0 {
				t.Errorf("PTS steps other than the frame duration: %v", steps)
			}
			if want := samplesToDuration(1024, 48000); out[0].Duration != want {
				t.Errorf("AAC frame duration %v, want %v", out[0].Duration, want)
			}
			if first := out[0].PTS; first < opus[0].PTS || first > opus[0].PTS+out[0].Duration {
				t.Errorf("first AAC PTS %v, first Opus PTS %v", first, opus[0].PTS)
			}

			duration, meanDB := decodeWithFFmpeg(t, writeADTS(t, tc.AudioSpecificConfig(), out))
			t.Logf("%d Opus packets → %d AAC frames: ffmpeg decodes %v at %.1f dB mean", len(opus), len(out), duration, meanDB)
			want := time.Duration(seconds) * time.Second
			if duration < want*95/100 || duration > want*105/100 {
				t.Errorf("decoded %v, want %v±5%%", duration, want)
			}
			if meanDB < -40 {
				t.Errorf("mean volume %.1f dB: the sine came out silent", meanDB)
			}
		})
	}
}

// TestTimestamps feeds input stamped the ways real streams are and checks
// the output clock: steady 20 ms steps through jitter and lost frames, and
// one step where the input jumps.
func TestTimestamps(t *testing.T) {
	in := makeAAC(t, 2, 48000, 2)
	fd := in.pts(1)
	mid := len(in.frames) / 2
	tests := []struct {
		name string
		pts  func(i int) time.Duration
		drop func(i int) bool
		// wantJump is the one irregular step expected, 0 for none.
		wantJump time.Duration
	}{
		{name: "RTMP millisecond timestamps", pts: func(i int) time.Duration { return in.pts(i).Truncate(time.Millisecond) }},
		{name: "jitter of 8 ms", pts: func(i int) time.Duration { return in.pts(i) + time.Duration(i%3-1)*8*time.Millisecond }},
		{
			name: "three lost frames are filled",
			pts:  in.pts,
			drop: func(i int) bool { return i == 10 || i == 30 || i == 50 },
		},
		{
			name: "a 500 ms jump",
			pts: func(i int) time.Duration {
				if i >= mid {
					return in.pts(i) + 500*time.Millisecond
				}
				return in.pts(i)
			},
			wantJump: 500 * time.Millisecond,
		},
		{
			name: "timestamps restart from zero",
			pts: func(i int) time.Duration {
				if i >= mid {
					return in.pts(i - mid)
				}
				return 10*time.Second + in.pts(i)
			},
			wantJump: -10*time.Second - in.pts(mid),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := NewAACToOpus(in.asc, DefaultBitrate)
			if err != nil {
				t.Fatal(err)
			}
			defer tc.Close()
			s := in
			if tt.drop != nil {
				s.frames = nil
				for i, f := range in.frames {
					if tt.drop(i) {
						f = nil // skipped below
					}
					s.frames = append(s.frames, f)
				}
			}
			var out []Frame
			for i, f := range s.frames {
				if f == nil {
					continue
				}
				frames, err := tc.Write(f, tt.pts(i))
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				out = append(out, frames...)
			}
			steps := irregular(out)
			switch {
			case tt.wantJump == 0 && len(steps) > 0:
				t.Fatalf("irregular PTS steps %v, want none", steps)
			case tt.wantJump != 0 && len(steps) != 1:
				t.Fatalf("irregular PTS steps %v, want one of about %v", steps, tt.wantJump)
			case tt.wantJump != 0:
				// The step also holds the frame itself and the padding of the last one.
				if d := steps[0] - tt.wantJump; d < -fd || d > 2*fd {
					t.Errorf("jump of %v, want about %v", steps[0], tt.wantJump)
				}
			}
			// The clock must end where the input does: lost frames were
			// filled, not skipped. What stays in the FIFO and the encoder is
			// under two frames.
			last := out[len(out)-1]
			inEnd := tt.pts(len(s.frames)-1) + fd
			if gap := inEnd - (last.PTS + last.Duration); gap < 0 || gap > 2*fd {
				t.Errorf("output ends at %v, input at %v", last.PTS+last.Duration, inEnd)
			}
		})
	}
}

func TestCorruptInput(t *testing.T) {
	in := makeAAC(t, 1, 44100, 2)
	opus := makeOpus(t, 1)
	corrupt := []struct {
		name  string
		frame []byte
	}{
		{"empty", nil},
		{"huge", make([]byte, maxInputFrame+1)},
		{"all ones", bytes.Repeat([]byte{0xff}, 200)},
		{"truncated", in.frames[5][:3]},
		{"ADTS header where raw data belongs", []byte{0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc}},
	}
	aac, err := NewAACToOpus(in.asc, DefaultBitrate)
	if err != nil {
		t.Fatal(err)
	}
	defer aac.Close()
	toAAC, err := NewOpusToAAC(2, DefaultBitrate)
	if err != nil {
		t.Fatal(err)
	}
	defer toAAC.Close()
	opusCorrupt := []struct {
		name  string
		frame []byte
	}{
		{"empty", nil},
		{"huge", make([]byte, maxInputFrame+1)},
		{"code 3 with no frames", []byte{0xfb, 0x00}},
		{"code 2 length beyond the packet", []byte{0xfa, 0xfc, 0xff}},
	}

	// Each corrupt frame fails alone; the next good frames still make output
	// on the same clock.
	good := 0
	var produced []Frame
	for _, c := range corrupt {
		t.Run("AAC "+c.name, func(t *testing.T) {
			_, err := aac.Write(c.frame, in.pts(good))
			if err == nil {
				t.Errorf("Write(%s) returned no error", c.name)
			}
			t.Log(err)
			for range 4 {
				frames, err := aac.Write(in.frames[good], in.pts(good))
				if err != nil {
					t.Fatalf("good frame %d after %s: %v", good, c.name, err)
				}
				produced = append(produced, frames...)
				good++
			}
		})
	}
	if len(produced) == 0 || len(irregular(produced)) > 0 {
		t.Errorf("%d frames with irregular steps %v after corrupt input", len(produced), irregular(produced))
	}
	good, produced = 0, nil
	for _, c := range opusCorrupt {
		t.Run("Opus "+c.name, func(t *testing.T) {
			_, err := toAAC.Write(c.frame, opus[good].PTS)
			if err == nil {
				t.Errorf("Write(%s) returned no error", c.name)
			}
			t.Log(err)
			for range 4 {
				frames, err := toAAC.Write(opus[good].Data, opus[good].PTS)
				if err != nil {
					t.Fatalf("good packet %d after %s: %v", good, c.name, err)
				}
				produced = append(produced, frames...)
				good++
			}
		})
	}
	if len(produced) == 0 {
		t.Error("no AAC after corrupt Opus")
	}
}

func TestConstructorErrors(t *testing.T) {
	asc := []byte{0x11, 0x90} // AAC-LC 48 kHz stereo
	tests := []struct {
		name    string
		asc     []byte
		bitrate int
	}{
		{"no ASC", nil, DefaultBitrate},
		{"short ASC", asc[:1], DefaultBitrate},
		{"object type 0", []byte{0x01, 0x90}, DefaultBitrate},
		{"reserved frequency index", []byte{0x16, 0x90}, DefaultBitrate},
		{"explicit 1000 Hz", []byte{0x17, 0x80, 0x03, 0xe8, 0x10}, DefaultBitrate},
		{"huge ASC", append(bytes.Clone(asc), make([]byte, maxASC)...), DefaultBitrate},
		{"bitrate 0", asc, 0},
		{"bitrate below SRS's range", asc, MinBitrate - 1},
		{"bitrate above SRS's range", asc, MaxBitrate + 1},
	}
	for _, tt := range tests {
		if tc, err := NewAACToOpus(tt.asc, tt.bitrate); err == nil {
			tc.Close()
			t.Errorf("NewAACToOpus(%s) returned no error", tt.name)
		}
	}
	for _, ch := range []int{0, 3, -1} {
		if tc, err := NewOpusToAAC(ch, DefaultBitrate); err == nil {
			tc.Close()
			t.Errorf("NewOpusToAAC(%d channels) returned no error", ch)
		}
	}
	for _, br := range []int{MinBitrate, MaxBitrate} {
		for _, ch := range []int{1, 2} {
			tc, err := NewOpusToAAC(ch, br)
			if err != nil {
				t.Errorf("NewOpusToAAC(%d, %d): %v", ch, br, err)
				continue
			}
			tc.Close()
		}
		tc, err := NewAACToOpus(asc, br)
		if err != nil {
			t.Errorf("NewAACToOpus(%d): %v", br, err)
			continue
		}
		tc.Close()
	}
}

func TestClose(t *testing.T) {
	tc, err := NewOpusToAAC(2, DefaultBitrate)
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tc.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := tc.Write([]byte{0xfc, 0xff, 0xfe}, 0); !errors.Is(err, errClosed) {
		t.Fatalf("Write after Close: %v, want %v", err, errClosed)
	}
}
