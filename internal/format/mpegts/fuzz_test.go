package mpegts

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// FuzzDemuxer feeds arbitrary bytes to the demuxer: it must never panic,
// hang or return a frame larger than its limit.
func FuzzDemuxer(f *testing.F) {
	// Small seeds keep each execution (and minimizing) fast.
	m := newTestMuxer(f, nil)
	muxed := m.AppendTables(nil)
	for i := 0; i < 6; i++ {
		muxed, _ = m.AppendFrame(muxed, &Frame{PID: DefaultVideoPID, PTS: int64(i) * 3600, DTS: int64(i)*3600 - 3600, HasDTS: true, RandomAccess: i == 0, Data: pattern(150+i*60, byte(i))})
		muxed, _ = m.AppendFrame(muxed, &Frame{PID: DefaultAudioPID, PTS: int64(i) * 1920, Data: pattern(40+i, byte(i))})
	}
	f.Add(muxed)
	f.Add(muxed[:len(muxed)/2+77])
	damaged := bytes.Clone(muxed)
	for i := 100; i < len(damaged); i += 1013 {
		damaged[i] ^= 0x5a
	}
	f.Add(damaged)
	if sample := ffmpegSample(f); sample != nil {
		f.Add(sample)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDemuxer(bytes.NewReader(data))
		d.MaxPESSize = 1 << 16
		for i := 0; ; i++ {
			fr, err := d.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("unexpected error on an in-memory stream: %v", err)
			}
			if len(fr.Data) > d.MaxPESSize {
				t.Fatalf("frame of %d bytes over the %d limit", len(fr.Data), d.MaxPESSize)
			}
			if i > len(data) {
				t.Fatalf("%d frames from %d bytes", i, len(data))
			}
		}
		if st := d.Stats(); st.Packets > uint64(len(data)/PacketSize) || st.SkippedBytes > uint64(len(data)) {
			t.Fatalf("stats %+v for %d bytes", st, len(data))
		}
	})
}

// ffmpegSample returns the first 24 packets of a small H.264+AAC transport
// stream made by ffmpeg, or nil without ffmpeg.
func ffmpegSample(f *testing.F) []byte {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil
	}
	out := filepath.Join(f.TempDir(), "sample.ts")
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc=size=32x32:rate=10", "-f", "lavfi", "-i", "sine=sample_rate=8000",
		"-t", "0.5", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "16k", "-f", "mpegts", out)
	if err := cmd.Run(); err != nil {
		return nil
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil
	}
	return b[:min(len(b), 24*PacketSize)]
}

// FuzzMuxerRoundTrip muxes frames of fuzzed sizes, timestamps and flags:
// the demuxer must return them unchanged.
func FuzzMuxerRoundTrip(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 0xb7, 0, 0, 0, 0, 1, 0x5f, 0x90, 0x01, 0x00, 0x10, 0, 0xb6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, spec []byte) {
		m := newTestMuxer(t, nil)
		b := m.AppendTables(nil)
		var want []Frame
		for len(spec) >= 12 && len(want) < 64 {
			flags := spec[0]
			size := int(binary.BigEndian.Uint16(spec[1:])) % 4000
			pts := int64(binary.BigEndian.Uint32(spec[3:])) << 1 & timestampMask
			dts := pts - int64(spec[7])*100
			spec = spec[12:]
			fr := Frame{PID: DefaultAudioPID, StreamType: StreamTypeAAC, PTS: pts, DTS: pts, RandomAccess: flags&2 != 0, Data: pattern(size, flags)}
			if flags&1 != 0 {
				fr.PID, fr.StreamType = DefaultVideoPID, StreamTypeH264
				if dts >= 0 && dts != pts {
					fr.DTS, fr.HasDTS = dts, true
				}
			}
			if flags&4 != 0 {
				fr.PTS, fr.DTS, fr.HasDTS = NoPTS, NoPTS, false
			}
			var err error
			if b, err = m.AppendFrame(b, &fr); err != nil {
				t.Fatal(err)
			}
			want = append(want, fr)
		}
		got := demuxAll(t, b)
		// Video PES are unbounded only past 64 KiB, which these are not, so
		// frames come back in order.
		if len(got) != len(want) {
			t.Fatalf("%d frames back, want %d", len(got), len(want))
		}
		for i := range want {
			if !sameFrame(got[i], want[i]) {
				t.Fatalf("frame %d\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
	})
}
