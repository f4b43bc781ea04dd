package rtmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// chunkStream is the receive state of one chunk stream id.
type chunkStream struct {
	started bool // a type-0 or type-1 header has been seen

	timestamp uint32 // absolute timestamp of the current/last message
	// delta is the timestamp field of the last type 0/1/2 header (with its
	// extended value): an absolute time after type 0, a delta after 1 or 2.
	// A type-3 chunk that starts a new message adds it (§5.3.1.2.4).
	delta       uint32
	deltaIsAbs  bool   // the last type 0/1/2 header was type 0
	hasExtended bool   // the last type 0/1/2 header used the extended field
	extended    uint32 // the extended field of that header, to spot repeats

	length   uint32
	typ      uint8
	streamID uint32

	inProgress bool   // a message is partially received
	buf        []byte // its payload so far
	// spare is the payload buffer of the last message ReadMessageInto
	// returned on this chunk stream; the next message here reuses it.
	spare []byte
}

// Errors of the chunk layer that callers may want to tell apart.
var (
	ErrTooManyChunkStreams = errors.New("rtmp: too many chunk streams")
	ErrMessageTooLarge     = errors.New("rtmp: message too large")
	ErrBadChunkHeader      = errors.New("rtmp: malformed chunk header")
)

// smallMessage is the size up to which a message buffer is allocated whole
// on its first chunk. Larger messages grow as their bytes actually arrive, so
// a peer cannot make us allocate megabytes by sending a few header bytes.
const smallMessage = 64 << 10

// ReadMessage reads chunks until one message is complete and returns it.
// Protocol control messages (chunk size, abort, window size, peer bandwidth,
// acknowledgements, ping) are handled before they are returned, so callers
// may ignore them. Empty messages are skipped. The payload is freshly
// allocated and owned by the caller. Reader goroutine only.
func (c *Conn) ReadMessage() (*Message, error) {
	m := new(Message)
	if err := c.readMessage(m, false); err != nil {
		return nil, err
	}
	return m, nil
}

// ReadMessageInto is ReadMessage for readers that look at each message and
// drop it, such as load-test players: it fills m instead of allocating a
// Message, and m.Payload is a buffer of the connection that the next
// message on the same chunk stream reuses. The payload is therefore valid
// only until the next ReadMessage or ReadMessageInto call; copy what must
// outlive it. In steady state it allocates nothing. Reader goroutine only.
func (c *Conn) ReadMessageInto(m *Message) error {
	return c.readMessage(m, true)
}

// readMessage fills m with the next complete message; reuse keeps its
// payload buffer for the next message of its chunk stream.
func (c *Conn) readMessage(m *Message, reuse bool) error {
	for {
		done, err := c.readChunk(m, reuse)
		if err != nil {
			return err
		}
		if err := c.maybeAck(); err != nil {
			return err
		}
		if !done || len(m.Payload) == 0 {
			continue
		}
		if m.IsControl() {
			if err := c.handleControl(m); err != nil {
				return err
			}
		}
		return nil
	}
}

// readChunk reads one chunk; when it completes a message it fills m and
// reports true.
func (c *Conn) readChunk(m *Message, reuse bool) (bool, error) {
	b0, err := c.br.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) && c.partialBytes > 0 {
			err = io.ErrUnexpectedEOF
		}
		return false, fmt.Errorf("rtmp: read chunk basic header: %w", err)
	}
	format := b0 >> 6
	csid := uint32(b0 & 0x3f)
	switch csid {
	case 0: // 2-byte form: 64..319
		b, err := c.br.ReadByte()
		if err != nil {
			return false, fmt.Errorf("rtmp: read chunk basic header: %w", noEOF(err))
		}
		csid = 64 + uint32(b)
	case 1: // 3-byte form: 64..65599
		b := c.scratch[:2]
		if _, err := io.ReadFull(c.br, b); err != nil {
			return false, fmt.Errorf("rtmp: read chunk basic header: %w", noEOF(err))
		}
		csid = 64 + uint32(b[0]) + uint32(b[1])*256
	}
	cs := c.streams[csid]
	if cs == nil {
		if len(c.streams) >= c.opt.MaxChunkStreams {
			return false, fmt.Errorf("%w: more than %d", ErrTooManyChunkStreams, c.opt.MaxChunkStreams)
		}
		cs = &chunkStream{}
		c.streams[csid] = cs
	}
	if err := c.readMessageHeader(cs, csid, format); err != nil {
		return false, err
	}
	return c.readChunkPayload(cs, csid, m, reuse)
}

