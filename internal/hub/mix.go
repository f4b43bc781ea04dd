package hub

import "github.com/castd/castd/internal/av"

// mixPureAV is how many packets of one kind SRS's mix queue lets through
// when the other kind never shows up (a pure audio or pure video stream).
const mixPureAV = 10

// mixQueue is play.mix_correct: it reorders a publisher's audio and video
// into one timestamp order before they reach the stream, holding packets
// until it has seen at least one of each kind (SRS's SrsMixQueue).
type mixQueue struct {
	pkts          []*av.Packet // sorted by timestamp, stable for equal ones
	audio, videos int
}

func (q *mixQueue) push(p *av.Packet) {
	i := len(q.pkts)
	for i > 0 && q.pkts[i-1].Timestamp > p.Timestamp {
		i--
	}
	q.pkts = append(q.pkts, nil)
	copy(q.pkts[i+1:], q.pkts[i:])
	q.pkts[i] = p
	if p.Kind == av.KindVideo {
		q.videos++
	} else {
		q.audio++
	}
}

// pop returns the earliest packet once the mix is known, or nil.
func (q *mixQueue) pop() *av.Packet {
	ok := q.videos >= 1 && q.audio >= 1 ||
		q.videos >= mixPureAV && q.audio == 0 ||
		q.audio >= mixPureAV && q.videos == 0
	if !ok || len(q.pkts) == 0 {
		return nil
	}
	p := q.pkts[0]
	q.pkts[0] = nil
	q.pkts = q.pkts[1:]
	if p.Kind == av.KindVideo {
		q.videos--
	} else {
		q.audio--
	}
	return p
}
