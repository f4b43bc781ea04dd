// Package tsscan reads MPEG transport stream segments (HLS) as cheaply as
// castbench's players need: it follows the PAT and PMT, finds the PES
// packets (frames) of the audio and video streams with their timestamps
// and sizes, and hands over the first bytes of each video access unit,
// where castbench's latency stamp sits, without reassembling anything else.
//
// It checks the transport framing strictly (a segment is whole packets,
// each starting with the sync byte) and is lenient inside: damaged PES
// packets are dropped and counted, tables it cannot read are ignored.
// Compared with internal/format/mpegts's Demuxer, which copies every PES
// payload into a new slice, a Scanner holds one read buffer and a few KiB
// per stream, and allocates nothing per frame or per segment once warm.
package tsscan

import (
	"errors"
	"fmt"
	"io"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

const (
	// PacketSize is the size of a transport packet.
	PacketSize = mpegts.PacketSize
	// HeadSize is how much of each video PES payload Frame.Head holds: an
	// access unit's AUD, parameter sets and SEI come before its first
	// slice, and take a few hundred bytes.
	HeadSize = 4 << 10
	// MaxStreams is how many elementary streams of the PMT are followed.
	MaxStreams = 8

	readSize     = 32 << 10
	maxPESHeader = 9 + 255 // fixed part and PES_header_data_length
	maxEmptyRead = 100
)

// Errors of Scan; each is wrapped with the byte offset where it happened.
var (
	ErrSync       = errors.New("tsscan: no sync byte at a packet start")
	ErrTruncated  = errors.New("tsscan: the segment ends inside a packet")
	ErrTooLarge   = errors.New("tsscan: segment over the size limit")
	ErrAdaptation = errors.New("tsscan: adaptation field overruns its packet")
)

// IsFormatError reports whether err is one of the errors above: the
// segment is not a well-formed transport stream, as opposed to a read
// error.
func IsFormatError(err error) bool {
	return errors.Is(err, ErrSync) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrAdaptation)
}

// Kind says whether a frame is audio or video.
type Kind uint8

const (
	KindVideo Kind = 1
	KindAudio Kind = 2
)

// Frame is one PES packet of an audio or video stream: a video access
// unit, or one or more audio frames.
type Frame struct {
	PID   uint16
	Kind  Kind
	Type  mpegts.StreamType
	Codec av.Codec // H264, H265, AAC, MP3, or CodecOther
	// PTS and DTS are in 90 kHz ticks as the PES header has them; -1 when
	// absent. DTS is PTS when the header has no DTS.
	PTS, DTS int64
	// Size is the PES payload size: elementary stream bytes.
	Size int
	// Head is the start of a video frame's payload, at most HeadSize
	// bytes; nil for audio. It belongs to the Scanner: valid during the
	// Handler call only.
	Head []byte
}

// Handler is told of each frame as soon as its last byte is read.
type Handler interface {
	Frame(f *Frame)
}

// Stats counts damage the Scanner got over.
type Stats struct {
	Packets          uint64 // transport packets read
	Frames           uint64 // frames handed over
	ContinuityErrors uint64 // packets missing on a stream
	DroppedPES       uint64 // PES packets dropped: packets missing, malformed header
	Skipped          uint64 // packets with transport errors, scrambled or reserved
}

// Scanner reads the segments of one stream, one after another. The PAT and
// PMT carry over from segment to segment (castd and SRS repeat them at the
// start of each); PES packets do not. Not safe for concurrent use.
type Scanner struct {
	buf     []byte
	hasPMT  bool
	pmtPID  uint16
	streams [MaxStreams]pesState
	nstream int
	frame   Frame // the one handed to the Handler
	stats   Stats
}

// Stats returns the counters so far.
func (s *Scanner) Stats() Stats { return s.stats }

// Scan reads one segment from r to its end, telling h of each frame, and
// returns the bytes read. A segment over limit bytes, or one that is not
// whole transport packets, ends with an error: one that IsFormatError
// knows, or r's error.
func (s *Scanner) Scan(r io.Reader, limit int64, h Handler) (int64, error) {
	if s.buf == nil {
		s.buf = make([]byte, readSize)
	}
	for i := range s.streams[:s.nstream] {
		s.streams[i].reset()
		s.streams[i].lastCC = -1
	}
	var total int64
	have, empty := 0, 0
	for {
		n, err := r.Read(s.buf[have:])
		total += int64(n)
		if total > limit {
			return total, fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)
		}
		have += n
		p := 0
		for ; have-p >= PacketSize; p += PacketSize {
			if perr := s.packet(s.buf[p:p+PacketSize], h); perr != nil {
				return total, fmt.Errorf("%w (at byte %d)", perr, total-int64(have-p))
			}
		}
		have = copy(s.buf, s.buf[p:have])
		switch {
		case err == io.EOF && have > 0 && s.buf[0] != mpegts.SyncByte:
			return total, fmt.Errorf("%w (at byte %d)", ErrSync, total-int64(have))
		case err == io.EOF && have > 0:
			return total, fmt.Errorf("%w (%d bytes after the last whole packet)", ErrTruncated, have)
		case err == io.EOF:
			for i := range s.streams[:s.nstream] {
				s.complete(&s.streams[i], h)
			}
			return total, nil
		case err != nil:
			return total, fmt.Errorf("tsscan: read: %w", err)
		case n == 0:
			if empty++; empty >= maxEmptyRead {
				return total, fmt.Errorf("tsscan: read: %w", io.ErrNoProgress)
			}
		default:
			empty = 0
		}
	}
}

