package srt

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func ranges(l *lossList) []seqRange { return append([]seqRange{}, l.ranges...) }

func TestLossListOps(t *testing.T) {
	type op struct {
		kind     string // insert, remove, removeRange, removeBefore
		from, to uint32
	}
	const top = seqMask // the last sequence number before wrap-around
	for _, tc := range []struct {
		name  string
		ops   []op
		want  []seqRange
		count int
	}{
		{"single", []op{{"insert", 5, 5}}, []seqRange{{5, 5}}, 1},
		{"append and merge adjacent", []op{{"insert", 5, 7}, {"insert", 8, 9}}, []seqRange{{5, 9}}, 5},
		{"disjoint in order", []op{{"insert", 5, 7}, {"insert", 10, 12}}, []seqRange{{5, 7}, {10, 12}}, 6},
		{"insert before", []op{{"insert", 10, 12}, {"insert", 2, 3}}, []seqRange{{2, 3}, {10, 12}}, 5},
		{"bridge two ranges", []op{{"insert", 1, 2}, {"insert", 6, 7}, {"insert", 3, 5}}, []seqRange{{1, 7}}, 7},
		{"overlap", []op{{"insert", 1, 5}, {"insert", 3, 9}}, []seqRange{{1, 9}}, 9},
		{"contained", []op{{"insert", 1, 9}, {"insert", 3, 4}}, []seqRange{{1, 9}}, 9},
		{"remove first", []op{{"insert", 1, 3}, {"remove", 1, 1}}, []seqRange{{2, 3}}, 2},
		{"remove last", []op{{"insert", 1, 3}, {"remove", 3, 3}}, []seqRange{{1, 2}}, 2},
		{"remove middle splits", []op{{"insert", 1, 3}, {"remove", 2, 2}}, []seqRange{{1, 1}, {3, 3}}, 2},
		{"remove only", []op{{"insert", 4, 4}, {"remove", 4, 4}}, []seqRange{}, 0},
		{"remove absent", []op{{"insert", 4, 6}, {"remove", 9, 9}}, []seqRange{{4, 6}}, 3},
		{"remove range across", []op{{"insert", 1, 3}, {"insert", 6, 9}, {"removeRange", 2, 7}}, []seqRange{{1, 1}, {8, 9}}, 3},
		{"remove range inside", []op{{"insert", 1, 9}, {"removeRange", 3, 5}}, []seqRange{{1, 2}, {6, 9}}, 6},
		{"remove before trims", []op{{"insert", 1, 3}, {"insert", 6, 9}, {"removeBefore", 7, 0}}, []seqRange{{7, 9}}, 3},
		{"remove before all", []op{{"insert", 1, 3}, {"removeBefore", 10, 0}}, []seqRange{}, 0},
		{"wrap-around range", []op{{"insert", top - 1, 1}}, []seqRange{{top - 1, 1}}, 4},
		{"wrap-around append", []op{{"insert", top - 2, top}, {"insert", 0, 1}}, []seqRange{{top - 2, 1}}, 5},
		{"wrap-around remove before", []op{{"insert", top - 1, 2}, {"removeBefore", 1, 0}}, []seqRange{{1, 2}}, 2},
		{"reversed range ignored", []op{{"insert", 9, 3}}, []seqRange{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLossList(100)
			for _, o := range tc.ops {
				switch o.kind {
				case "insert":
					l.insert(o.from, o.to)
				case "remove":
					l.remove(o.from)
				case "removeRange":
					l.removeRange(o.from, o.to)
				case "removeBefore":
					l.removeBefore(o.from)
				}
			}
			if got := ranges(l); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ranges %v, want %v", got, tc.want)
			}
			if l.len() != tc.count {
				t.Errorf("len %d, want %d", l.len(), tc.count)
			}
		})
	}
}

func TestLossListBound(t *testing.T) {
	l := newLossList(2)
	l.insert(1, 1)
	l.insert(3, 3)
	if n := l.insert(5, 5); n != 0 || l.len() != 2 {
		t.Fatalf("insert beyond the bound added %d, len %d", n, l.len())
	}
	if l.remove(2) || !l.remove(3) {
		t.Fatal("remove results wrong")
	}
	l.insert(10, 20)
	if l.remove(15) { // a split would need a third range
		t.Fatal("split beyond the bound")
	}
	if !l.contains(15) {
		t.Fatal("refused split lost the number")
	}
}

func TestLossListNAK(t *testing.T) {
	l := newLossList(10)
	l.insert(3, 3)
	l.insert(10, 12)
	got := l.appendNAK(nil, 100)
	want := []byte{0, 0, 0, 3, 0x80, 0, 0, 10, 0, 0, 0, 12}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("NAK % x, want % x", got, want)
	}
	if got := l.appendNAK(nil, 8); len(got) != 4 {
		t.Fatalf("limited NAK has %d bytes, want 4 (the pair does not fit)", len(got))
	}
}

// TestLossListModel compares random operations with a map, around the
// wrap-around point.
func TestLossListModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const base = seqMask - 500
	l := newLossList(1 << 20)
	model := map[uint32]bool{}
	for i := 0; i < 20000; i++ {
		a := seqAdd(base, rng.IntN(1000))
		b := seqAdd(a, rng.IntN(20))
		switch rng.IntN(4) {
		case 0, 1:
			added := l.insert(a, b)
			n := 0
			for s := a; ; s = seqNext(s) {
				if !model[s] {
					n++
				}
				model[s] = true
				if s == b {
					break
				}
			}
			if added != n {
				t.Fatalf("op %d: insert %d..%d added %d, model %d", i, a, b, added, n)
			}
		case 2:
			if got := l.remove(a); got != model[a] {
				t.Fatalf("op %d: remove %d = %v, model %v", i, a, got, model[a])
			}
			delete(model, a)
		case 3:
			l.removeRange(a, b)
			for s := a; ; s = seqNext(s) {
				delete(model, s)
				if s == b {
					break
				}
			}
		}
		if l.len() != len(model) {
			t.Fatalf("op %d: len %d, model %d", i, l.len(), len(model))
		}
		for k, r := range l.ranges {
			if seqDiff(r.from, r.to) < 0 || k > 0 && seqDiff(l.ranges[k-1].to, r.from) < 2 {
				t.Fatalf("op %d: ranges not sorted and disjoint: %v", i, l.ranges)
			}
		}
	}
	for s := range model {
		if !l.contains(s) {
			t.Fatalf("model has %d, list does not", s)
		}
	}
	if f, ok := l.first(); ok != (len(model) > 0) || ok && !model[f] {
		t.Fatalf("first %d %v", f, ok)
	}
}