// noEOF turns io.EOF inside a chunk into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readMessageHeader reads the message header of a chunk (§5.3.1.2) and
// updates the chunk stream state.
func (c *Conn) readMessageHeader(cs *chunkStream, csid uint32, format byte) error {
	// A chunk stream must start with a full header. librtmp opens its ping
	// stream with type 1, which SRS tolerates, and so do we.
	if !cs.started && format > 1 {
		return fmt.Errorf("%w: chunk stream %d starts with type %d", ErrBadChunkHeader, csid, format)
	}
	if cs.inProgress && format == 0 {
		return fmt.Errorf("%w: type 0 inside a message on chunk stream %d", ErrBadChunkHeader, csid)
	}
	newMessage := !cs.inProgress

	h := c.scratch[:11]
	switch format {
	case 0, 1, 2:
		n := [3]int{11, 7, 3}[format]
		if _, err := io.ReadFull(c.br, h[:n]); err != nil {
			return fmt.Errorf("rtmp: read chunk message header: %w", noEOF(err))
		}
		field := uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2])
		cs.hasExtended = field == extendedTimestamp
		if cs.hasExtended {
			ext, err := c.readU32()
			if err != nil {
				return fmt.Errorf("rtmp: read extended timestamp: %w", noEOF(err))
			}
			cs.extended = ext
			field = ext
		}
		if format <= 1 {
			length := uint32(h[3])<<16 | uint32(h[4])<<8 | uint32(h[5])
			if !newMessage && length != cs.length {
				return fmt.Errorf("%w: message length changed from %d to %d inside a message on chunk stream %d",
					ErrBadChunkHeader, cs.length, length, csid)
			}
			cs.length = length
			cs.typ = h[6]
		}
		if format == 0 {
			cs.streamID = binary.LittleEndian.Uint32(h[7:11])
		}
		cs.delta, cs.deltaIsAbs = field, format == 0
		if newMessage {
			if format == 0 {
				cs.timestamp = field
			} else {
				cs.timestamp += field
			}
		}
		cs.started = true
	case 3:
		if newMessage {
			delta := cs.delta
			if cs.hasExtended {
				// The first chunk of a message always carries the field.
				ext, err := c.readU32()
				if err != nil {
					return fmt.Errorf("rtmp: read extended timestamp: %w", noEOF(err))
				}
				delta, cs.extended = ext, ext
			}
			if cs.hasExtended && cs.deltaIsAbs {
				// After a type-0 header, encoders repeat the absolute
				// extended timestamp; adding it would double the time. SRS
				// reads it as absolute too.
				cs.timestamp = delta
			} else {
				cs.timestamp += delta
			}
		} else if cs.hasExtended {
			if err := c.skipRepeatedExtended(cs); err != nil {
				return err
			}
		}
	}
	cs.timestamp &= timestampMask
	return nil
}

