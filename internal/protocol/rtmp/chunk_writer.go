package rtmp

import (
	"encoding/binary"
	"fmt"
)

// maxCSID is the largest chunk stream id the 3-byte basic header can carry.
const maxCSID = 65599

// WriteMessage chunks and writes one message. A zero m.CSID picks the chunk
// stream from the message type. Safe for concurrent use with WriteMedia and
// the reader.
func (c *Conn) WriteMessage(m *Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(m)
}

func (c *Conn) writeLocked(m *Message) error {
	csid := m.CSID
	if csid == 0 {
		csid = defaultCSID(m.Type)
	}
	if csid < 2 || csid > maxCSID {
		return fmt.Errorf("rtmp: write message: chunk stream id %d outside [2, %d]", csid, maxCSID)
	}
	if len(m.Payload) > MaxMessageSize {
		return fmt.Errorf("rtmp: write message: %w: %d bytes", ErrMessageTooLarge, len(m.Payload))
	}
	hdrBytes, chunks := chunkPlan(csid, m.Timestamp, len(m.Payload), c.outChunkSize)
	c.reserve(hdrBytes, 2*chunks)
	hdr, bufs := appendChunks(c.hdr[:0], c.bufs[:0], csid, m.Type, m.Timestamp, m.StreamID, m.Payload, c.outChunkSize)
	if err := c.flushLocked(hdr, bufs); err != nil {
		return fmt.Errorf("rtmp: write message type %d: %w", m.Type, err)
	}
	return nil
}

// WriteMedia writes a batch of audio, video and data messages on a message
// stream with a single writev. Payloads are sliced, never copied or
// modified, so they can be shared by every viewer; in steady state it
// allocates nothing. Audio goes on chunk stream 7, video on 6, data on 4.
// Safe for concurrent use with WriteMessage and the reader.
func (c *Conn) WriteMedia(streamID uint32, batch []MediaMessage) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	hdrBytes, iovs := 0, 0
	for i := range batch {
		m := &batch[i]
		if len(m.Payload) > MaxMessageSize {
			return fmt.Errorf("rtmp: write media: %w: %d bytes", ErrMessageTooLarge, len(m.Payload))
		}
		h, n := chunkPlan(defaultCSID(m.Type), m.Timestamp, len(m.Payload), c.outChunkSize)
		hdrBytes += h
		iovs += 2 * n
	}
	c.reserve(hdrBytes, iovs)
	hdr, bufs := c.hdr[:0], c.bufs[:0]
	for i := range batch {
		m := &batch[i]
		hdr, bufs = appendChunks(hdr, bufs, defaultCSID(m.Type), m.Type, m.Timestamp, streamID, m.Payload, c.outChunkSize)
	}
	if err := c.flushLocked(hdr, bufs); err != nil {
		return fmt.Errorf("rtmp: write media batch of %d: %w", len(batch), err)
	}
	return nil
}

// reserve makes sure the header scratch and the iovec array can hold a write
// without reallocating midway, which would invalidate the header slices
// already queued.
func (c *Conn) reserve(hdrBytes, iovs int) {
	if cap(c.hdr) < hdrBytes {
		c.hdr = make([]byte, 0, max(hdrBytes, 2*cap(c.hdr)))
	}
	if cap(c.bufs) < iovs {
		c.bufs = make([][]byte, 0, max(iovs, 2*cap(c.bufs)))
	}
}

// flushLocked writes the queued slices with writev. net.Buffers.WriteTo
// consumes the slice it is called on and nils the entries it wrote, so the
// backing array stays ours and stops pinning shared payloads.
func (c *Conn) flushLocked(hdr []byte, bufs [][]byte) error {
	c.hdr = hdr[:0]
	c.wv = bufs
	n, err := c.wv.WriteTo(c.w)
	c.bytesOut.Add(uint64(n))
	c.wv = nil
	if err != nil {
		clear(bufs)
	}
	// Keep the scratch for the usual batch sizes, but do not let one huge
	// batch (a big keyframe burst at a tiny chunk size) pin memory for the
	// life of the connection.
	if cap(c.bufs) > maxRetainedIovecs {
		c.bufs = nil
	}
	if cap(c.hdr) > maxRetainedHeaderBytes {
		c.hdr = nil
	}
	return err
}

// Limits on the write scratch kept between writes (about 400 KB and 128 KB).
const (
	maxRetainedIovecs      = 16 << 10
	maxRetainedHeaderBytes = 128 << 10
)

// chunkPlan returns the header bytes and the number of chunks a message needs.
func chunkPlan(csid uint32, ts uint32, length, chunkSize int) (hdrBytes, chunks int) {
	chunks = 1
	if length > 0 {
		chunks = (length + chunkSize - 1) / chunkSize
	}
	basic, ext := basicHeaderLen(csid), 0
	if ts >= extendedTimestamp {
		ext = 4
	}
	return basic + 11 + ext + (chunks-1)*(basic+ext), chunks
}

// appendChunks appends the chunk headers of a message to hdr and the
// interleaved header and payload slices to bufs. The first chunk has a type-0
// header with the absolute timestamp; the others are type 3 and repeat the
// extended timestamp when there is one. hdr must have room for the whole
// message (see chunkPlan).
func appendChunks(hdr []byte, bufs [][]byte, csid uint32, typ uint8, ts, streamID uint32, payload []byte, chunkSize int) ([]byte, [][]byte) {
	field := min(ts, extendedTimestamp)
	length := len(payload)
	start := len(hdr)
	hdr = appendBasicHeader(hdr, 0, csid)
	hdr = append(hdr, byte(field>>16), byte(field>>8), byte(field),
		byte(length>>16), byte(length>>8), byte(length), typ)
	hdr = binary.LittleEndian.AppendUint32(hdr, streamID)
	if field == extendedTimestamp {
		hdr = binary.BigEndian.AppendUint32(hdr, ts)
	}
	bufs = append(bufs, hdr[start:len(hdr):len(hdr)])
	for off := 0; off < length; {
		if off > 0 {
			start = len(hdr)
			hdr = appendBasicHeader(hdr, 3, csid)
			if field == extendedTimestamp {
				hdr = binary.BigEndian.AppendUint32(hdr, ts)
			}
			bufs = append(bufs, hdr[start:len(hdr):len(hdr)])
		}
		n := min(chunkSize, length-off)
		bufs = append(bufs, payload[off:off+n:off+n])
		off += n
	}
	return hdr, bufs
}

func basicHeaderLen(csid uint32) int {
	switch {
	case csid < 64:
		return 1
	case csid < 320:
		return 2
	}
	return 3
}

// appendBasicHeader appends the 1, 2 or 3-byte chunk basic header (§5.3.1.1).
func appendBasicHeader(b []byte, format byte, csid uint32) []byte {
	switch {
	case csid < 64:
		return append(b, format<<6|byte(csid))
	case csid < 320:
		return append(b, format<<6, byte(csid-64))
	}
	v := csid - 64
	return append(b, format<<6|1, byte(v), byte(v>>8))
}
