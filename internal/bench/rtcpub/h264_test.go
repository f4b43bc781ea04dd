package rtcpub

import (
	"bytes"
	"testing"

	"github.com/castd/castd/internal/av"
)

// avcSeqHeader is an AVC sequence header tag body: 4-byte NALU lengths,
// SPS 67 64 00 1f, PPS 68 ee.
var avcSeqHeader = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}

func videoTag(t testing.TB, body []byte) av.VideoTag {
	t.Helper()
	tag, err := av.ParseFLVVideoTag(body)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func TestAppendAnnexB(t *testing.T) {
	var ps ParamSets
	if err := ps.Update(avcSeqHeader, videoTag(t, avcSeqHeader)); err != nil {
		t.Fatal(err)
	}
	sc := []byte{0, 0, 0, 1}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	sps, pps := []byte{0x67, 0x64, 0, 0x1f}, []byte{0x68, 0xee}
	idr, sei, slice := []byte{0x65, 0x88, 0x80}, []byte{0x06, 5, 1, 0x80}, []byte{0x41, 0x9a}
	tests := []struct {
		name       string
		body       []byte
		lengthSize int
		want       []byte // nil: an error
	}{
		{"keyframe gets the parameter sets", cat([]byte{0x17, 1, 0, 0, 0}, []byte{0, 0, 0, 4}, sei, []byte{0, 0, 0, 3}, idr, nil),
			4, cat(sc, sps, sc, pps, sc, sei, sc, idr)},
		{"keyframe with its own SPS", cat([]byte{0x17, 1, 0, 0, 0}, []byte{0, 0, 0, 4}, sps, []byte{0, 0, 0, 3}, idr),
			4, cat(sc, sps, sc, idr)},
		{"inter frame, 2-byte lengths", cat([]byte{0x27, 1, 0, 0, 0}, []byte{0, 2}, slice), 2, cat(sc, slice)},
		{"inter frame, 1-byte lengths", cat([]byte{0x27, 1, 0, 0, 0}, []byte{2}, slice, []byte{0}), 1, cat(sc, slice)},
		{"NALU longer than the frame", cat([]byte{0x27, 1, 0, 0, 0}, []byte{0, 0, 0, 9}, slice), 4, nil},
		{"keyframe NALU longer than the frame", cat([]byte{0x17, 1, 0, 0, 0}, []byte{0, 0, 1, 0}, idr), 4, nil},
		{"truncated length", cat([]byte{0x27, 1, 0, 0, 0}, []byte{0, 0, 0, 2}, slice, []byte{0, 0}), 4, nil},
		{"bad length size", cat([]byte{0x17, 1, 0, 0, 0}, []byte{0, 0, 3}, idr), 3, nil},
	}
	for _, tt := range tests {
		got, err := AppendAnnexB([]byte("x"), tt.body, videoTag(t, tt.body), tt.lengthSize, ps)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: got % x, want an error", tt.name, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, append([]byte("x"), tt.want...)) {
			t.Errorf("%s: got % x, %v\nwant   78 % x", tt.name, got, err, tt.want)
		}
	}
	// A tag whose header claims more than the body has.
	if _, err := AppendAnnexB(nil, []byte{0x17}, av.VideoTag{FrameType: av.VideoFrameKey, PayloadOffset: 5}, 4, ps); err == nil {
		t.Error("a short tag was accepted")
	}
	if err := ps.Update([]byte{0x17, 0, 0, 0, 0, 1}, av.VideoTag{PayloadOffset: 5}); err == nil {
		t.Error("a truncated configuration record was accepted")
	}
	if err := ps.Update([]byte{0x17}, av.VideoTag{PayloadOffset: 5}); err == nil {
		t.Error("a short sequence header was accepted")
	}
}

func FuzzAppendAnnexB(f *testing.F) {
	f.Add([]byte{0x17, 1, 0, 0, 0, 0, 0, 0, 3, 0x65, 0x88, 0x80}, uint8(4))
	f.Add([]byte{0x27, 1, 0, 0, 0, 0, 2, 0x41, 0x9a}, uint8(2))
	f.Add([]byte{0x17, 1, 0, 0, 0, 4, 0x67, 0x64, 0, 0x1f, 2, 0x65, 0x88}, uint8(1))
	var ps ParamSets
	if err := ps.Update(avcSeqHeader, videoTag(f, avcSeqHeader)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, lengthSize uint8) {
		tag, err := av.ParseFLVVideoTag(body)
		if err != nil {
			return
		}
		out, err := AppendAnnexB(nil, body, tag, int(lengthSize), ps)
		if err != nil {
			return
		}
		// Every NAL unit costs 4 bytes of start code for at least the
		// length size it had; only a keyframe's parameter sets add more.
		limit := len(body)*4 + 16
		if len(out) > limit {
			t.Fatalf("%d bytes out of %d", len(out), len(body))
		}
	})
}
