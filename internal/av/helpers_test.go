package av

import (
	"encoding/hex"
	"math/bits"
	"strings"
	"testing"
)

// mustHex decodes hex written with optional spaces, failing the test on typos.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// cat joins byte slices.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Test-only Exp-Golomb writers, so tests can build bitstreams field by field
// from the spec's syntax tables.
func (w *bitWriter) ue(v uint32) {
	n := bits.Len64(uint64(v) + 1)
	w.write(0, n-1)
	w.write(uint64(v)+1, n)
}

func (w *bitWriter) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*v - 1))
	} else {
		w.ue(uint32(-2 * v))
	}
}

func (w *bitWriter) flag(b bool) {
	if b {
		w.write(1, 1)
	} else {
		w.write(0, 1)
	}
}

// rbspWithTrailingBits ends a bitstream with rbsp_trailing_bits.
func (w *bitWriter) rbspWithTrailingBits() []byte {
	w.write(1, 1)
	for w.nbits%8 != 0 {
		w.write(0, 1)
	}
	return w.bytes()
}
