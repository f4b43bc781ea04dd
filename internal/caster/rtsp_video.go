package caster

import (
	"errors"
	"fmt"
	"slices"

	"github.com/castd/castd/internal/av"
)

// Limits on one access unit, so a hostile pusher cannot make the caster
// hold unbounded memory: beyond them the unit is dropped as if lost.
const (
	maxVideoFrame      = 8 << 20
	maxVideoFrameNALUs = 1024
)

// RTP payload structures of H.264 (RFC 6184 5.2) and H.265 (RFC 7798 4.4)
// beyond single NAL units.
const (
	h264STAPA = 24
	h264FUA   = 28
	h265AP    = 48
	h265FU    = 49
)

// videoAU is one access unit: the NAL units of one RTP timestamp.
type videoAU struct {
	timestamp uint32
	nalus     [][]byte
	keyframe  bool
}

// naluDepacketizer rebuilds H.264 or H.265 access units from RTP packets
// in sequence order (non-interleaved mode: single NAL units, STAP-A or AP
// aggregates, FU-A or FU fragments). An access unit ends at the marker bit
// or when the timestamp changes. After a loss the broken unit is dropped,
// and so is everything up to the next keyframe, which a decoder would need.
//
// castd's WebRTC ingest has the same logic in internal/rtc, whose package
// also holds the WebRTC server (and imports the hub and config); the caster
// stays free of those.
type naluDepacketizer struct {
	codec   av.Codec
	cur     videoAU
	size    int
	started bool
	broken  bool   // cur lost data
	waitKey bool   // drop units until a keyframe
	fu      []byte // the fragmented NAL unit being rebuilt; nil when none
}

func newNALUDepacketizer(codec av.Codec) *naluDepacketizer {
	return &naluDepacketizer{codec: codec, waitKey: true}
}

// push adds one packet; lost says packets are missing before it. It appends
// the access units it completes to out. An error describes a malformed
// payload, whose unit is then dropped. NAL units are copies: payload may be
// reused.
func (d *naluDepacketizer) push(out []videoAU, payload []byte, ts uint32, marker, lost bool) ([]videoAU, error) {
	if d.started && ts != d.cur.timestamp {
		// The marker of the previous unit was lost, or never set; what was
		// lost may be its tail as well as this unit's head.
		d.broken = d.broken || lost
		out = d.finish(out)
	}
	if lost {
		d.broken, d.fu = true, nil
	}
	if !d.started {
		d.cur.timestamp, d.started = ts, true
	}
	var err error
	if len(payload) > 0 { // padding only otherwise
		if d.codec == av.CodecH265 {
			err = d.parseH265(payload)
		} else {
			err = d.parseH264(payload)
		}
	}
	if err != nil {
		d.broken, d.fu = true, nil
	}
	if marker {
		out = d.finish(out)
	}
	return out, err
}

func (d *naluDepacketizer) parseH264(b []byte) error {
	if b[0]&0x80 != 0 {
		return errors.New("h264: RTP payload with the forbidden bit set")
	}
	switch t := b[0] & 0x1f; {
	case t >= 1 && t <= 23:
		return d.single(b)
	case t == h264STAPA:
		return d.aggregate(b[1:])
	case t == h264FUA:
		if len(b) < 3 {
			return fmt.Errorf("h264: FU-A of %d bytes", len(b))
		}
		return d.fragment(b[1]&0x80 != 0, b[1]&0x40 != 0, b[2:], b[0]&0xe0|b[1]&0x1f)
	default:
		return fmt.Errorf("h264: RTP payload type %d (interleaved mode or reserved) is not supported", t)
	}
}

