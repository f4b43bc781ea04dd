package srt

import "sort"

// seqRange is an inclusive range of sequence numbers.
type seqRange struct{ from, to uint32 }

func (r seqRange) size() int { return int(seqDiff(r.from, r.to)) + 1 }

// lossList is a set of sequence numbers kept as sorted, disjoint,
// non-adjacent ranges: the receiver's list of packets to ask for again and
// the sender's list of packets to send again. Losses come in bursts, so a
// handful of ranges covers them; all members lie within one buffer window,
// far less than 2^30 apart, which keeps seqDiff comparisons valid.
type lossList struct {
	ranges    []seqRange
	count     int
	maxRanges int // bound on len(ranges); new ranges beyond it are refused
}

func newLossList(maxRanges int) *lossList {
	return &lossList{maxRanges: max(maxRanges, 1)}
}

// len returns how many sequence numbers the list holds.
func (l *lossList) len() int { return l.count }

func (l *lossList) empty() bool { return l.count == 0 }

// search returns the index of the first range ending at or after seq-slack.
func (l *lossList) search(seq uint32, slack int32) int {
	return sort.Search(len(l.ranges), func(k int) bool { return seqDiff(seq, l.ranges[k].to) >= -slack })
}

// insert adds from..to and returns how many numbers were new.
func (l *lossList) insert(from, to uint32) int {
	if seqDiff(from, to) < 0 {
		return 0
	}
	n := len(l.ranges)
	// Fast path: losses are found in order, so a new range usually goes last.
	if n == 0 || seqDiff(l.ranges[n-1].to, from) > 1 {
		if n >= l.maxRanges {
			return 0
		}
		l.ranges = append(l.ranges, seqRange{from, to})
		added := seqRange{from, to}.size()
		l.count += added
		return added
	}
	i := l.search(from, 1)
	merged := seqRange{from, to}
	removed := 0
	j := i
	for ; j < len(l.ranges) && seqDiff(l.ranges[j].from, to) >= -1; j++ {
		r := l.ranges[j]
		if seqLess(r.from, merged.from) {
			merged.from = r.from
		}
		if seqLess(merged.to, r.to) {
			merged.to = r.to
		}
		removed += r.size()
	}
	if i == j {
		if len(l.ranges) >= l.maxRanges {
			return 0
		}
		l.ranges = append(l.ranges, seqRange{})
		copy(l.ranges[i+1:], l.ranges[i:])
		l.ranges[i] = merged
	} else {
		l.ranges[i] = merged
		l.ranges = append(l.ranges[:i+1], l.ranges[j:]...)
	}
	added := merged.size() - removed
	l.count += added
	return added
}

// remove takes seq out of the list and reports whether it was there.
func (l *lossList) remove(seq uint32) bool {
	i := l.search(seq, 0)
	if i == len(l.ranges) || seqLess(seq, l.ranges[i].from) {
		return false
	}
	r := l.ranges[i]
	switch {
	case r.from == seq && r.to == seq:
		l.ranges = append(l.ranges[:i], l.ranges[i+1:]...)
	case r.from == seq:
		l.ranges[i].from = seqNext(seq)
	case r.to == seq:
		l.ranges[i].to = seqAdd(seq, -1)
	default:
		// Splitting adds a range; past the bound, keep the hole so the
		// number is simply asked for again.
		if len(l.ranges) >= l.maxRanges {
			return false
		}
		l.ranges = append(l.ranges, seqRange{})
		copy(l.ranges[i+1:], l.ranges[i:])
		l.ranges[i].to = seqAdd(seq, -1)
		l.ranges[i+1].from = seqNext(seq)
	}
	l.count--
	return true
}

// removeRange takes from..to out of the list.
func (l *lossList) removeRange(from, to uint32) {
	if seqDiff(from, to) < 0 {
		return
	}
	for !l.empty() {
		i := l.search(from, 0)
		if i == len(l.ranges) || seqLess(to, l.ranges[i].from) {
			return
		}
		r := l.ranges[i]
		lo := r.from
		if seqLess(lo, from) {
			lo = from
		}
		hi := r.to
		if seqLess(to, hi) {
			hi = to
		}
		switch {
		case lo == r.from && hi == r.to:
			l.ranges = append(l.ranges[:i], l.ranges[i+1:]...)
		case lo == r.from:
			l.ranges[i].from = seqNext(hi)
		case hi == r.to:
			l.ranges[i].to = seqAdd(lo, -1)
		default:
			if len(l.ranges) >= l.maxRanges {
				return
			}
			l.ranges = append(l.ranges, seqRange{})
			copy(l.ranges[i+1:], l.ranges[i:])
			l.ranges[i].to = seqAdd(lo, -1)
			l.ranges[i+1].from = seqNext(hi)
		}
		l.count -= seqRange{lo, hi}.size()
	}
}

// removeBefore drops every number before seq.
func (l *lossList) removeBefore(seq uint32) {
	i := 0
	for ; i < len(l.ranges) && seqLess(l.ranges[i].to, seq); i++ {
		l.count -= l.ranges[i].size()
	}
	l.ranges = append(l.ranges[:0], l.ranges[i:]...)
	if len(l.ranges) > 0 && seqLess(l.ranges[0].from, seq) {
		l.count -= int(seqDiff(l.ranges[0].from, seq))
		l.ranges[0].from = seq
	}
}

// first returns the lowest number in the list.
func (l *lossList) first() (uint32, bool) {
	if len(l.ranges) == 0 {
		return 0, false
	}
	return l.ranges[0].from, true
}

// rangeOf returns the range holding seq.
func (l *lossList) rangeOf(seq uint32) (seqRange, bool) {
	i := l.search(seq, 0)
	if i == len(l.ranges) || seqLess(seq, l.ranges[i].from) {
		return seqRange{}, false
	}
	return l.ranges[i], true
}

func (l *lossList) contains(seq uint32) bool {
	_, ok := l.rangeOf(seq)
	return ok
}

// appendNAK appends the list as a NAK loss list, stopping before maxBytes.
func (l *lossList) appendNAK(b []byte, maxBytes int) []byte {
	start := len(b)
	for _, r := range l.ranges {
		need := 8
		if r.from == r.to {
			need = 4
		}
		if len(b)-start+need > maxBytes {
			break
		}
		b = appendLossRange(b, r.from, r.to)
	}
	return b
}

func (l *lossList) clear() {
	l.ranges = l.ranges[:0]
	l.count = 0
}