// packet reads one transport packet.
func (s *Scanner) packet(pkt []byte, h Handler) error {
	if pkt[0] != mpegts.SyncByte {
		return ErrSync
	}
	s.stats.Packets++
	afc := pkt[3] >> 4 & 3
	if pkt[1]&0x80 != 0 || pkt[3]&0xc0 != 0 || afc == 0 {
		s.stats.Skipped++ // transport error, scrambled, or reserved control
		return nil
	}
	pid := uint16(pkt[1]&0x1f)<<8 | uint16(pkt[2])
	pusi := pkt[1]&0x40 != 0
	cc := int8(pkt[3] & 0x0f)
	var payload []byte
	discontinuity := false
	p := 4
	if afc&2 != 0 {
		length, most := int(pkt[4]), PacketSize-5
		if afc == 3 {
			most-- // at least one payload byte
		}
		if length > most {
			return ErrAdaptation
		}
		discontinuity = length > 0 && pkt[5]&0x80 != 0
		p += 1 + length
	}
	if afc&1 != 0 {
		payload = pkt[p:]
	}
	switch {
	case payload == nil:
	case pid == mpegts.PIDPAT:
		if pusi {
			s.readPAT(payload)
		}
	case s.hasPMT && pid == s.pmtPID:
		if pusi {
			s.readPMT(payload)
		}
	default:
		for i := range s.streams[:s.nstream] {
			if st := &s.streams[i]; st.pid == pid {
				s.pes(st, pusi, cc, discontinuity, payload, h)
				break
			}
		}
	}
	return nil
}

// pes adds a packet's payload to its stream's PES packet.
func (s *Scanner) pes(st *pesState, pusi bool, cc int8, discontinuity bool, payload []byte, h Handler) {
	if st.lastCC >= 0 && !discontinuity {
		switch {
		case cc == st.lastCC:
			return // a duplicate packet, which the standard allows once
		case cc != (st.lastCC+1)&0x0f:
			s.stats.ContinuityErrors++
			s.drop(st)
		}
	}
	st.lastCC = cc
	if pusi {
		s.complete(st, h)
		st.open = true
	}
	if !st.open {
		return // joined inside a PES, or dropping a damaged one
	}
	for st.hdrN < st.hdrNeed && len(payload) > 0 {
		n := copy(st.hdr[st.hdrN:st.hdrNeed], payload)
		st.hdrN += n
		payload = payload[n:]
		if st.hdrN == 9 && st.hdrNeed == 9 {
			// packet_start_code_prefix, and the '10' bits that start the
			// optional header every audio and video PES has.
			if st.hdr[0] != 0 || st.hdr[1] != 0 || st.hdr[2] != 1 || st.hdr[6]&0xc0 != 0x80 {
				s.drop(st)
				return
			}
			st.hdrNeed = 9 + int(st.hdr[8])
			if length := int(st.hdr[4])<<8 | int(st.hdr[5]); length > 0 {
				st.wantSize = 6 + length - st.hdrNeed
				if st.wantSize < 0 {
					s.drop(st)
					return
				}
			}
		}
	}
	if st.hdrN < st.hdrNeed {
		return
	}
	if st.wantSize >= 0 {
		payload = payload[:min(len(payload), st.wantSize-st.size)]
	}
	st.size += len(payload)
	if st.kind == KindVideo && len(st.head) < HeadSize {
		if st.head == nil {
			st.head = make([]byte, 0, HeadSize)
		}
		st.head = append(st.head, payload[:min(len(payload), HeadSize-len(st.head))]...)
	}
	if st.size == st.wantSize {
		s.complete(st, h) // a PES of known length ends without waiting for the next
	}
}

// complete hands the stream's open PES packet to h, when its header is whole.
func (s *Scanner) complete(st *pesState, h Handler) {
	if !st.open {
		return
	}
	if st.hdrN < st.hdrNeed || (st.wantSize >= 0 && st.size < st.wantSize) {
		s.drop(st)
		return
	}
	f := &s.frame // not a local: handing a pointer to an interface would move it to the heap
	*f = Frame{PID: st.pid, Kind: st.kind, Type: st.typ, Codec: st.codec, PTS: -1, DTS: -1, Size: st.size}
	flags, hdrLen := st.hdr[7]>>6, st.hdr[8]
	if flags&2 != 0 && hdrLen >= 5 {
		f.PTS = timestamp(st.hdr[9:14])
		f.DTS = f.PTS
	}
	if flags == 3 && hdrLen >= 10 {
		f.DTS = timestamp(st.hdr[14:19])
	}
	if st.kind == KindVideo {
		f.Head = st.head
	}
	st.reset()
	s.stats.Frames++
	h.Frame(f)
}

func (s *Scanner) drop(st *pesState) {
	if st.open {
		s.stats.DroppedPES++
	}
	st.reset()
}

// timestamp reads a 33-bit PES timestamp from its 5 bytes.
func timestamp(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

// pesState is one elementary stream and its open PES packet.
type pesState struct {
	pid   uint16
	typ   mpegts.StreamType
	kind  Kind
	codec av.Codec

	lastCC   int8 // -1 until the first packet of the segment
	open     bool
	hdr      [maxPESHeader]byte
	hdrN     int // header bytes read
	hdrNeed  int // 9, then the whole header's size once known
	wantSize int // payload size from PES_packet_length; -1 when unbounded
	size     int
	head     []byte // video: the payload's start
}

func (st *pesState) reset() {
	st.open, st.hdrN, st.hdrNeed, st.wantSize, st.size = false, 0, 9, -1, 0
	st.head = st.head[:0]
}
