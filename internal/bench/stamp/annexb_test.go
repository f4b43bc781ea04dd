package stamp

import (
	"bytes"
	"testing"

	"github.com/castd/castd/internal/av"
)

// annexB puts NAL units behind start codes, four-byte ones first as
// remuxers write an access unit's first unit.
func annexB(nalus ...[]byte) []byte {
	var b []byte
	for i, n := range nalus {
		if i == 0 {
			b = append(b, 0)
		}
		b = append(append(b, 0, 0, 1), n...)
	}
	return b
}

func TestFindAnnexB(t *testing.T) {
	want := Stamp{SentAt: 1_700_000_000_123_456_789, Seq: 42}
	ours264, _ := av.BuildSEIUserData(av.CodecH264, uuid16, want.AppendData(nil))
	ours265, _ := av.BuildSEIUserData(av.CodecH265, uuid16, want.AppendData(nil))
	var other [16]byte
	copy(other[:], "x264-banner-uuid")
	banner, _ := av.BuildSEIUserData(av.CodecH264, other, bytes.Repeat([]byte("x264 - core 164 "), 30))
	sps, pps := []byte{0x67, 0x64, 0, 0x1f, 0xac}, []byte{0x68, 0xee, 0x3c, 0x80}
	// A stamp whose data holds 00 00 0x needs emulation prevention: the
	// reader must undo it.
	zeros := Stamp{SentAt: 0x0000_0001_0000_0000, Seq: 3}
	escaped, _ := av.BuildSEIUserData(av.CodecH264, uuid16, zeros.AppendData(nil))
	tests := []struct {
		name  string
		codec av.Codec
		data  []byte
		want  Stamp
		found bool
	}{
		{"h264 AUD SPS PPS stamp IDR", av.CodecH264, annexB(h264AUD, sps, pps, ours264, h264IDR), want, true},
		{"h264 after a banner", av.CodecH264, annexB(h264AUD, banner, ours264, h264Slice), want, true},
		{"h264 three-byte start codes only", av.CodecH264, annexB(ours264, h264Slice)[1:], want, true},
		{"h264 trailing zeros before the next unit", av.CodecH264, append(append(annexB(h264AUD, ours264), 0, 0, 0, 0, 1), h264Slice...), want, true},
		{"h264 emulation prevention", av.CodecH264, annexB(h264AUD, escaped, h264Slice), zeros, true},
		{"h264 stamp is the last unit of the data", av.CodecH264, annexB(h264AUD, ours264), want, true},
		{"h265 AUD stamp IDR", av.CodecH265, annexB(h265AUD, ours265, h265IDR), want, true},
		{"h264 stamp after the slice", av.CodecH264, annexB(h264IDR, ours264), Stamp{}, false},
		{"h265 stamp after the slice", av.CodecH265, annexB(h265Trail, ours265), Stamp{}, false},
		{"h264 stamp cut short", av.CodecH264, annexB(h264AUD, ours264[:20]), Stamp{}, false},
		{"h264 no stamp", av.CodecH264, annexB(h264AUD, sps, pps, banner, h264IDR), Stamp{}, false},
		{"no start code", av.CodecH264, ours264, Stamp{}, false},
		{"empty", av.CodecH264, nil, Stamp{}, false},
		{"only start codes", av.CodecH264, []byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 1}, Stamp{}, false},
		{"AV1 is never stamped", av.CodecAV1, annexB(ours264), Stamp{}, false},
	}
	var r Reader
	for _, tt := range tests {
		got, ok := r.FindAnnexB(tt.codec, tt.data)
		if ok != tt.found || got != tt.want {
			t.Errorf("%s: got %+v %v, want %+v %v", tt.name, got, ok, tt.want, tt.found)
		}
	}
}

// A stamped AVCC frame converted to Annex-B, as castd's TS remuxer does,
// keeps its stamp, and reading it allocates nothing.
func TestFindAnnexBAfterRemux(t *testing.T) {
	for _, c := range frameCases() {
		body := append(bytes.Clone(c.header), avcc(c.lengthSize, c.nalus...)...)
		tag, err := av.ParseFLVVideoTag(body)
		if err != nil {
			t.Fatal(err)
		}
		want := Stamp{SentAt: 99, Seq: 7}
		stamped, err := AppendStamped(nil, body, tag, c.lengthSize, want)
		if err != nil {
			t.Fatal(err)
		}
		au, err := av.AVCCToAnnexB(nil, stamped[tag.PayloadOffset:], c.lengthSize)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var r Reader
		if got, ok := r.FindAnnexB(c.codec, au); !ok || got != want {
			t.Errorf("%s: got %+v %v", c.name, got, ok)
		}
		if allocs := testing.AllocsPerRun(50, func() { r.FindAnnexB(c.codec, au) }); allocs != 0 {
			t.Errorf("%s: %v allocations per frame", c.name, allocs)
		}
	}
}

// FuzzFindAnnexB feeds arbitrary access units to the reader, and checks
// that a stamp put before a slice is found again.
func FuzzFindAnnexB(f *testing.F) {
	ours, _ := av.BuildSEIUserData(av.CodecH264, uuid16, Stamp{SentAt: 5, Seq: 6}.AppendData(nil))
	f.Add(false, annexB(h264AUD, ours, h264IDR), int64(1), uint64(2))
	f.Add(false, annexB(h264Slice), int64(0), uint64(0))
	f.Add(true, annexB(h265AUD, h265IDR), int64(-1), uint64(3))
	f.Add(false, []byte{0, 0, 1, 0x06, 0x05, 0xff, 0xff}, int64(0x30000), uint64(1))
	f.Add(false, []byte{0, 0, 1, 0x06, 0x05, 32, 'c', 'a', 's', 't', 0, 0, 1}, int64(7), uint64(7))
	f.Fuzz(func(t *testing.T, hevc bool, prefix []byte, sentAt int64, seq uint64) {
		codec, slice := av.CodecH264, h264IDR
		if hevc {
			codec, slice = av.CodecH265, h265IDR
		}
		var r Reader
		r.FindAnnexB(codec, prefix)
		// Bytes before the first start code belong to no NAL unit, so a
		// stamp after a prefix without start codes is always found.
		want := Stamp{SentAt: sentAt, Seq: seq}
		sei := appendSEI(nil, codec, want)
		au := append(append(append(append(bytes.Clone(prefix), 0, 0, 0, 1), sei...), 0, 0, 1), slice...)
		got, ok := r.FindAnnexB(codec, au)
		if !bytes.Contains(prefix, startCode) && (!ok || got != want) {
			t.Fatalf("stamp %+v, found %+v %v in %x", want, got, ok, au)
		}
	})
}
