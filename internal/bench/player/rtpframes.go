package player

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/stamp"
)

// maxStampSearch bounds how much of an access unit a WebRTC player keeps
// to look for its stamp: the stamp precedes the first slice, behind at most
// an AUD, parameter sets and other SEI.
const maxStampSearch = 16 << 10

// H.264 RTP payload types (RFC 6184) that carry several NAL units or a
// fragment of one.
const (
	rtpSTAPA = 24
	rtpFUA   = 28
)

// rtpH264Frames turns the RTP packets of an H.264 track into video frames
// for a Recorder: the packets of a frame share a timestamp, and the last
// one has the marker bit (a lost marker shows as the next timestamp). It
// depacketizes only the start of each frame, where the stamp is.
type rtpH264Frames struct {
	depack codecs.H264Packet
	stamps stamp.Reader
	head   []byte // the start of the current frame in Annex-B form

	open     bool   // a frame has started and not been reported
	hasSlice bool   // the open frame holds a picture, not only parameter sets
	ts       uint32 // the open frame's RTP timestamp
	baseTS   uint32 // the first frame's RTP timestamp
	haveBase bool
}

// packet takes the next RTP packet of the track, received at now.
func (f *rtpH264Frames) packet(now time.Time, p *rtp.Packet, rec *Recorder) {
	if f.open && p.Timestamp != f.ts {
		f.finish(now, rec)
	}
	if !f.open {
		f.open, f.hasSlice, f.ts, f.head = true, false, p.Timestamp, f.head[:0]
	}
	if isSlice(p.Payload) {
		f.hasSlice = true
	}
	// Fragments after the head still go through the depacketizer, which
	// has to see a fragmented unit's end to drop its buffer.
	if nal, err := f.depack.Unmarshal(p.Payload); err == nil && len(f.head) < maxStampSearch {
		f.head = append(f.head, nal[:min(len(nal), maxStampSearch-len(f.head))]...)
	}
	if p.Marker {
		f.finish(now, rec)
	}
}

// finish reports the open frame, if it holds a picture.
func (f *rtpH264Frames) finish(now time.Time, rec *Recorder) {
	if !f.open {
		return
	}
	f.open = false
	if !f.hasSlice {
		return
	}
	if !f.haveBase {
		f.baseTS, f.haveBase = f.ts, true
	}
	rec.VideoFrame(now, (f.ts-f.baseTS)/90) // 90 kHz to milliseconds, from the first frame
	if s, ok := f.stamps.FindAnnexB(av.CodecH264, f.head); ok {
		rec.Stamp(now, s)
	}
}

// isSlice tells whether an H.264 RTP payload carries (part of) a coded
// slice rather than parameter sets, SEI or an AUD alone.
func isSlice(payload []byte) bool {
	if len(payload) == 0 {
		return false
	}
	switch t := payload[0] & 0x1f; t {
	case rtpFUA:
		return len(payload) > 1 && isSliceType(payload[1]&0x1f)
	case rtpSTAPA:
		// Aggregates: 16-bit size, NAL unit, and so on.
		for b := payload[1:]; len(b) > 2; {
			n := int(b[0])<<8 | int(b[1])
			if n == 0 || n > len(b)-2 {
				return false
			}
			if isSliceType(b[2] & 0x1f) {
				return true
			}
			b = b[2+n:]
		}
		return false
	default:
		return isSliceType(t)
	}
}

func isSliceType(t byte) bool { return t >= 1 && t <= 5 }
