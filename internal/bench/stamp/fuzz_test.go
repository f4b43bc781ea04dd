package stamp

import (
	"testing"

	"github.com/castd/castd/internal/av"
)

// FuzzStampReader feeds arbitrary frames to the reader, and checks that a
// stamp put into any frame is found again.
func FuzzStampReader(f *testing.F) {
	ours, _ := av.BuildSEIUserData(av.CodecH264, uuid16, Stamp{SentAt: 5, Seq: 6}.AppendData(nil))
	f.Add(false, uint8(4), avcc(4, h264AUD, ours, h264IDR), int64(1), uint64(2))
	f.Add(false, uint8(2), avcc(2, h264Slice), int64(0), uint64(0))
	f.Add(true, uint8(4), avcc(4, h265AUD, h265IDR), int64(-1), uint64(3))
	f.Add(false, uint8(1), []byte{0x06, 0x05, 0xff, 0xff}, int64(0x30000), uint64(1))
	f.Add(false, uint8(4), []byte{0, 0, 0, 40, 0x06, 0x05, 32, 'c', 'a', 's', 't'}, int64(7), uint64(7))
	f.Fuzz(func(t *testing.T, hevc bool, lengthSize uint8, nalus []byte, sentAt int64, seq uint64) {
		codec, header := av.CodecH264, []byte{0x27, 1, 0, 0, 0}
		if hevc {
			codec, header = av.CodecH265, []byte{0x2C, 1, 0, 0, 0}
		}
		var r Reader
		r.Find(codec, nalus, int(lengthSize))
		body := append(header, nalus...)
		tag, err := av.ParseFLVVideoTag(body)
		if err != nil {
			t.Fatal(err)
		}
		want := Stamp{SentAt: sentAt, Seq: seq}
		out, err := AppendStamped(nil, body, tag, int(lengthSize), want)
		if err != nil {
			if lengthSize == 1 || lengthSize == 2 || lengthSize == 4 {
				t.Fatalf("length size %d: %v", lengthSize, err)
			}
			return
		}
		if got, ok := r.Find(codec, out[tag.PayloadOffset:], int(lengthSize)); !ok || got != want {
			t.Fatalf("stamp %+v, found %+v %v in %x", want, got, ok, out)
		}
	})
}
