package mpegps

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// DefaultMaxFrameSize bounds one frame a new Demuxer assembles.
const DefaultMaxFrameSize = 8 << 20

// maxUnitSize is the largest unit of a program stream: a start code, a
// 16-bit length and that many bytes. Pack headers are shorter.
const maxUnitSize = 6 + 0xffff

// packStartCode is what the demuxer looks for to resync.
var packStartCode = []byte{0x00, 0x00, 0x01, codePack}

// Demuxer turns program stream bytes into frames. It is not safe for
// concurrent use: run one per input stream.
type Demuxer struct {
	// MaxFrameSize is the largest frame assembled; a larger one is dropped
	// whole. DefaultMaxFrameSize unless changed before the first call.
	MaxFrameSize int
	// Warn, when set, is told of each problem the stream has.
	Warn func(error)

	buf    []byte // a unit cut by the end of the last input, at most maxUnitSize
	resync bool   // skipping to the next pack header
	psm    [256]StreamType
	guess  [256]StreamType
	tracks [idVideoLast - idAudioFirst + 1]track
	stats  Stats
}

// track is the frame being assembled for one stream id.
type track struct {
	open  bool
	frame Frame
}

// NewDemuxer returns a demuxer at the start of a stream.
func NewDemuxer() *Demuxer { return &Demuxer{MaxFrameSize: DefaultMaxFrameSize} }

// Stats returns the counters so far.
func (d *Demuxer) Stats() Stats { return d.stats }

// Append parses p, after whatever earlier calls left unparsed, and appends
// the frames it completed to dst. A frame completes when the next frame of
// its stream starts, at a program end code, or at Flush. p is not kept.
func (d *Demuxer) Append(dst []Frame, p []byte) []Frame {
	data := p
	if len(d.buf) > 0 {
		d.buf = append(d.buf, p...)
		data = d.buf
	}
	n := d.parse(&dst, data)
	rest := data[n:]
	switch {
	case len(rest) == 0:
		d.buf = d.buf[:0]
	case len(d.buf) > 0 && cap(d.buf) <= 2*maxUnitSize:
		d.buf = d.buf[:copy(d.buf, rest)] // rest is the tail of d.buf
	default:
		// parse leaves at most one cut unit (or 3 bytes while resyncing),
		// so this never keeps more than maxUnitSize, nor a huge buffer.
		d.buf = append([]byte(nil), rest...)
	}
	return dst
}

// Flush appends every frame still being assembled to dst, as at the end of
// the stream; input cut mid-unit is dropped.
func (d *Demuxer) Flush(dst []Frame) []Frame {
	for i := range d.tracks {
		dst = d.emit(dst, &d.tracks[i])
	}
	d.buf = d.buf[:0]
	return dst
}

// parse consumes whole units from data and returns how many bytes it used.
func (d *Demuxer) parse(dst *[]Frame, data []byte) int {
	pos := 0
	for {
		if d.resync {
			i := bytes.Index(data[pos:], packStartCode)
			if i < 0 {
				// Keep the tail: it may be the start of a pack header.
				keep := min(len(data)-pos, len(packStartCode)-1)
				d.stats.SkippedBytes += uint64(len(data) - pos - keep)
				return len(data) - keep
			}
			d.stats.SkippedBytes += uint64(i)
			pos += i
			d.resync = false
		}
		b := data[pos:]
		if len(b) < 4 {
			return pos
		}
		if b[0] != 0 || b[1] != 0 || b[2] != 1 {
			d.damage(dst, fmt.Errorf("mpegps: no start code where a unit should begin (% x)", b[:4]))
			pos++
			continue
		}
		code := b[3]
		var n int
		var err error
		switch {
		case code == codePack:
			n, err = packHeaderSize(b)
			if err == nil && n > 0 && n <= len(b) {
				d.stats.Packs++
			}
		case code == codeEnd:
			n = 4
			for i := range d.tracks {
				*dst = d.emit(*dst, &d.tracks[i])
			}
		case code < codeEnd:
			err = fmt.Errorf("mpegps: start code 00 00 01 %02x is not a program stream unit", code)
		default:
			if len(b) < 6 {
				return pos
			}
			n = 6 + int(binary.BigEndian.Uint16(b[4:]))
			if n <= len(b) {
				err = d.unit(dst, code, b[:n])
			}
		}
		if err != nil && (n == 0 || n > len(b)) {
			// The unit's size is unknown: only a pack header can be trusted.
			d.damage(dst, err)
			pos++
			continue
		}
		if err != nil {
			// A bad unit whose size is known: skip just that unit.
			d.warn(err)
		}
		if n == 0 || n > len(b) {
			return pos // wait for the rest of the unit
		}
		pos += n
	}
}

