package rtc

import "fmt"

// Limits that keep a hostile publisher from making a depacketizer hold
// unbounded memory: a frame larger than this, or with more units (NAL
// units, OBUs, layer frames), is dropped as if packets were lost.
const (
	maxFrameBytes = 8 << 20
	maxFrameNALUs = 1024
)

// rtpPacket is what the depacketizers need of an RTP packet.
type rtpPacket struct {
	seq       uint16
	timestamp uint32
	marker    bool
	payload   []byte
}

// videoFrame is one picture as a publisher sent it: every unit of one RTP
// timestamp. Units are NAL units (H.264, H.265), OBUs with their size
// fields (AV1) or whole layer frames (VP8, VP9).
type videoFrame struct {
	timestamp uint32 // RTP, 90 kHz
	units     [][]byte
	keyframe  bool // decoding can start here
}

// payloadFormat is the codec half of a depacketizer: one RTP payload
// format (RFC 6184, RFC 7798, RFC 7741, RFC 9628, the AV1 RTP
// specification). It rebuilds units that span packets and hands complete
// ones to the depacketizer.
type payloadFormat interface {
	// parse adds the complete units of one payload to d's frame.
	parse(payload []byte, d *depacketizer) error
	// pending reports a unit still waiting for its end: when the frame
	// ends, that end was lost.
	pending() bool
	// endFrame adds what ends with the frame rather than with a packet (a
	// VP8 frame has no end flag of its own).
	endFrame(d *depacketizer) error
	// reset drops a partly rebuilt unit.
	reset()
	// keyframe reports whether decoding can start at a frame of units.
	keyframe(units [][]byte) bool
}

// depacketizer turns in-order RTP packets into frames. A frame ends at the
// marker bit or when the timestamp changes. After a loss the partial frame
// is dropped and so is everything until the next keyframe, since a decoder
// cannot use frames that refer to a picture it never got.
type depacketizer struct {
	format   payloadFormat
	cur      videoFrame
	curBytes int
	started  bool   // cur has a timestamp
	broken   bool   // cur lost data: drop it when it ends
	waitKey  bool   // drop frames until a keyframe
	needsKey func() // asks the publisher for a keyframe; may be nil
}

func newDepacketizer(format payloadFormat, needsKey func()) *depacketizer {
	return &depacketizer{format: format, waitKey: true, needsKey: needsKey}
}

// lost tells the depacketizer that packets are missing before the next one.
func (d *depacketizer) lost() {
	d.broken = true
	d.format.reset()
}

// push adds the next packet and appends to out the frames it completed
// (two when a frame without a marker is followed by a one-packet frame). An
// error describes a malformed payload; the depacketizer then treats the
// frame as lost and goes on.
func (d *depacketizer) push(p rtpPacket, out []*videoFrame) ([]*videoFrame, error) {
	if len(p.payload) == 0 {
		// Padding only (browsers probe bandwidth with them): it fills its
		// place in the sequence, which the reorder buffer has seen, and
		// carries no media.
		return out, nil
	}
	if d.started && p.timestamp != d.cur.timestamp {
		// A new timestamp without a marker on the last frame: the end was lost
		// or the sender does not set the marker; emit what we have.
		if f := d.finish(); f != nil {
			out = append(out, f)
		}
	}
	if !d.started {
		d.cur.timestamp, d.started = p.timestamp, true
	}
	err := d.format.parse(p.payload, d)
	if err != nil {
		d.lost()
	}
	if p.marker {
		if f := d.finish(); f != nil {
			out = append(out, f)
		}
	}
	return out, err
}

// finish ends the current frame and returns it unless it must be dropped.
func (d *depacketizer) finish() *videoFrame {
	if !d.broken && !d.format.pending() {
		if err := d.format.endFrame(d); err != nil {
			d.broken = true
		}
	}
	broken := d.broken || d.format.pending() // a unit without its end is a lost tail
	d.format.reset()
	f := d.cur
	d.cur, d.curBytes, d.started, d.broken = videoFrame{}, 0, false, false
	if len(f.units) == 0 {
		if broken {
			d.startWaiting()
		}
		return nil
	}
	f.keyframe = d.format.keyframe(f.units)
	switch {
	case broken:
		d.startWaiting()
		return nil
	case d.waitKey && !f.keyframe:
		return nil
	}
	d.waitKey = false
	return &f
}

func (d *depacketizer) startWaiting() {
	if !d.waitKey && d.needsKey != nil {
		d.needsKey()
	}
	d.waitKey = true
}

// room is how many more bytes the current frame may take.
func (d *depacketizer) room() int { return maxFrameBytes - d.curBytes }

// add copies a unit into the frame: RTP payloads are reused by the reader.
func (d *depacketizer) add(unit []byte) error {
	if len(unit) > d.room() {
		return fmt.Errorf("rtc: video frame larger than %d bytes", maxFrameBytes)
	}
	return d.addOwned(append([]byte(nil), unit...))
}

// addOwned adds a unit the frame may keep.
func (d *depacketizer) addOwned(unit []byte) error {
	if len(d.cur.units) >= maxFrameNALUs {
		return fmt.Errorf("rtc: video frame with more than %d units", maxFrameNALUs)
	}
	if len(unit) > d.room() {
		return fmt.Errorf("rtc: video frame larger than %d bytes", maxFrameBytes)
	}
	d.curBytes += len(unit)
	d.cur.units = append(d.cur.units, unit)
	return nil
}

// fragmentedUnit rebuilds one NAL unit from H.264 FU-A or H.265 FU
// fragments: the first has the start bit and gives the unit's header, the
// last has the end bit, and the unit goes to the depacketizer whole.
type fragmentedUnit struct {
	buf []byte // the unit so far; nil when none is being rebuilt
}

func (f *fragmentedUnit) pending() bool { return f.buf != nil }
func (f *fragmentedUnit) reset()        { f.buf = nil }

// add takes one fragment's body (after its FU headers); header is the
// rebuilt NAL header, used when start is set. codec and kind name the
// fragment in errors; size is the whole RTP payload's, for the first
// allocation.
func (f *fragmentedUnit) add(d *depacketizer, codec, kind string, start, end bool, body []byte, size int, header ...byte) error {
	if start {
		if f.buf != nil {
			return fmt.Errorf("rtc: %s %s starts before the previous one ended", codec, kind)
		}
		f.buf = append(make([]byte, 0, 2*size), header...)
	} else if f.buf == nil {
		return fmt.Errorf("rtc: %s %s continues a fragment whose start was lost", codec, kind)
	}
	if len(f.buf)+len(body) > d.room() {
		return fmt.Errorf("rtc: %s frame larger than %d bytes", codec, maxFrameBytes)
	}
	f.buf = append(f.buf, body...)
	if !end {
		return nil
	}
	nalu := f.buf
	f.buf = nil
	return d.addOwned(nalu)
}
