package av

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestBitReaderFixedFields(t *testing.T) {
	r := NewBitReader([]byte{0b1011_0010, 0xff, 0x00, 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a})
	if got := r.ReadBits(3); got != 0b101 {
		t.Fatalf("ReadBits(3) = %b, want 101", got)
	}
	if got := r.ReadFlag(); !got {
		t.Fatalf("ReadFlag = false, want true")
	}
	if got := r.ReadBits(4); got != 0b0010 {
		t.Fatalf("ReadBits(4) = %b, want 0010", got)
	}
	if got := r.ReadBits(12); got != 0xff0 {
		t.Fatalf("ReadBits(12) = %#x, want 0xff0", got)
	}
	r.ByteAlign()
	if got := r.ReadU8(); got != 0x80 {
		t.Fatalf("ReadU8 after align = %#x, want 0x80", got)
	}
	if got := r.ReadU32(); got != 0x12345678 {
		t.Fatalf("ReadU32 = %#x", got)
	}
	if r.BitsLeft() != 8 || r.BitPos() != 64 {
		t.Fatalf("BitsLeft %d BitPos %d, want 8 and 64", r.BitsLeft(), r.BitPos())
	}
	if r.Err() != nil {
		t.Fatalf("unexpected error %v", r.Err())
	}
	if got := r.ReadBits(9); got != 0 || !errors.Is(r.Err(), ErrShortBitstream) {
		t.Fatalf("over-read = %d, %v; want 0, ErrShortBitstream", got, r.Err())
	}
	// Errors are sticky.
	if r.ReadBits(1) != 0 || r.BitsLeft() != 0 {
		t.Fatal("reads after an error must return zero")
	}
}

func TestBitReaderReadBits64(t *testing.T) {
	r := NewBitReader([]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef})
	if got := r.ReadBits(64); got != 0x0123456789abcdef || r.Err() != nil {
		t.Fatalf("ReadBits(64) = %#x, %v", got, r.Err())
	}
	r = NewBitReader([]byte{0xff})
	r.ReadBits(65)
	if r.Err() == nil {
		t.Fatal("ReadBits(65) must fail")
	}
}

// Exp-Golomb code words from ISO/IEC 14496-10 Table 9-2 and 9-3.
func TestBitReaderExpGolomb(t *testing.T) {
	tests := []struct {
		bits string
		ue   uint32
		se   int32
	}{
		{"1", 0, 0},
		{"010", 1, 1},
		{"011", 2, -1},
		{"00100", 3, 2},
		{"00101", 4, -2},
		{"00110", 5, 3},
		{"00111", 6, -3},
		{"0001000", 7, 4},
		{"000010001", 16, -8},
		{strings.Repeat("0", 16) + "1" + strings.Repeat("0", 16), 65535, 32768},
		{strings.Repeat("0", 31) + strings.Repeat("1", 32), 1<<32 - 2, -(1<<31 - 1)},
	}
	for _, tt := range tests {
		b := bitsToBytes(t, tt.bits)
		r := NewBitReader(b)
		if got := r.ReadUE(); got != tt.ue || r.Err() != nil || r.BitPos() != len(tt.bits) {
			t.Errorf("ue(%s) = %d at bit %d, %v; want %d at %d", tt.bits, got, r.BitPos(), r.Err(), tt.ue, len(tt.bits))
		}
		r = NewBitReader(b)
		if got := r.ReadSE(); got != tt.se || r.Err() != nil {
			t.Errorf("se(%s) = %d, %v; want %d", tt.bits, got, r.Err(), tt.se)
		}
	}
}

func TestBitReaderExpGolombErrors(t *testing.T) {
	// 32 leading zeros cannot be a valid ue(v).
	r := NewBitReader([]byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff})
	if r.ReadUE(); r.Err() == nil {
		t.Error("33-bit prefix accepted")
	}
	// Truncated suffix.
	r = NewBitReader([]byte{0b0000_0001})
	if got := r.ReadUE(); got != 0 || !errors.Is(r.Err(), ErrShortBitstream) {
		t.Errorf("truncated ue = %d, %v", got, r.Err())
	}
	// All zeros: runs off the end without looping forever.
	r = NewBitReader(make([]byte, 3))
	if r.ReadUE(); r.Err() == nil {
		t.Error("all-zero input accepted")
	}
}

func TestBitReaderSkip(t *testing.T) {
	r := NewBitReader([]byte{0xaa, 0x55})
	r.Skip(4)
	if got := r.ReadBits(8); got != 0xa5 {
		t.Fatalf("after Skip(4) got %#x, want 0xa5", got)
	}
	r.Skip(5)
	if r.Err() == nil {
		t.Fatal("Skip past the end must fail")
	}
}

func bitsToBytes(t *testing.T, s string) []byte {
	t.Helper()
	var w bitWriter
	for _, c := range s {
		switch c {
		case '0':
			w.write(0, 1)
		case '1':
			w.write(1, 1)
		default:
			t.Fatalf("bad bit %q", c)
		}
	}
	return w.bytes()
}

func TestUnescapeRBSP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"0102", "0102"},
		{"000003", "0000"},
		{"00000301", "000001"},
		{"0000030000030203", "000000000203"},
		{"000303", "000303"},       // one zero: no emulation prevention
		{"00000303", "000003"},     // only the first 03 is removed
		{"0000000003", "00000000"}, // three zeros then 03
		{"6742c01e00000300", "6742c01e000000"},
	}
	for _, tt := range tests {
		in := mustHex(t, tt.in)
		if got := UnescapeRBSP(in); !bytes.Equal(got, mustHex(t, tt.want)) {
			t.Errorf("UnescapeRBSP(%s) = %x, want %s", tt.in, got, tt.want)
		}
	}
	clean := []byte{1, 2, 3}
	if got := UnescapeRBSP(clean); &got[0] != &clean[0] {
		t.Error("UnescapeRBSP copied input that had nothing to remove")
	}
}

func TestAppendEscapedRBSP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"000000", "0000030003"}, // ends in zero: trailing 03
		{"000001", "00000301"},
		{"000002", "00000302"},
		{"000003", "00000303"},
		{"000004", "000004"},
		{"0000000000", "0000030000030003"},
		{"80", "80"},
	}
	for _, tt := range tests {
		got := AppendEscapedRBSP([]byte{0xab}, mustHex(t, tt.in))
		if want := cat([]byte{0xab}, mustHex(t, tt.want)); !bytes.Equal(got, want) {
			t.Errorf("AppendEscapedRBSP(%s) = %x, want ab%s", tt.in, got, tt.want)
		}
	}
	// Round trip through every pattern of zeros and small bytes.
	for i := 0; i < 1<<12; i++ {
		var rbsp []byte
		for j := 0; j < 6; j++ {
			rbsp = append(rbsp, byte(i>>(2*j)&3))
		}
		rbsp = append(rbsp, 0x80)
		esc := AppendEscapedRBSP(nil, rbsp)
		if bytes.Contains(esc, []byte{0, 0, 0}) || bytes.Contains(esc, []byte{0, 0, 1}) || bytes.Contains(esc, []byte{0, 0, 2}) {
			t.Fatalf("escaped %x still holds a start code pattern: %x", rbsp, esc)
		}
		if back := UnescapeRBSP(esc); !bytes.Equal(back, rbsp) {
			t.Fatalf("round trip %x -> %x -> %x", rbsp, esc, back)
		}
	}
}
