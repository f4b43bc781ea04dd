package hub

import (
	"testing"

	"github.com/castd/castd/internal/av"
)

func TestJitter(t *testing.T) {
	type in struct {
		kind av.Kind
		ts   uint32
	}
	a := func(ts uint32) in { return in{av.KindAudio, ts} }
	v := func(ts uint32) in { return in{av.KindVideo, ts} }
	d := func(ts uint32) in { return in{av.KindData, ts} }
	cases := []struct {
		name string
		mode JitterMode
		in   []in
		want []uint32
	}{
		{"full starts at zero", JitterFull, []in{v(5000), a(5020), v(5040)}, []uint32{0, 20, 40}},
		{"full metadata is zero", JitterFull, []in{v(1000), d(1040), v(1040)}, []uint32{0, 0, 40}},
		{"full jump forward becomes 10ms", JitterFull, []in{v(0), v(40), v(90000), v(90040)}, []uint32{0, 40, 50, 90}},
		{"full jump back becomes 10ms", JitterFull, []in{v(10000), v(10040), v(0), v(40)}, []uint32{0, 40, 50, 90}},
		{"full small negative delta kept monotonic via max(0)", JitterFull, []in{v(100), a(90), a(80)}, []uint32{0, 0, 0}},
		{"full boundary ±250 is kept", JitterFull, []in{v(0), v(250), v(0), v(251)}, []uint32{0, 250, 0, 10}},
		{"full crosses 24-bit timestamps", JitterFull, []in{v(0xFFFFF0), v(0x1000010)}, []uint32{0, 32}},
		{"zero subtracts first", JitterZero, []in{v(5000), a(5020), d(6000)}, []uint32{0, 20, 1000}},
		{"zero clamps below first", JitterZero, []in{v(5000), a(4000)}, []uint32{0, 0}},
		{"off passes through", JitterOff, []in{v(5000), d(7), a(3)}, []uint32{5000, 7, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := NewJitter(c.mode)
			for i, x := range c.in {
				p := &av.Packet{Kind: x.kind, Timestamp: x.ts}
				if got := j.Correct(p); got != c.want[i] {
					t.Fatalf("packet %d (%v@%d): got %d, want %d", i, x.kind, x.ts, got, c.want[i])
				}
			}
		})
	}
}

func TestParseJitterMode(t *testing.T) {
	for s, want := range map[string]JitterMode{"full": JitterFull, "zero": JitterZero, "off": JitterOff} {
		got, err := ParseJitterMode(s)
		if err != nil || got != want || got.String() != s {
			t.Errorf("ParseJitterMode(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseJitterMode("half"); err == nil {
		t.Error("bad mode accepted")
	}
}