// skipRepeatedExtended handles the two conventions for continuation chunks of
// a message with an extended timestamp: Flash, FMLE and SRS repeat the 4-byte
// field in every type-3 chunk, the original specification and old ffmpeg do
// not. If the next 4 bytes equal the field they are the repeat; otherwise
// they are payload.
func (c *Conn) skipRepeatedExtended(cs *chunkStream) error {
	var want [4]byte
	binary.BigEndian.PutUint32(want[:], cs.extended)
	remaining := int(cs.length) - len(cs.buf)
	n := min(4, remaining)
	// Compare what must arrive anyway before waiting for 4 bytes, so a short
	// tail that is plainly payload never blocks for bytes that may not come.
	p, err := c.br.Peek(n)
	if err != nil {
		return fmt.Errorf("rtmp: read chunk: %w", noEOF(err))
	}
	if string(p) != string(want[:n]) {
		return nil
	}
	if n < 4 {
		if p, err = c.br.Peek(4); err != nil {
			return fmt.Errorf("rtmp: read chunk: %w", noEOF(err))
		}
		if string(p) != string(want[:]) {
			return nil
		}
	}
	_, err = c.br.Discard(4)
	return err
}

// readChunkPayload reads the payload of one chunk; when it completes a
// message it fills m and reports true. With reuse, the message's buffer is
// kept as the chunk stream's spare for its next message.
func (c *Conn) readChunkPayload(cs *chunkStream, csid uint32, m *Message, reuse bool) (bool, error) {
	if !cs.inProgress {
		if int(cs.length) > c.opt.MaxMessageSize {
			return false, fmt.Errorf("%w: %d bytes (type %d) exceeds %d", ErrMessageTooLarge, cs.length, cs.typ, c.opt.MaxMessageSize)
		}
		cs.inProgress = true
		if cs.spare != nil {
			// Grows as bytes arrive, like a fresh buffer.
			cs.buf, cs.spare = cs.spare[:0], nil
		} else {
			cs.buf = make([]byte, 0, min(int(cs.length), smallMessage))
		}
	}
	n := min(int(cs.length)-len(cs.buf), int(c.inChunkSize))
	if n > 0 {
		if c.partialBytes+n > c.opt.MaxPartialBytes {
			return false, fmt.Errorf("%w: %d bytes buffered in partial messages exceeds %d",
				ErrMessageTooLarge, c.partialBytes+n, c.opt.MaxPartialBytes)
		}
		cs.buf = growFor(cs.buf, n, int(cs.length))
		start := len(cs.buf)
		cs.buf = cs.buf[:start+n]
		if _, err := io.ReadFull(c.br, cs.buf[start:]); err != nil {
			return false, fmt.Errorf("rtmp: read chunk payload: %w", noEOF(err))
		}
		c.partialBytes += n
	}
	if len(cs.buf) < int(cs.length) {
		return false, nil
	}
	*m = Message{
		Type:      cs.typ,
		Timestamp: cs.timestamp,
		StreamID:  cs.streamID,
		CSID:      csid,
		Payload:   cs.buf,
	}
	c.partialBytes -= len(cs.buf)
	if reuse {
		cs.spare = cs.buf
	}
	cs.buf, cs.inProgress = nil, false
	return true, nil
}

// growFor makes room for n more bytes in buf, doubling its capacity up to
// limit so a large message costs a bounded number of copies.
func growFor(buf []byte, n, limit int) []byte {
	need := len(buf) + n
	if need <= cap(buf) {
		return buf
	}
	newCap := max(2*cap(buf), need)
	newCap = min(newCap, limit)
	grown := make([]byte, len(buf), newCap)
	copy(grown, buf)
	return grown
}

// readU32 reads a big-endian uint32 (an extended timestamp) into the tail
// of the scratch array, past the message header it follows.
func (c *Conn) readU32() (uint32, error) {
	b := c.scratch[11:15]
	if _, err := io.ReadFull(c.br, b); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b), nil
}

// abortMessage drops the partial message of a chunk stream (Abort, §5.4.2).
func (c *Conn) abortMessage(csid uint32) {
	cs := c.streams[csid]
	if cs == nil || !cs.inProgress {
		return
	}
	c.partialBytes -= len(cs.buf)
	cs.buf, cs.inProgress = nil, false
}
