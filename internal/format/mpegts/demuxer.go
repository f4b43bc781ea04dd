package mpegts

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// DefaultMaxPESSize bounds one PES packet's payload a new Demuxer keeps.
const DefaultMaxPESSize = 8 << 20

// maxBufferedFactor bounds the PES bytes all PIDs together may hold, in
// units of MaxPESSize, so a stream declaring hundreds of PIDs cannot make
// the demuxer hold hundreds of large PES packets.
const maxBufferedFactor = 4

// readBufferSize leaves 64 KiB free before each Read (at most three packets
// wait in the buffer), so a datagram socket never truncates a datagram.
const readBufferSize = 64<<10 + 4*PacketSize

// maxEmptyReads is how many (0, nil) reads in a row count as a stuck reader.
const maxEmptyReads = 100

// DemuxStats counts what a Demuxer has seen and what it had to drop.
type DemuxStats struct {
	Packets          uint64 // transport packets read
	Frames           uint64 // frames returned
	SkippedBytes     uint64 // bytes skipped while looking for sync
	SyncLosses       uint64 // times the sync byte went missing mid-stream
	TransportErrors  uint64 // packets flagged by transport_error_indicator, or malformed
	ContinuityErrors uint64 // packets lost or out of order on a PES PID
	DroppedPES       uint64 // PES packets dropped: damaged, malformed, truncated or too large
	PSIErrors        uint64 // PAT/PMT sections with a bad CRC or layout
	Scrambled        uint64 // scrambled packets, which the demuxer cannot read
}

// Demuxer reads a transport stream and returns one Frame per PES packet of
// the streams its PMTs list. Damage is counted (Stats) and reported (Warn)
// but never stops it: it resyncs after garbage, drops PES packets hit by
// continuity errors and ignores bad tables. It is not safe for concurrent use.
type Demuxer struct {
	// MaxPESSize is the largest PES payload accepted; larger PES packets are
	// dropped. DefaultMaxPESSize unless changed before the first read.
	MaxPESSize int
	// Warn, when set, is told of each problem the stream has.
	Warn func(error)

	r         io.Reader
	buf       []byte
	start     int
	end       int
	readErr   error // the reader's error, returned once the buffer is empty
	emptyRead int
	synced    bool
	done      bool

	programs []Program
	psi      []*psiAssembler
	pes      []*pesStream
	buffered int // PES bytes held by all PIDs

	out     []Frame
	outHead int
	stats   DemuxStats
}

// NewDemuxer returns a demuxer reading r. When r is a datagram socket each
// Read gets a whole datagram: the demuxer always offers 64 KiB.
func NewDemuxer(r io.Reader) *Demuxer {
	d := &Demuxer{MaxPESSize: DefaultMaxPESSize, r: r}
	d.psi = []*psiAssembler{{pid: PIDPAT}}
	return d
}

// Stats returns the counters so far.
func (d *Demuxer) Stats() DemuxStats { return d.stats }

// Programs returns the programs of the last PAT and their PMTs so far.
func (d *Demuxer) Programs() []Program {
	out := make([]Program, len(d.programs))
	for i, p := range d.programs {
		out[i] = p
		out[i].Streams = slices.Clone(p.Streams)
	}
	return out
}

// ReadFrame returns the next complete PES packet. A frame's Data belongs to
// the caller. At the end of the stream the PES packets still open are
// returned, then io.EOF; a read error is returned wrapped once the frames
// before it are out.
func (d *Demuxer) ReadFrame() (Frame, error) {
	if d.MaxPESSize <= 0 {
		d.MaxPESSize = DefaultMaxPESSize
	}
	for {
		if d.outHead < len(d.out) {
			f := d.out[d.outHead]
			d.out[d.outHead] = Frame{}
			d.outHead++
			d.stats.Frames++
			return f, nil
		}
		d.out, d.outHead = d.out[:0], 0
		if d.done {
			return Frame{}, d.readErr
		}
		pkt, err := d.nextPacket()
		if err != nil {
			d.flushAll()
			d.done = true
			if err != io.EOF {
				err = fmt.Errorf("mpegts: read: %w", err)
			}
			d.readErr = err
			continue
		}
		d.stats.Packets++
		d.handlePacket(pkt)
	}
}

func (d *Demuxer) warn(err error) {
	if d.Warn != nil {
		d.Warn(err)
	}
}

