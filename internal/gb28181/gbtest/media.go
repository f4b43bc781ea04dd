package gbtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/castd/castd/internal/format/mpegps"
)

// Media is what a simulated camera sends: H.264 access units and AAC
// frames with their timing.
type Media struct {
	Video      [][]byte // Annex-B access units
	FPS        int
	Audio      [][]byte // ADTS frames; none for a silent camera
	SampleRate int
	// FrameSamples is the samples in each audio frame: 1024 (AAC) when 0.
	FrameSamples int
}

// MakeMedia encodes seconds of a test pattern (and a tone) with ffmpeg:
// H.264 at 25 fps with an AUD before each frame and a keyframe each second,
// and 44.1 kHz AAC.
func MakeMedia(ffmpeg, dir string, seconds int) (Media, error) {
	v, a := filepath.Join(dir, "gb.h264"), filepath.Join(dir, "gb.aac")
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=320x240:rate=25:duration=%d", seconds),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=44100:duration=%d", seconds),
		"-map", "0:v", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "25",
		"-bsf:v", "h264_metadata=aud=insert", "-f", "h264", v,
		"-map", "1:a", "-c:a", "aac", "-b:a", "64k", "-ac", "2", "-f", "adts", a}
	if out, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
		return Media{}, fmt.Errorf("gbtest: ffmpeg: %v: %s", err, out)
	}
	es, err := os.ReadFile(v)
	if err != nil {
		return Media{}, err
	}
	aac, err := os.ReadFile(a)
	if err != nil {
		return Media{}, err
	}
	m := Media{Video: SplitAccessUnits(es), FPS: 25, SampleRate: 44100}
	if m.Audio, err = SplitADTS(aac); err != nil {
		return Media{}, err
	}
	return m, nil
}

// SplitAccessUnits cuts an H.264 Annex-B stream before each access unit
// delimiter.
func SplitAccessUnits(es []byte) [][]byte {
	aud := []byte{0, 0, 0, 1, 0x09}
	var out [][]byte
	for len(es) > 0 {
		i := bytes.Index(es[1:], aud)
		if i < 0 {
			return append(out, es)
		}
		out = append(out, es[:1+i])
		es = es[1+i:]
	}
	return out
}

// SplitADTS cuts an ADTS stream into frames.
func SplitADTS(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 7 || b[0] != 0xff || b[1]&0xf6 != 0xf0 {
			return nil, fmt.Errorf("gbtest: no ADTS frame at %d bytes from the end", len(b))
		}
		n := int(b[3]&0x03)<<11 | int(b[4])<<3 | int(b[5])>>5
		if n < 7 || n > len(b) {
			return nil, fmt.Errorf("gbtest: ADTS frame of %d bytes", n)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out, nil
}

// isKeyframe reports whether an access unit holds an IDR slice.
func isKeyframe(au []byte) bool {
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 && au[i+3]&0x1f == 5 {
			return true
		}
	}
	return false
}

// rtpPayloadSize is the PS bytes per RTP packet, as devices use.
const rtpPayloadSize = 1400

// Sender sends a camera's media to castd's media port.
type Sender struct {
	SSRC uint32
	// Realtime paces frames by their timestamps; otherwise they go as
	// fast as the connection takes them.
	Realtime bool
	// StartPTS is the first frame's timestamp (90 kHz).
	StartPTS int64
	// VideoType and AudioType are what the PSM announces: H.264 and AAC
	// unless set before the first Send.
	VideoType, AudioType mpegps.StreamType

	conn net.Conn
	seq  uint16
	mux  *mpegps.Muxer
}

// DialMedia connects to castd's media port.
func DialMedia(ctx context.Context, addr string, ssrc uint32) (*Sender, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Sender{SSRC: ssrc, StartPTS: 90000, conn: conn, VideoType: mpegps.StreamTypeH264, AudioType: mpegps.StreamTypeAAC}, nil
}

// Close closes the media connection.
func (s *Sender) Close() error { return s.conn.Close() }

// Send sends the media once, video and audio interleaved by time, until
// ctx ends. It returns how many video frames went out.
func (s *Sender) Send(ctx context.Context, m Media) (int, error) {
	if s.mux == nil {
		s.mux = mpegps.NewMuxer(mpegps.MuxStream{ID: mpegps.StreamIDVideo, Type: s.VideoType},
			mpegps.MuxStream{ID: mpegps.StreamIDAudio, Type: s.AudioType})
	}
	samples := int64(m.FrameSamples)
	if samples == 0 {
		samples = 1024
	}
	start := time.Now()
	vi, ai := 0, 0
	for vi < len(m.Video) || ai < len(m.Audio) {
		if err := ctx.Err(); err != nil {
			return vi, err
		}
		vt := int64(vi) * 90000 / int64(m.FPS)
		at := int64(ai) * samples * 90000 / int64(max(m.SampleRate, 1))
		var f mpegps.Frame
		keyframe := false
		if ai >= len(m.Audio) || (vi < len(m.Video) && vt <= at) {
			f = mpegps.Frame{StreamID: mpegps.StreamIDVideo, PTS: s.StartPTS + vt, DTS: s.StartPTS + vt, Data: m.Video[vi]}
			keyframe = vi == 0 || isKeyframe(m.Video[vi])
			vi++
		} else {
			f = mpegps.Frame{StreamID: mpegps.StreamIDAudio, PTS: s.StartPTS + at, DTS: s.StartPTS + at, Data: m.Audio[ai]}
			ai++
		}
		if s.Realtime {
			wait := time.Duration(f.PTS-s.StartPTS)*time.Second/90000 - time.Since(start)
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return vi, ctx.Err()
				case <-t.C:
				}
			}
		}
		if err := s.WritePS(s.mux.AppendFrame(nil, f, keyframe), uint32(f.PTS)); err != nil {
			return vi, err
		}
	}
	s.StartPTS += int64(len(m.Video)) * 90000 / int64(m.FPS)
	return vi, nil
}

// WritePS sends program stream bytes in RTP packets with RFC 4571 framing;
// the last packet has the marker bit.
func (s *Sender) WritePS(ps []byte, ts uint32) error {
	var out []byte
	for first := true; first || len(ps) > 0; first = false {
		n := min(len(ps), rtpPayloadSize)
		out = AppendRTP(out, n == len(ps), s.seq, ts, s.SSRC, ps[:n])
		s.seq++
		ps = ps[n:]
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := s.conn.Write(out)
	return err
}

// AppendRTP appends one RTP packet (payload type 96) with its RFC 4571
// length prefix.
func AppendRTP(dst []byte, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(12+len(payload)))
	m := byte(96)
	if marker {
		m |= 0x80
	}
	dst = append(dst, 0x80, m)
	dst = binary.BigEndian.AppendUint16(dst, seq)
	dst = binary.BigEndian.AppendUint32(dst, ts)
	dst = binary.BigEndian.AppendUint32(dst, ssrc)
	return append(dst, payload...)
}
