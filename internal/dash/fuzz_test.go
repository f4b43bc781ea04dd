package dash

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
)

// Fuzz input for the packager: records of
//
//	flags (bit 0 video, bit 1 the delta is in seconds, bit 2 a new publish)
//	delta int16 (timestamp change, ms or s)
//	length uint16, then the FLV tag body.
const (
	fuzzVideo      = 1
	fuzzSeconds    = 2
	fuzzNewPublish = 4
)

// encodeFuzz turns packets into fuzz input.
func encodeFuzz(ps []*av.Packet) []byte {
	var out []byte
	var last int64
	for _, p := range ps {
		flags := byte(0)
		if p.Kind == av.KindVideo {
			flags |= fuzzVideo
		}
		delta := int64(p.Timestamp) - last
		last = int64(p.Timestamp)
		out = append(out, flags)
		out = binary.BigEndian.AppendUint16(out, uint16(int16(delta)))
		out = binary.BigEndian.AppendUint16(out, uint16(len(p.Payload)))
		out = append(out, p.Payload...)
	}
	return out
}

// FuzzPackager feeds arbitrary packets, timestamps and republishes to a
// packager. It must not panic, and what it writes must be consistent: an
// MPD that parses, listing segments that exist and parse with tfdt, number
// and duration as the timeline says.
func FuzzPackager(f *testing.F) {
	// Short seeds: the fuzzer minimizes every new input, which takes long
	// on kilobytes.
	short := func(s stream) []*av.Packet {
		s.duration = 500
		return s.packets(f)
	}
	f.Add(encodeFuzz(short(stream{video: avc64x48, audio: aacLC44k, gop: 4})))
	f.Add(encodeFuzz(short(stream{video: hevc64x48, hevc: true, audio: aacLC44k, gop: 4, bframes: true})))
	f.Add(encodeFuzz(short(stream{audio: aacLC48k})))
	f.Add(encodeFuzz(stream{video: avc64x48, mp3: true, gop: 2, duration: 100}.packets(f)))
	twice := encodeFuzz(short(stream{video: avc64x48, audio: aacLC44k, gop: 4}))
	second := encodeFuzz(short(stream{video: avc160x120, audio: aacLC44k, gop: 4}))
	second[0] |= fuzzNewPublish | fuzzSeconds
	f.Add(append(bytes.Clone(twice), second...))
	f.Add([]byte{fuzzVideo, 0, 0, 0, 5, 0x17, 0, 0, 0, 0})

	f.Fuzz(runFuzzPackager)
}

func runFuzzPackager(t *testing.T, in []byte) {
	cfg := Config{Fragment: 100 * time.Millisecond, UpdatePeriod: time.Second, Timeshift: time.Minute,
		WindowSize: 3, Cleanup: true, Dispose: time.Minute}
	h := newHarness(t, cfg)
	h.pk.Publish()
	var ts int64
	for len(in) >= 5 {
		flags := in[0]
		delta := int64(int16(binary.BigEndian.Uint16(in[1:])))
		n := int(binary.BigEndian.Uint16(in[3:]))
		in = in[5:]
		if n > len(in) {
			n = len(in)
		}
		body := in[:n]
		in = in[n:]
		if flags&fuzzSeconds != 0 {
			delta *= 1000
		}
		ts = max(0, min(ts+delta, av.TimestampMask))
		if flags&fuzzNewPublish != 0 {
			if err := h.pk.Flush(); err != nil {
				t.Fatal(err)
			}
			h.pk.Publish()
		}
		kind := av.KindAudio
		if flags&fuzzVideo != 0 {
			kind = av.KindVideo
		}
		p, err := av.NewPacket(kind, uint32(ts), body)
		if err != nil {
			continue
		}
		h.clock.set(t0.Add(time.Duration(ts) * time.Millisecond))
		if err := h.pk.Write(p, p.Timestamp); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.pk.Flush(); err != nil {
		t.Fatal(err)
	}
	if b, ok := h.store.get(testLayout.MPD); ok {
		checkListedSegments(t, h.store, parseMPD(t, b))
	}
	if err := h.pk.Dispose(); err != nil {
		t.Fatal(err)
	}
	if names := h.store.names(); len(names) != 0 {
		t.Fatalf("left after Dispose: %v", names)
	}
}

// FuzzRefreshUTCTiming: any served body is either left alone or changed
// only in the UTCTiming value, keeping its length.
func FuzzRefreshUTCTiming(f *testing.F) {
	f.Add([]byte(writtenMPD(t0)))
	f.Add([]byte(`<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2025-03-01T12:00:00.000Z"`))
	f.Add([]byte(`<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="`))
	f.Fuzz(func(t *testing.T, in []byte) {
		now := time.Date(2031, 7, 8, 9, 10, 11, 12e6, time.UTC)
		out, ok := refreshUTCTiming(in, now)
		if !ok {
			return
		}
		if len(out) != len(in) {
			t.Fatalf("length %d, was %d", len(out), len(in))
		}
		stamp := []byte(now.Format(dateTimeLayout))
		i := bytes.Index(out, stamp)
		if i < 0 {
			t.Fatalf("no new time in %q", out)
		}
		if !bytes.Equal(out[:i], in[:i]) || !bytes.Equal(out[i+len(stamp):], in[i+len(stamp):]) {
			t.Fatalf("changed outside the value:\n%q\n%q", in, out)
		}
	})
}
