package remux

import (
	"encoding/binary"
	"testing"

	"github.com/castd/castd/internal/av"
)

// encodePackets lays packets out as the fuzz input: kind, 16-bit timestamp
// in 10 ms units, 16-bit length, payload.
func encodePackets(packets ...[]byte) []byte {
	var b []byte
	for i, p := range packets {
		kind := byte(av.KindAudio)
		if p[0]&0x0f == 7 || p[0]&0x80 != 0 {
			kind = byte(av.KindVideo)
		}
		b = append(b, kind)
		b = binary.BigEndian.AppendUint16(b, uint16(i*4))
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	return b
}

// FuzzTSWriter feeds arbitrary packets to the writers: they must not panic,
// and the transport stream must stay well formed (whole packets, tables and
// continuity counters the demuxer accepts).
func FuzzTSWriter(f *testing.F) {
	f.Add(encodePackets(
		avcSequenceHeader(testSPS, testPPS), aacSequenceHeader(testASC),
		avcFrame(true, 40, []byte{0x06, 1}, []byte{0x65, 1, 2}), aacFrame(filler(30, 1)),
		avcFrame(false, 0, []byte{0x41, 3}), mp3Frame(40),
		hevcEnhanced(true, 0, hevcRecord(testVPS, testHEVCSPS, testHEVCPPS)),
		hevcEnhanced(true, 80, nil, []byte{0x26, 0x01, 0xaf}), hevcEnhanced(false, 0, nil, []byte{0x02, 0x01}),
	))
	f.Add(encodePackets(aacSequenceHeader([]byte{0x13, 0x88}), aacFrame(filler(5000, 2)), aacFrame(nil)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var packets []*av.Packet
		for len(data) >= 5 {
			kind := av.Kind(data[0])
			ms := uint32(binary.BigEndian.Uint16(data[1:])) * 10
			n := min(int(binary.BigEndian.Uint16(data[3:])), len(data)-5)
			payload := data[5 : 5+n]
			data = data[5+n:]
			if p, err := av.NewPacket(kind, ms, payload); err == nil {
				packets = append(packets, p)
			}
		}
		for _, opts := range []TSOptions{{}, {AudioDTSFromSamples: true, AggregatePureAudio: true}} {
			tw := newTS(t, nil, opts)
			var out []byte
			for _, p := range packets {
				var err error
				if out, err = tw.AppendPacket(out, p); err != nil {
					t.Fatal(err)
				}
			}
			out, err := tw.AppendFlush(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(out)%188 != 0 {
				t.Fatalf("%d bytes of transport stream", len(out))
			}
			demux(t, out)
		}
		a, m := NewADTSWriter(nil, nil), NewMP3Writer(nil, nil)
		for _, p := range packets {
			a.AppendPacket(nil, p)
			m.AppendPacket(nil, p)
		}
	})
}