// nextPacket returns the next 188-byte packet, aliasing the read buffer
// until the next call. Out of sync it looks for three sync bytes 188 bytes
// apart (fewer at the end of the stream) before trusting a position.
func (d *Demuxer) nextPacket() ([]byte, error) {
	for {
		avail := d.buf[d.start:d.end]
		eof := d.readErr != nil
		if d.synced && len(avail) >= PacketSize {
			if avail[0] == SyncByte {
				d.start += PacketSize
				return avail[:PacketSize], nil
			}
			d.synced = false
			d.stats.SyncLosses++
			d.warn(fmt.Errorf("mpegts: lost sync after %d packets", d.stats.Packets))
		}
		if !d.synced && (len(avail) >= 3*PacketSize || (eof && len(avail) >= PacketSize)) {
			i, found := findSync(avail, eof)
			d.stats.SkippedBytes += uint64(i)
			d.start += i
			if found {
				d.synced = true
			}
			continue
		}
		if eof {
			d.stats.SkippedBytes += uint64(len(avail))
			d.start = d.end
			return nil, d.readErr
		}
		if err := d.fill(); err != nil {
			return nil, err
		}
	}
}

// findSync returns the offset of the first packet start in b, or how many
// bytes cannot hold one. Without eof only positions with two more packets
// of lookahead are judged.
func findSync(b []byte, eof bool) (int, bool) {
	last := len(b) - 3*PacketSize
	if eof {
		last = len(b) - PacketSize
	}
	for i := 0; i <= last; i++ {
		if b[i] != SyncByte {
			continue
		}
		ok := true
		for k := i + PacketSize; k < len(b) && k <= i+2*PacketSize; k += PacketSize {
			if b[k] != SyncByte {
				ok = false
				break
			}
		}
		if ok {
			return i, true
		}
	}
	return max(last+1, 0), false
}

// fill reads more input after moving what is left to the buffer's start.
func (d *Demuxer) fill() error {
	if d.buf == nil {
		d.buf = make([]byte, readBufferSize)
	}
	if d.start > 0 {
		d.end = copy(d.buf, d.buf[d.start:d.end])
		d.start = 0
	}
	n, err := d.r.Read(d.buf[d.end:])
	d.end += n
	if err != nil {
		d.readErr = err
		return nil // the buffered bytes go first; nextPacket returns it after
	}
	if n == 0 {
		if d.emptyRead++; d.emptyRead >= maxEmptyReads {
			return io.ErrNoProgress
		}
	} else {
		d.emptyRead = 0
	}
	return nil
}

// handlePacket routes one transport packet to its PSI or PES PID.
func (d *Demuxer) handlePacket(pkt []byte) {
	if pkt[1]&0x80 != 0 {
		d.stats.TransportErrors++
		return
	}
	pusi := pkt[1]&pusiBit != 0
	pid := uint16(pkt[1]&0x1f)<<8 | uint16(pkt[2])
	if pid == PIDNull {
		return
	}
	if pkt[3]>>6 != 0 {
		d.stats.Scrambled++
		return
	}
	afc := (pkt[3] >> 4) & 0x03
	if afc == 0 { // reserved: the packet cannot be read
		d.stats.TransportErrors++
		return
	}
	cc := pkt[3] & 0x0f
	p := headerSize
	var discontinuity, randomAccess bool
	if afc&afcAdaptation != 0 {
		afLen := int(pkt[4])
		maxAF := maxPayload - 1
		if afc == afcBoth {
			maxAF--
		}
		if afLen > maxAF {
			d.stats.TransportErrors++
			d.warn(fmt.Errorf("mpegts: PID 0x%x: adaptation field of %d bytes overruns the packet", pid, afLen))
			return
		}
		if afLen > 0 {
			discontinuity = pkt[5]&0x80 != 0
			randomAccess = pkt[5]&afRandomAccess != 0
		}
		p += 1 + afLen
	}
	var payload []byte
	if afc&afcPayload != 0 {
		payload = pkt[p:]
	}
	if a := d.psiFor(pid); a != nil {
		if payload != nil {
			d.handlePSI(a, pusi, payload)
		}
		return
	}
	if s := d.pesFor(pid); s != nil {
		d.handlePES(s, pusi, cc, discontinuity, randomAccess, payload)
	}
}

func (d *Demuxer) psiFor(pid uint16) *psiAssembler {
	for _, a := range d.psi {
		if a.pid == pid {
			return a
		}
	}
	return nil
}

func (d *Demuxer) pesFor(pid uint16) *pesStream {
	for _, s := range d.pes {
		if s.pid == pid {
			return s
		}
	}
	return nil
}

var errDroppedPES = errors.New("mpegts: PES packet dropped")