// packHeaderSize returns the size of the pack header at b, or 0 when b is
// too short to tell.
func packHeaderSize(b []byte) (int, error) {
	if len(b) < 5 {
		return 0, nil
	}
	switch {
	case b[4]&0xc0 == 0x40: // MPEG-2: '01' then the SCR
		if len(b) < 14 {
			return 0, nil
		}
		return 14 + int(b[13]&0x07), nil
	case b[4]&0xf0 == 0x20: // MPEG-1: '0010' then the SCR
		return 12, nil
	}
	return 0, fmt.Errorf("mpegps: pack header of neither MPEG-1 nor MPEG-2 (byte 0x%02x)", b[4])
}

// unit handles one complete unit with a length field.
func (d *Demuxer) unit(dst *[]Frame, code uint8, u []byte) error {
	switch {
	case code == codeSystemHeader:
		d.stats.SystemHeaders++
	case code == codePSM:
		entries, err := parsePSM(u)
		if err != nil {
			return err
		}
		if entries != nil {
			d.stats.PSMs++
			d.psm = [256]StreamType{}
			for _, e := range entries {
				d.psm[e.id] = e.typ
			}
		}
	case code >= idAudioFirst && code <= idVideoLast:
		d.stats.PES++
		h, payload, err := parsePES(u)
		if err != nil {
			d.stats.DroppedPES++
			return fmt.Errorf("mpegps: PES of stream 0x%02x: %w", code, err)
		}
		*dst = d.pes(*dst, code, h, payload)
	}
	// Padding, private streams and the rest carry nothing castd reads.
	return nil
}

// pes adds one PES packet's payload to its stream's frame.
func (d *Demuxer) pes(dst []Frame, id uint8, h pesHeader, payload []byte) []Frame {
	t := &d.tracks[id-idAudioFirst]
	sameFrame := t.open && (!h.hasPTS || (h.pts == t.frame.PTS && h.dts == t.frame.DTS))
	if !sameFrame {
		dst = d.emit(dst, t)
		if !h.hasPTS {
			// A continuation whose frame was dropped or never seen.
			d.stats.DroppedPES++
			return dst
		}
		t.open = true
		// The map in force when the frame starts names its codec.
		t.frame = Frame{StreamID: id, StreamType: d.psm[id], PTS: h.pts, DTS: h.dts, HasDTS: h.hasDTS}
	}
	if len(t.frame.Data)+len(payload) > d.MaxFrameSize {
		d.warn(fmt.Errorf("mpegps: frame of stream 0x%02x over %d bytes, dropped", id, d.MaxFrameSize))
		d.stats.DroppedFrames++
		t.open, t.frame = false, Frame{}
		return dst
	}
	t.frame.Data = append(t.frame.Data, payload...)
	return dst
}

// emit appends t's frame to dst, when it has one with data.
func (d *Demuxer) emit(dst []Frame, t *track) []Frame {
	if !t.open {
		return dst
	}
	f := t.frame
	t.open, t.frame = false, Frame{}
	if len(f.Data) == 0 {
		return dst
	}
	if f.StreamType == StreamTypeUnknown {
		f.StreamType = d.guessed(f.StreamID, f.Data)
	}
	d.stats.Frames++
	return append(dst, f)
}

// guessed is the codec of a stream no PSM names, guessed from its first
// frame and kept for the frames after it.
func (d *Demuxer) guessed(id uint8, data []byte) StreamType {
	if d.guess[id] == StreamTypeUnknown {
		d.guess[id] = guessStreamType(id, data)
	}
	return d.guess[id]
}

// damage starts looking for the next pack header. The frames being
// assembled come out as they are: most are whole and only waited for the
// next frame to start, and a decoder conceals a cut one better than a
// missing one.
func (d *Demuxer) damage(dst *[]Frame, err error) {
	d.warn(fmt.Errorf("%w; skipping to the next pack header", err))
	d.stats.Resyncs++
	for i := range d.tracks {
		*dst = d.emit(*dst, &d.tracks[i])
	}
	d.resync = true
}

func (d *Demuxer) warn(err error) {
	if d.Warn != nil {
		d.Warn(err)
	}
}
