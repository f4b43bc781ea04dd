package rtmp

import (
	"encoding/binary"
	"fmt"
)

// handleControl applies a protocol control or user control message from the
// peer (§5.4, §6.2). Malformed control messages are errors: they mean the
// chunk stream is out of sync or the peer is hostile.
func (c *Conn) handleControl(m *Message) error {
	p := m.Payload
	if need := controlPayloadSize(m.Type); len(p) < need {
		return fmt.Errorf("rtmp: control message type %d: %d bytes, want %d", m.Type, len(p), need)
	}
	switch m.Type {
	case TypeSetChunkSize:
		n := binary.BigEndian.Uint32(p)
		if n < 1 || n > MaxChunkSizeSpec {
			return fmt.Errorf("rtmp: peer set chunk size %d, outside [1, %d]", n, MaxChunkSizeSpec)
		}
		// A huge chunk size is harmless: a chunk never exceeds its message,
		// and messages are bounded by MaxMessageSize.
		c.inChunkSize = n
	case TypeAbort:
		c.abortMessage(binary.BigEndian.Uint32(p))
	case TypeAck:
		c.peerAck.Store(binary.BigEndian.Uint32(p))
	case TypeWindowAckSize:
		if n := binary.BigEndian.Uint32(p); n > 0 {
			c.ackWindow = n
		}
	case TypeSetPeerBandwidth:
		c.peerBandwidth.Store(binary.BigEndian.Uint32(p))
	case TypeUserControl:
		return c.handleUserControl(p)
	}
	return nil
}

// controlPayloadSize is the minimum payload of a control message type.
func controlPayloadSize(typ uint8) int {
	switch typ {
	case TypeSetPeerBandwidth:
		return 5
	case TypeUserControl:
		return 2
	}
	return 4
}

func (c *Conn) handleUserControl(p []byte) error {
	event := binary.BigEndian.Uint16(p)
	switch event {
	case EventPingRequest:
		if len(p) < 6 {
			return fmt.Errorf("rtmp: ping request: %d bytes, want 6", len(p))
		}
		if err := c.SendUserControl(EventPingResponse, binary.BigEndian.Uint32(p[2:])); err != nil {
			return fmt.Errorf("rtmp: answer ping: %w", err)
		}
	case EventSetBufferLength:
		if len(p) < 10 {
			return fmt.Errorf("rtmp: set buffer length: %d bytes, want 10", len(p))
		}
		c.peerBufferLength.Store(binary.BigEndian.Uint32(p[6:]))
	}
	return nil
}

// maybeAck sends an Acknowledgement once half the peer's window has arrived
// since the last one. Acknowledging at half the window, as SRS does, keeps
// peers that throttle on acks from ever stalling.
func (c *Conn) maybeAck() error {
	if c.ackWindow == 0 {
		return nil
	}
	in := c.bytesIn.Load()
	if in-c.ackedBytes < uint64(c.ackWindow/2) {
		return nil
	}
	c.ackedBytes = in
	if err := c.writeControl(TypeAck, uint32(in)); err != nil {
		return fmt.Errorf("rtmp: send acknowledgement: %w", err)
	}
	return nil
}

// writeControl writes a protocol control message with a 4-byte payload.
func (c *Conn) writeControl(typ uint8, v uint32, extra ...byte) error {
	p := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(extra)), v)
	p = append(p, extra...)
	return c.WriteMessage(&Message{Type: typ, CSID: CSIDControl, Payload: p})
}

// SetChunkSize sends Set Chunk Size and then writes with chunks of n bytes.
// The spec allows 1..2^31-1; peers commonly support 128..65536.
func (c *Conn) SetChunkSize(n int) error {
	if n < 1 || n > MaxChunkSizeSpec {
		return fmt.Errorf("rtmp: set chunk size %d outside [1, %d]", n, MaxChunkSizeSpec)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	p := binary.BigEndian.AppendUint32(nil, uint32(n))
	if err := c.writeLocked(&Message{Type: TypeSetChunkSize, CSID: CSIDControl, Payload: p}); err != nil {
		return fmt.Errorf("rtmp: send set chunk size: %w", err)
	}
	c.outChunkSize = n
	return nil
}

// SetWindowAckSize asks the peer to acknowledge every n bytes it receives.
func (c *Conn) SetWindowAckSize(n uint32) error {
	if err := c.writeControl(TypeWindowAckSize, n); err != nil {
		return fmt.Errorf("rtmp: send window acknowledgement size: %w", err)
	}
	c.wmu.Lock()
	c.outWindow = n
	c.wmu.Unlock()
	return nil
}

// SetPeerBandwidth sends Set Peer Bandwidth with a limit type
// (BandwidthHard, BandwidthSoft or BandwidthDynamic).
func (c *Conn) SetPeerBandwidth(n uint32, limitType uint8) error {
	if err := c.writeControl(TypeSetPeerBandwidth, n, limitType); err != nil {
		return fmt.Errorf("rtmp: send set peer bandwidth: %w", err)
	}
	return nil
}

// SendAck sends an Acknowledgement with the given sequence number.
func (c *Conn) SendAck(seq uint32) error {
	if err := c.writeControl(TypeAck, seq); err != nil {
		return fmt.Errorf("rtmp: send acknowledgement: %w", err)
	}
	return nil
}

// SendAbort tells the peer to drop the partial message of a chunk stream.
func (c *Conn) SendAbort(csid uint32) error {
	if err := c.writeControl(TypeAbort, csid); err != nil {
		return fmt.Errorf("rtmp: send abort: %w", err)
	}
	return nil
}

// SendUserControl sends a user control event (§7.1.7) with its 4-byte data
// (a stream id, or a timestamp for pings) and optional extra 4-byte values
// (the buffer length of SetBufferLength).
func (c *Conn) SendUserControl(event uint16, data uint32, extra ...uint32) error {
	p := make([]byte, 0, 6+4*len(extra))
	p = binary.BigEndian.AppendUint16(p, event)
	p = binary.BigEndian.AppendUint32(p, data)
	for _, v := range extra {
		p = binary.BigEndian.AppendUint32(p, v)
	}
	if err := c.WriteMessage(&Message{Type: TypeUserControl, CSID: CSIDControl, Payload: p}); err != nil {
		return fmt.Errorf("rtmp: send user control event %d: %w", event, err)
	}
	return nil
}

// SendStreamBegin tells the peer a stream became functional.
func (c *Conn) SendStreamBegin(streamID uint32) error {
	return c.SendUserControl(EventStreamBegin, streamID)
}

// SendStreamEOF tells the peer the playback of a stream ended.
func (c *Conn) SendStreamEOF(streamID uint32) error {
	return c.SendUserControl(EventStreamEOF, streamID)
}

// SendStreamDry tells the peer there is no more data on a stream for now.
func (c *Conn) SendStreamDry(streamID uint32) error {
	return c.SendUserControl(EventStreamDry, streamID)
}

// SendStreamIsRecorded tells the peer a stream is a recording.
func (c *Conn) SendStreamIsRecorded(streamID uint32) error {
	return c.SendUserControl(EventStreamIsRecorded, streamID)
}

// SendPingRequest sends a ping with a timestamp the peer echoes back.
func (c *Conn) SendPingRequest(timestamp uint32) error {
	return c.SendUserControl(EventPingRequest, timestamp)
}

// SendSetBufferLength tells the server how many milliseconds the client
// buffers for a stream.
func (c *Conn) SendSetBufferLength(streamID, ms uint32) error {
	return c.SendUserControl(EventSetBufferLength, streamID, ms)
}
