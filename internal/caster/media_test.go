package caster

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/remux"
)

// Test H.264 parameter sets (High profile, level 3.1) and AAC LC 44.1 kHz
// stereo: their content is opaque to the casters.
var (
	testSPS = []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9}
	testPPS = []byte{0x68, 0xeb, 0xe3, 0xcb}
	testASC = []byte{0x12, 0x10}
)

// avcSequenceHeader is an FLV AVC sequence header with 4-byte lengths.
func avcSequenceHeader() []byte {
	b := []byte{0x17, 0, 0, 0, 0, 1, testSPS[1], testSPS[2], testSPS[3], 0xff, 0xe1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(testSPS)))
	b = append(b, testSPS...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(testPPS)))
	return append(b, testPPS...)
}

// avcFrame is an FLV AVC frame holding one slice of n bytes.
func avcFrame(key bool, n int, seq int) []byte {
	first, nal := byte(0x27), byte(0x41)
	if key {
		first, nal = 0x17, 0x65
	}
	slice := make([]byte, n)
	slice[0] = nal
	for i := 1; i < n; i++ {
		slice[i] = byte(i + seq)
	}
	return av.AppendAVCC([]byte{first, 1, 0, 0, 0}, slice)
}

// mediaPackets is dur ms of 25 fps H.264 (a keyframe each second) and
// AAC (one frame per 23 ms) as an RTMP publisher sends them.
func mediaPackets(t testing.TB, durMS int) []*av.Packet {
	t.Helper()
	mk := func(kind av.Kind, ms int, payload []byte) *av.Packet {
		p, err := av.NewPacket(kind, uint32(ms), payload)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	out := []*av.Packet{
		mk(av.KindVideo, 0, avcSequenceHeader()),
		mk(av.KindAudio, 0, append([]byte{0xaf, 0}, testASC...)),
	}
	v, a := 0, 0
	for v < durMS || a < durMS {
		if v <= a {
			out = append(out, mk(av.KindVideo, v, avcFrame(v%1000 == 0, 600, v)))
			v += 40
		} else {
			out = append(out, mk(av.KindAudio, a, append([]byte{0xaf, 1}, bytes.Repeat([]byte{byte(a)}, 200)...)))
			a += 23
		}
	}
	return out
}

// tsOf muxes packets into a transport stream.
func tsOf(t testing.TB, packets []*av.Packet) []byte {
	t.Helper()
	tw, err := remux.NewTSWriter(nil, remux.TSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ts []byte
	for _, p := range packets {
		if ts, err = tw.AppendPacket(ts, p); err != nil {
			t.Fatal(err)
		}
	}
	if ts, err = tw.AppendFlush(ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

// datagrams splits a transport stream into datagrams of 7 packets, as
// ffmpeg sends with pkt_size=1316.
func datagrams(ts []byte) [][]byte {
	var out [][]byte
	const size = 7 * mpegts.PacketSize
	for len(ts) > 0 {
		n := min(size, len(ts))
		out = append(out, ts[:n])
		ts = ts[n:]
	}
	return out
}

// flvOf writes packets as an FLV stream, as ffmpeg -f flv does.
func flvOf(t testing.TB, packets []*av.Packet) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flv.NewWriter(&b, flv.Header{HasAudio: true, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packets {
		if err := w.WriteTag(flv.Tag{Type: uint8(p.Kind), Timestamp: p.Timestamp, Data: p.Payload}); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// mediaSummary counts what a target received.
type mediaSummary struct {
	videoHeaders, audioHeaders, keyframes, video, audio, data int
	firstVideoTS                                              uint32
	lastVideoTS                                               uint32
}

func summarize(t testing.TB, msgs []*rtmp.Message) mediaSummary {
	t.Helper()
	var s mediaSummary
	seenVideo := false
	for _, m := range msgs {
		switch m.Type {
		case rtmp.TypeDataAMF0:
			s.data++
			continue
		case rtmp.TypeVideo, rtmp.TypeAudio:
		default:
			continue
		}
		p, err := av.NewPacket(av.Kind(m.Type), m.Timestamp, m.Payload)
		if err != nil {
			t.Fatalf("the target got a malformed %d message: %v", m.Type, err)
		}
		switch {
		case p.IsVideo() && p.SequenceHeader:
			s.videoHeaders++
		case p.IsAudio() && p.SequenceHeader:
			s.audioHeaders++
		case p.IsVideo():
			s.video++
			if p.Keyframe {
				s.keyframes++
			}
			if !seenVideo {
				s.firstVideoTS, seenVideo = p.Timestamp, true
			}
			s.lastVideoTS = p.Timestamp
		default:
			s.audio++
		}
	}
	return s
}
