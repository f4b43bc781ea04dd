package hls_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
)

// FuzzMuxer feeds the muxer what a publisher may send: any payloads with
// any timestamps. It must never panic, and whatever it lists must be on
// disk (the checker runs after every segment).
func FuzzMuxer(f *testing.F) {
	var seed []byte
	add := func(kind av.Kind, ms uint32, payload []byte) {
		seed = append(seed, byte(kind))
		seed = binary.BigEndian.AppendUint32(seed, ms)
		seed = binary.BigEndian.AppendUint16(seed, uint16(len(payload)))
		seed = append(seed, payload...)
	}
	add(av.KindVideo, 0, avcConfig(testSPS, testPPS))
	add(av.KindAudio, 0, aacConfig(testASC))
	for i := uint32(0); i < 60; i++ {
		add(av.KindVideo, i*40, avcFrame(i%10 == 0, 20))
		add(av.KindAudio, i*40+5, aacFrame(10))
	}
	add(av.KindAudio, 5000, mp3Frame())
	add(av.KindVideo, 100, avcConfig(testSPS2, testPPS))
	f.Add(seed)
	f.Add([]byte{9, 0, 0, 0, 0, 0, 2, 0x17, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h := newHarness(t, func(c *conf.HLS) {
			c.Fragment, c.AOFRatio, c.Window = 200*time.Millisecond, 1, time.Second
		})
		if err := h.m.Begin(h.cfg); err != nil {
			t.Fatal(err)
		}
		for len(b) >= 7 {
			kind, ms, n := av.Kind(b[0]), binary.BigEndian.Uint32(b[1:]), int(binary.BigEndian.Uint16(b[5:]))
			b = b[7:]
			n = min(n, len(b))
			p, err := av.NewPacket(kind, ms, b[:n])
			b = b[n:]
			if err != nil {
				continue
			}
			if err := h.m.Write(p); err != nil {
				t.Fatalf("write: %v", err)
			}
		}
		if err := h.m.End(); err != nil {
			t.Fatal(err)
		}
		if err := h.m.Dispose(); err != nil {
			t.Fatal(err)
		}
		if files := h.files(); len(files) != 0 {
			t.Fatalf("left after dispose: %v", files)
		}
	})
}
