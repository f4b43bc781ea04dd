//go:build cgo && !castd_nolibav

package transcode

import (
	"testing"
	"time"
)

// FuzzAACToOpus feeds any AudioSpecificConfig and frame to the AAC decoder:
// it may refuse them, but must not crash, hang or leak, and a good frame
// after a bad one must still be taken.
func FuzzAACToOpus(f *testing.F) {
	for _, s := range []aacStream{makeAAC(f, 0.3, 44100, 2), makeAAC(f, 0.3, 48000, 1)} {
		for _, frame := range s.frames[:4] {
			f.Add(s.asc, frame)
		}
		f.Add(s.asc, s.frames[2][:len(s.frames[2])/2])
	}
	f.Add([]byte{0x13, 0x10, 0x56, 0xe5, 0x98}, []byte{0x21, 0x00, 0x49, 0x90, 0x02, 0x19, 0x00, 0x23, 0x80}) // HE-AAC ASC
	f.Add([]byte{0x12, 0x00}, []byte{0x00})                                                                   // channel configuration 0, no PCE
	f.Add([]byte{0x11, 0xe8}, []byte{0xde, 0x04, 0x00, 0x26, 0x20})                                           // 13 channels
	f.Fuzz(func(t *testing.T, asc, frame []byte) {
		tc, err := NewAACToOpus(asc, DefaultBitrate)
		if err != nil {
			return
		}
		defer tc.Close()
		for i := range 3 {
			frames, err := tc.Write(frame, time.Duration(i)*20*time.Millisecond)
			if err != nil {
				continue
			}
			for _, o := range frames {
				if len(o.Data) == 0 || o.Duration != 20*time.Millisecond {
					t.Fatalf("bad output frame %+v", o)
				}
			}
		}
	})
}

// FuzzOpusToAAC feeds any packet to the Opus decoder.
func FuzzOpusToAAC(f *testing.F) {
	opus := makeOpus(f, 0.2)
	for _, p := range opus[:4] {
		f.Add(uint8(2), p.Data)
	}
	f.Add(uint8(1), opus[1].Data)
	f.Add(uint8(2), []byte{0xfb, 0x83, 0x01, 0x02, 0x03}) // code 3, VBR, padding
	f.Add(uint8(1), []byte{0x00})                         // SILK, empty frame
	f.Fuzz(func(t *testing.T, channels uint8, packet []byte) {
		tc, err := NewOpusToAAC(int(channels), DefaultBitrate)
		if err != nil {
			return
		}
		defer tc.Close()
		for i := range 3 {
			frames, err := tc.Write(packet, time.Duration(i)*20*time.Millisecond)
			if err != nil {
				continue
			}
			for _, o := range frames {
				if len(o.Data) == 0 {
					t.Fatalf("empty output frame %+v", o)
				}
			}
		}
	})
}