func (d *naluDepacketizer) parseH265(b []byte) error {
	if len(b) < 3 {
		return fmt.Errorf("h265: RTP payload of %d bytes", len(b))
	}
	if b[0]&0x80 != 0 {
		return errors.New("h265: RTP payload with the forbidden bit set")
	}
	switch t := av.H265NALUType(b); {
	case t < h265AP:
		return d.single(b)
	case t == h265AP:
		return d.aggregate(b[2:])
	case t == h265FU:
		// The unit's header is the payload header with the FU header's type.
		fu := b[2]
		return d.fragment(fu&0x80 != 0, fu&0x40 != 0, b[3:], b[0]&0x81|(fu&0x3f)<<1, b[1])
	default:
		return fmt.Errorf("h265: RTP payload type %d (PACI or unspecified) is not supported", t)
	}
}

func (d *naluDepacketizer) single(nalu []byte) error {
	if d.fu != nil {
		return errors.New("rtp: a NAL unit inside an unfinished fragmented unit")
	}
	return d.add(append([]byte(nil), nalu...))
}

// aggregate adds the units of an H.264 STAP-A or H.265 AP: each is a
// 16-bit size and the unit.
func (d *naluDepacketizer) aggregate(b []byte) error {
	if d.fu != nil {
		return errors.New("rtp: an aggregation packet inside an unfinished fragmented unit")
	}
	if len(b) == 0 {
		return errors.New("rtp: empty aggregation packet")
	}
	for len(b) > 0 {
		if len(b) < 2 {
			return errors.New("rtp: aggregation packet cut in a NAL unit size")
		}
		n := int(b[0])<<8 | int(b[1])
		b = b[2:]
		if n == 0 || n > len(b) {
			return fmt.Errorf("rtp: aggregated NAL unit of %d bytes, %d left", n, len(b))
		}
		if err := d.add(append([]byte(nil), b[:n]...)); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// fragment adds one FU-A or FU fragment; header is the rebuilt NAL header.
func (d *naluDepacketizer) fragment(start, end bool, body []byte, header ...byte) error {
	switch {
	case start && d.fu != nil:
		return errors.New("rtp: a fragmented unit starts before the previous one ended")
	case start:
		d.fu = append(make([]byte, 0, 4*len(body)+len(header)), header...)
	case d.fu == nil:
		return errors.New("rtp: a fragment whose start was lost")
	}
	if d.size+len(d.fu)+len(body) > maxVideoFrame {
		return fmt.Errorf("rtp: access unit larger than %d bytes", maxVideoFrame)
	}
	d.fu = append(d.fu, body...)
	if !end {
		return nil
	}
	nalu := d.fu
	d.fu = nil
	return d.add(nalu)
}

func (d *naluDepacketizer) add(nalu []byte) error {
	if len(d.cur.nalus) == maxVideoFrameNALUs || d.size+len(nalu) > maxVideoFrame {
		return fmt.Errorf("rtp: access unit beyond %d NAL units or %d bytes", maxVideoFrameNALUs, maxVideoFrame)
	}
	d.size += len(nalu)
	d.cur.nalus = append(d.cur.nalus, nalu)
	return nil
}

// finish ends the current unit and appends it to out unless it is broken
// or waits for a keyframe.
func (d *naluDepacketizer) finish(out []videoAU) []videoAU {
	au := d.cur
	broken := d.broken || d.fu != nil // a unit without its end is a lost tail
	d.cur, d.size, d.started, d.broken, d.fu = videoAU{}, 0, false, false, nil
	switch {
	case broken:
		d.waitKey = true
	case len(au.nalus) == 0:
	default:
		au.keyframe = av.IsKeyframeNALUs(d.codec, au.nalus)
		if d.waitKey && !au.keyframe {
			// Parameter sets still count: some cameras send them in a
			// unit of their own before the keyframe.
			au.nalus = slices.DeleteFunc(au.nalus, func(n []byte) bool { return !av.IsParameterSetNALU(d.codec, n) })
			if len(au.nalus) == 0 {
				return out
			}
		} else {
			d.waitKey = false
		}
		out = append(out, au)
	}
	return out
}
