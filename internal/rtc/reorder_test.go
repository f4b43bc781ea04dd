package rtc

import (
	"testing"
	"time"
)

func seqs(ps []orderedPacket) (out []int, lost []int) {
	for _, p := range ps {
		out = append(out, int(p.seq))
		if p.lostBefore {
			lost = append(lost, int(p.seq))
		}
	}
	return out, lost
}

func TestReorderBuffer(t *testing.T) {
	t0 := time.Unix(0, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type step struct {
		seq  uint16
		at   int // ms
		want []int
		lost []int
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{10, 0, []int{10}, nil}, {11, 1, []int{11}, nil}}},
		{"reordered", []step{{10, 0, []int{10}, nil}, {12, 1, nil, nil}, {11, 2, []int{11, 12}, nil}}},
		{"gap filled by a retransmission", []step{{1, 0, []int{1}, nil}, {3, 10, nil, nil}, {4, 20, nil, nil}, {2, 100, []int{2, 3, 4}, nil}}},
		{"gap given up after maxWait", []step{{1, 0, []int{1}, nil}, {3, 10, nil, nil}, {4, 200, []int{3, 4}, []int{3}}}},
		{"late packet dropped", []step{{1, 0, []int{1}, nil}, {3, 10, nil, nil}, {4, 200, []int{3, 4}, []int{3}}, {2, 210, nil, nil}}},
		{"duplicate dropped", []step{{1, 0, []int{1}, nil}, {3, 1, nil, nil}, {3, 2, nil, nil}, {2, 3, []int{2, 3}, nil}}},
		{"sequence wrap", []step{{65535, 0, []int{65535}, nil}, {1, 1, nil, nil}, {0, 2, []int{0, 1}, nil}}},
		{"jump far ahead restarts", []step{{1, 0, []int{1}, nil}, {3, 1, nil, nil}, {3000, 2, []int{3, 3000}, []int{3}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newReorderBuffer(150 * time.Millisecond)
			for i, s := range c.steps {
				got, lost := seqs(b.push(rtpPacket{seq: s.seq}, ms(s.at), nil))
				if !equalInts(got, s.want) || !equalInts(lost, s.lost) {
					t.Fatalf("step %d (seq %d): got %v lost %v, want %v lost %v", i, s.seq, got, lost, s.want, s.lost)
				}
			}
		})
	}
}

func TestReorderBufferGivesUpWhenHalfFull(t *testing.T) {
	b := newReorderBuffer(time.Hour)
	now := time.Unix(0, 0)
	b.push(rtpPacket{seq: 0}, now, nil)
	var out []orderedPacket
	for s := uint16(2); len(out) == 0 && s < reorderSlots; s++ {
		out = b.push(rtpPacket{seq: s}, now, nil)
	}
	if len(out) == 0 || !out[0].lostBefore || out[0].seq != 2 {
		t.Fatalf("a buffer half full of packets after a gap must give the gap up, got %d packets", len(out))
	}
	if b.held != 0 {
		t.Fatalf("%d packets still held", b.held)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
