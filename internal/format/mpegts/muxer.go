package mpegts

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// MuxerConfig describes the one program a Muxer writes. Zero values pick
// the defaults (program 1, PMT on PID 0x1001, transport stream id 1).
type MuxerConfig struct {
	TransportStreamID uint16
	ProgramNumber     uint16
	PMTPID            uint16
	Streams           []Stream
}

// Muxer writes one program as 188-byte transport packets. It is not safe
// for concurrent use. Tables are written only when asked (AppendTables or
// WriteTables): put them at the start of each segment, before keyframes and
// after SetStreams.
//
// Continuity counters keep counting across calls, writers and SetStreams
// (for the PIDs that stay); ResetContinuity starts them over.
type Muxer struct {
	w io.Writer

	tsID, program, pmtPID uint16
	pcrPID                uint16
	streams               []muxStream
	pmtVersion            uint8
	patCC, pmtCC          uint8

	pat, pmt []byte // encoded sections, rebuilt when the streams change
	buf      []byte // what the Write methods hand to w, reused
}

type muxStream struct {
	Stream
	cc uint8
}

// NewMuxer returns a muxer writing to w; w may be nil when only the Append
// methods are used.
func NewMuxer(w io.Writer, cfg MuxerConfig) (*Muxer, error) {
	m := &Muxer{
		w:       w,
		tsID:    cmpOr(cfg.TransportStreamID, DefaultTransportStreamID),
		program: cmpOr(cfg.ProgramNumber, DefaultProgramNumber),
		pmtPID:  cmpOr(cfg.PMTPID, DefaultPMTPID),
	}
	if m.pmtPID < MinPID || m.pmtPID > MaxPID {
		return nil, fmt.Errorf("mpegts: PMT PID 0x%x is outside 0x%x..0x%x", m.pmtPID, MinPID, MaxPID)
	}
	m.pat = appendPAT(nil, m.tsID, m.program, m.pmtPID)
	if err := m.setStreams(cfg.Streams); err != nil {
		return nil, err
	}
	return m, nil
}

func cmpOr(v, def uint16) uint16 {
	if v == 0 {
		return def
	}
	return v
}

// SetWriter makes the Write methods write to w from now on, e.g. the next
// HLS segment file. Continuity counters carry on.
func (m *Muxer) SetWriter(w io.Writer) { m.w = w }

// Streams returns a copy of the program's streams.
func (m *Muxer) Streams() []Stream {
	out := make([]Stream, len(m.streams))
	for i, s := range m.streams {
		out[i] = s.Stream
	}
	return out
}

// PCRPID is the PID carrying the PCR: the first video stream, else the first
// stream, else the null PID when the program is empty.
func (m *Muxer) PCRPID() uint16 { return m.pcrPID }

// SetStreams replaces the program's streams, e.g. when a republished stream
// changes codec. It bumps the PMT version; the caller writes the tables
// before the next frame. Streams that keep their PID keep their counter.
func (m *Muxer) SetStreams(streams ...Stream) error {
	if err := m.setStreams(streams); err != nil {
		return err
	}
	m.pmtVersion = (m.pmtVersion + 1) & 0x1f
	return m.buildPMT()
}

func (m *Muxer) setStreams(streams []Stream) error {
	next := make([]muxStream, 0, len(streams))
	for i, s := range streams {
		if s.PID < MinPID || s.PID > MaxPID || s.PID == m.pmtPID {
			return fmt.Errorf("mpegts: stream %d: PID 0x%x is reserved or outside 0x%x..0x%x", i, s.PID, MinPID, MaxPID)
		}
		for _, o := range streams[:i] {
			if o.PID == s.PID {
				return fmt.Errorf("mpegts: two streams on PID 0x%x", s.PID)
			}
		}
		if s.StreamID == 0 {
			s.StreamID = defaultStreamID(s.Type)
		}
		s.Descriptors = slices.Clone(s.Descriptors)
		ms := muxStream{Stream: s}
		if old := m.stream(s.PID); old != nil {
			ms.cc = old.cc
		}
		next = append(next, ms)
	}
	m.streams = next
	m.pcrPID = PIDNull
	for _, s := range m.streams {
		if s.Type.IsVideo() {
			m.pcrPID = s.PID
			break
		}
	}
	if m.pcrPID == PIDNull && len(m.streams) > 0 {
		m.pcrPID = m.streams[0].PID
	}
	return m.buildPMT()
}

func (m *Muxer) buildPMT() error {
	streams := make([]Stream, len(m.streams))
	for i, s := range m.streams {
		streams[i] = s.Stream
	}
	pmt, err := appendPMT(m.pmt[:0], m.program, m.pmtVersion, m.pcrPID, streams)
	if err != nil {
		return err
	}
	m.pmt = pmt
	return nil
}

func (m *Muxer) stream(pid uint16) *muxStream {
	for i := range m.streams {
		if m.streams[i].PID == pid {
			return &m.streams[i]
		}
	}
	return nil
}

// ResetContinuity sets every continuity counter back to 0, e.g. for an HLS
// segment that must stand alone.
func (m *Muxer) ResetContinuity() {
	m.patCC, m.pmtCC = 0, 0
	for i := range m.streams {
		m.streams[i].cc = 0
	}
}

// AppendTables appends the PAT and the PMT to dst.
func (m *Muxer) AppendTables(dst []byte) []byte {
	dst = appendSectionPackets(dst, PIDPAT, &m.patCC, m.pat)
	return appendSectionPackets(dst, m.pmtPID, &m.pmtCC, m.pmt)
}

// ErrUnknownPID is returned for a frame whose PID is not a stream of the program.
var ErrUnknownPID = errors.New("mpegts: frame PID is not in the PMT")

// AppendFrame appends f as one PES packet to dst. The first packet carries
// the PCR (the frame's DTS) when f is on the PCR PID, and the
// random_access_indicator when f.RandomAccess; the last one is padded with
// adaptation-field stuffing. dst grows as needed; once its capacity suffices
// nothing is allocated.
func (m *Muxer) AppendFrame(dst []byte, f *Frame) ([]byte, error) {
	s := m.stream(f.PID)
	if s == nil {
		return dst, fmt.Errorf("%w (PID 0x%x)", ErrUnknownPID, f.PID)
	}
	var hdr [maxPESHeaderSize]byte
	hl := putPESHeader(&hdr, s.StreamID, f, len(f.Data))
	pcr := int64(-1)
	if f.PID == m.pcrPID && f.PTS >= 0 {
		pcr = f.PTS
		if f.HasDTS {
			pcr = f.DTS
		}
	}
	return appendPESPackets(dst, f.PID, &s.cc, hdr[:hl], f.Data, pcr, f.RandomAccess), nil
}

// WriteTables writes the PAT and the PMT in one Write.
func (m *Muxer) WriteTables() error {
	m.buf = m.AppendTables(m.buf[:0])
	return m.flush("tables")
}

// WriteFrame writes f as one PES packet in one Write (see AppendFrame).
func (m *Muxer) WriteFrame(f *Frame) error {
	var err error
	if m.buf, err = m.AppendFrame(m.buf[:0], f); err != nil {
		return err
	}
	return m.flush("frame")
}

func (m *Muxer) flush(what string) error {
	if m.w == nil {
		return fmt.Errorf("mpegts: write %s: the muxer has no writer", what)
	}
	if _, err := m.w.Write(m.buf); err != nil {
		return fmt.Errorf("mpegts: write %s: %w", what, err)
	}
	return nil
}
