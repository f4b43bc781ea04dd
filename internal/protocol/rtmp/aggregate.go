package rtmp

import "fmt"

// SplitAggregate splits an aggregate message (type 22), a run of FLV tags,
// into its audio, video and data messages. Sub-message timestamps keep their
// spacing but are rebased so the first one equals the aggregate's, as SRS
// does. Payloads share the aggregate's payload.
func SplitAggregate(m *Message) ([]*Message, error) {
	if m.Type != TypeAggregate {
		return nil, fmt.Errorf("rtmp: split aggregate: message type %d", m.Type)
	}
	var out []*Message
	var delta uint32
	p := m.Payload
	for first := true; len(p) > 0; first = false {
		if len(p) < 11 {
			return nil, fmt.Errorf("rtmp: split aggregate: %d bytes left, want an 11-byte tag header", len(p))
		}
		typ := p[0]
		size := int(p[1])<<16 | int(p[2])<<8 | int(p[3])
		ts := (uint32(p[4])<<16 | uint32(p[5])<<8 | uint32(p[6]) | uint32(p[7])<<24) & timestampMask
		p = p[11:]
		if size > len(p) {
			return nil, fmt.Errorf("rtmp: split aggregate: tag of %d bytes, %d left", size, len(p))
		}
		if first {
			delta = m.Timestamp - ts
		}
		body := p[:size:size]
		p = p[size:]
		if len(p) >= 4 {
			p = p[4:] // previous tag size
		} else {
			p = nil
		}
		switch typ {
		case TypeAudio, TypeVideo, TypeDataAMF0:
			if size == 0 {
				continue
			}
			out = append(out, &Message{Type: typ, Timestamp: (ts + delta) & timestampMask, StreamID: m.StreamID, CSID: m.CSID, Payload: body})
		}
	}
	return out, nil
}
