package mpegts

import "fmt"

// pesStream reassembles the PES packets of one elementary PID.
type pesStream struct {
	pid     uint16
	typ     StreamType
	lastCC  int  // -1 until the first packet with payload
	open    bool // buf holds the start of a PES packet
	rai     bool // the open PES started with random_access_indicator
	buf     []byte
	wantLen int // whole PES size from PES_packet_length, 0 when unbounded or not yet known
}

// handlePES checks continuity and appends the payload to the PID's PES.
func (d *Demuxer) handlePES(s *pesStream, pusi bool, cc uint8, discontinuity, randomAccess bool, payload []byte) {
	if payload == nil {
		return // adaptation field only: the counter does not move
	}
	if s.lastCC >= 0 && !discontinuity {
		switch want := (s.lastCC + 1) & 0x0f; {
		case int(cc) == s.lastCC:
			return // a repeated packet (2.4.3.3 allows one duplicate)
		case int(cc) != want:
			d.stats.ContinuityErrors++
			d.warn(fmt.Errorf("mpegts: PID 0x%x: continuity counter %d, want %d", s.pid, cc, want))
			// Whichever PES the lost packets belonged to, the open one
			// cannot be trusted to be whole.
			d.dropPES(s, "packets are missing")
		}
	}
	s.lastCC = int(cc)
	if pusi {
		if s.open {
			d.completePES(s, true)
		}
		s.open, s.rai, s.wantLen = true, randomAccess, 0
	}
	if !s.open {
		return // joined mid-PES, or dropping the rest of a damaged one
	}
	if len(s.buf)+len(payload) > d.MaxPESSize+pesFixedHeaderSize+255 ||
		d.buffered+len(payload) > maxBufferedFactor*d.MaxPESSize {
		d.dropPES(s, fmt.Sprintf("longer than %d bytes", d.MaxPESSize))
		return
	}
	s.buf = append(s.buf, payload...)
	d.buffered += len(payload)
	if s.wantLen == 0 && len(s.buf) >= 6 {
		if n := int(s.buf[4])<<8 | int(s.buf[5]); n > 0 {
			s.wantLen = 6 + n
		}
	}
	if s.wantLen > 0 && len(s.buf) >= s.wantLen {
		d.completePES(s, false)
	}
}

// completePES turns the open PES into a frame. early means the next PES
// started first, so a PES of known length is short.
func (d *Demuxer) completePES(s *pesStream, early bool) {
	defer d.resetPES(s)
	h, err := parsePESHeader(s.buf)
	if err != nil {
		d.stats.DroppedPES++
		d.warn(fmt.Errorf("mpegts: PID 0x%x: %w", s.pid, err))
		return
	}
	end := len(s.buf)
	if h.length > 0 {
		if early && end < 6+h.length {
			d.stats.DroppedPES++
			d.warn(fmt.Errorf("mpegts: PID 0x%x: PES packet of %d bytes ends after %d: %w", s.pid, 6+h.length, end, errDroppedPES))
			return
		}
		end = 6 + h.length
	}
	if end-h.headerSize > d.MaxPESSize {
		d.stats.DroppedPES++
		d.warn(fmt.Errorf("mpegts: PID 0x%x: PES payload of %d bytes is over %d: %w", s.pid, end-h.headerSize, d.MaxPESSize, errDroppedPES))
		return
	}
	f := Frame{
		PID:          s.pid,
		StreamType:   s.typ,
		PTS:          h.pts,
		DTS:          h.dts,
		HasDTS:       h.hasDTS,
		RandomAccess: s.rai,
		Data:         make([]byte, end-h.headerSize),
	}
	copy(f.Data, s.buf[h.headerSize:end])
	d.out = append(d.out, f)
}

// dropPES discards the open PES; the PID waits for the next one.
func (d *Demuxer) dropPES(s *pesStream, why string) {
	if s.open {
		d.stats.DroppedPES++
		d.warn(fmt.Errorf("mpegts: PID 0x%x: %s: %w", s.pid, why, errDroppedPES))
	}
	d.resetPES(s)
}

func (d *Demuxer) resetPES(s *pesStream) {
	d.buffered -= len(s.buf)
	s.buf = s.buf[:0]
	s.open, s.rai, s.wantLen = false, false, 0
}

// flushAll completes the PES packets still open at the end of the stream:
// unbounded ones end there, ones of known length are short.
func (d *Demuxer) flushAll() {
	for _, s := range d.pes {
		if s.open && len(s.buf) > 0 {
			d.completePES(s, true)
		}
	}
}
