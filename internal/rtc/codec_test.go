package rtc

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/castd/castd/internal/av"
)

// codecCase is one video codec with pion's packetizer and depacketizer, a
// sender and a receiver castd did not write, and the form in which a
// frame must come out the other end unchanged.
type codecCase struct {
	codec        av.Codec
	payloader    func() rtp.Payloader
	depacketizer func() rtp.Depacketizer
	// same is the part of a frame that must survive the trip: the whole
	// frame for VP8 and VP9, the OBUs for AV1 (castd drops temporal
	// delimiters and writes minimal sizes), the slices for H.265
	// (parameter sets travel in the sequence header and come back before
	// key frames).
	same func(t testing.TB, frame []byte) [][]byte
}

func codecCases() []codecCase {
	whole := func(_ testing.TB, f []byte) [][]byte { return [][]byte{f} }
	return []codecCase{
		{av.CodecVP8, func() rtp.Payloader { return &codecs.VP8Payloader{EnablePictureID: true} },
			func() rtp.Depacketizer { return &codecs.VP8Packet{} }, whole},
		{av.CodecVP9, func() rtp.Payloader { return &codecs.VP9Payloader{} },
			func() rtp.Depacketizer { return &codecs.VP9Packet{} }, whole},
		{av.CodecAV1, func() rtp.Payloader { return &codecs.AV1Payloader{} },
			func() rtp.Depacketizer { return &codecs.AV1Depacketizer{} },
			func(t testing.TB, f []byte) [][]byte { return [][]byte{canonicalAV1(t, f)} }},
		{av.CodecH265, func() rtp.Payloader { return &codecs.H265Payloader{} },
			func() rtp.Depacketizer { return frameEndsAtMarker{&codecs.H265Depacketizer{}} }, slicesOf},
	}
}

// frameEndsAtMarker makes pion's sample builder end H.265 frames at the
// marker bit: pion's H.265 depacketizer also ends one at the end of each
// fragmented NAL unit.
type frameEndsAtMarker struct{ rtp.Depacketizer }

func (frameEndsAtMarker) IsPartitionTail(marker bool, _ []byte) bool { return marker }

// TestCodecsThroughTheHub sends each codec's test video the way castd
// carries it: RTP from pion's packetizer, castd's depacketizer, its ingest
// into FLV tags (which av must parse as the codec, key frames where the
// encoder put them), castd's relay packetizer, and RTP again into pion's
// depacketizer; every frame must come out as it went in.
func TestCodecsThroughTheHub(t *testing.T) {
	for _, c := range codecCases() {
		t.Run(c.codec.String(), func(t *testing.T) {
			frames := testVideo(t, c.codec)
			vc, _ := videoCodecOf(c.codec)
			pay := c.payloader()
			depack := newDepacketizer(vc.newFormat(), func() { t.Error("castd asked for a key frame on a clean stream") })
			ingest := vc.newIngest()
			pack := vc.newPacketizer(packetizerOptions{keepSEI: true})
			back := newDepacketizer(vc.newFormat(), nil)
			seq, outSeq := uint16(65500), uint16(100) // both wrap
			var headers int
			for i, f := range frames {
				sample := f.data
				if c.codec == av.CodecH265 {
					sample = stripAUD(t, sample) // pion's H.265 packetizer takes Annex B; AUDs stay home
				}
				pkts := rtpPacketsOf(pay.Payload(rtpMaxPayload, sample), seq, uint32(i*3600))
				seq += uint16(len(pkts))
				got := depacketizeAll(t, depack, pkts)
				if len(got) != 1 || got[0].keyframe != f.key {
					t.Fatalf("frame %d: %d frames out of the depacketizer (key frame %v, want %v)", i, len(got), len(got) > 0 && got[0].keyframe, f.key)
				}
				header, body, ready, err := ingest.tags(got[0])
				if err != nil || !ready || body == nil || (header != nil) != (i == 0) {
					t.Fatalf("frame %d: ingest header %d bytes, frame %d bytes, ready %v, %v", i, len(header), len(body), ready, err)
				}
				if header != nil {
					headers++
					checkSequenceHeader(t, c.codec, header)
					pack.sequenceHeader(header[5:])
				}
				pkt, err := av.NewPacket(av.KindVideo, uint32(i*40), body)
				if err != nil || pkt.Codec != c.codec || pkt.Keyframe != f.key || pkt.SequenceHeader {
					t.Fatalf("frame %d: av reads the tag as %+v, %v", i, pkt, err)
				}
				tag, _ := pkt.VideoTag()
				payloads, key, send := pack.frame(nil, body[tag.PayloadOffset:], tag.IsKeyframe())
				if !send || key != f.key || len(payloads) == 0 {
					t.Fatalf("frame %d: relay packetizer send %v key %v, %d payloads", i, send, key, len(payloads))
				}
				for _, p := range payloads {
					if len(p) > rtpMaxPayload {
						t.Fatalf("frame %d: a %d-byte payload is over %d", i, len(p), rtpMaxPayload)
					}
				}
				out := rtpPacketsOf(payloads, outSeq, uint32(i*3600))
				outSeq += uint16(len(out))
				want := c.same(t, f.data)
				if got := c.same(t, pionFrame(t, c.depacketizer(), out)); !equalNALUs(got, want) {
					t.Fatalf("frame %d differs after pion's depacketizer: %d units, want %d", i, len(got), len(want))
				}
				again := depacketizeAll(t, back, out)
				if len(again) != 1 || again[0].keyframe != f.key {
					t.Fatalf("frame %d: castd's own depacketizer gave %d frames", i, len(again))
				}
				if got := c.same(t, castdFrame(c.codec, again[0])); !equalNALUs(got, want) {
					t.Fatalf("frame %d differs after castd's own depacketizer", i)
				}
			}
			if headers != 1 {
				t.Fatalf("%d sequence headers for one set of parameters", headers)
			}
		})
	}
}

// checkSequenceHeader parses a sequence header tag as the hub does.
func checkSequenceHeader(t *testing.T, codec av.Codec, header []byte) {
	t.Helper()
	pkt, err := av.NewPacket(av.KindVideo, 0, header)
	if err != nil || !pkt.SequenceHeader || !pkt.Keyframe || pkt.Codec != codec {
		t.Fatalf("sequence header %x: %+v, %v", header[:min(len(header), 16)], pkt, err)
	}
	info, err := av.VideoInfoFromSequenceHeader(pkt)
	if err != nil || info.Codec != codec {
		t.Fatalf("sequence header info %+v, %v", info, err)
	}
	if (codec == av.CodecH265 || codec == av.CodecAV1) && (info.Width != 320 || info.Height != 240) {
		t.Fatalf("%s sequence header says %dx%d, want 320x240", codec, info.Width, info.Height)
	}
}

// pionFrame depacketizes one frame's packets with pion.
func pionFrame(t testing.TB, d rtp.Depacketizer, pkts []rtpPacket) []byte {
	t.Helper()
	var frame []byte
	for _, p := range pkts {
		b, err := d.Unmarshal(p.payload)
		if err != nil {
			t.Fatalf("pion depacketizer: %v", err)
		}
		frame = append(frame, b...)
	}
	return frame
}

// castdFrame is a depacketized frame in the form the test video has.
func castdFrame(codec av.Codec, f *videoFrame) []byte {
	if codec != av.CodecH265 {
		return joinUnits(f.units)
	}
	var b []byte
	for _, u := range f.units {
		b = append(append(b, 0, 0, 0, 1), u...)
	}
	return b
}

// stripAUD removes the access unit delimiters of an Annex-B access unit.
func stripAUD(t testing.TB, au []byte) []byte {
	t.Helper()
	nalus, err := av.SplitAnnexB(au)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, n := range nalus {
		if av.H265NALUType(n) != av.H265NALAUD {
			b = append(append(b, 0, 0, 0, 1), n...)
		}
	}
	return b
}

// TestDepacketizersRecoverAtKeyFrame loses one packet of frame 3 for
// every codec: frames 3 to 24 must be dropped (they refer to what was
// lost), a key frame asked for once, and frame 25 start the stream again.
func TestDepacketizersRecoverAtKeyFrame(t *testing.T) {
	for _, c := range codecCases() {
		t.Run(c.codec.String(), func(t *testing.T) {
			frames := testVideo(t, c.codec)
			vc, _ := videoCodecOf(c.codec)
			asked := 0
			d := newDepacketizer(vc.newFormat(), func() { asked++ })
			pay := c.payloader()
			var got []int
			seq := uint16(0)
			for i, f := range frames {
				sample := f.data
				if c.codec == av.CodecH265 {
					sample = stripAUD(t, sample)
				}
				pkts := rtpPacketsOf(pay.Payload(rtpMaxPayload, sample), seq, uint32(i*3600))
				seq += uint16(len(pkts))
				for j, p := range pkts {
					if i == 3 && j == 0 {
						d.lost()
						continue
					}
					out, _ := d.push(p, nil) // a continuation without its start is an error, and a loss
					for _, fr := range out {
						got = append(got, int(fr.timestamp/3600))
					}
				}
			}
			want := []int{0, 1, 2}
			for i := 25; i < 50; i++ {
				want = append(want, i)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || asked != 1 {
				t.Fatalf("frames %v, %d key frame requests; want %v and 1", got, asked, want)
			}
		})
	}
}

// TestPacketizersSplitAtSmallMTU packetizes key frames into small
// payloads, so every codec must fragment (FU, OBU fragments, VP8/VP9
// continuation packets), and checks castd's depacketizer rebuilds them.
func TestPacketizersSplitAtSmallMTU(t *testing.T) {
	for _, c := range codecCases() {
		t.Run(c.codec.String(), func(t *testing.T) {
			f := testVideo(t, c.codec)[0]
			var payloads [][]byte
			switch c.codec {
			case av.CodecAV1:
				obus, err := splitOBUs(f.data)
				if err != nil {
					t.Fatal(err)
				}
				var units [][]byte
				for _, o := range obus {
					if o.typ != obuTemporalDelim {
						units = append(units, o.appendBare(nil))
					}
				}
				payloads = packetizeAV1(nil, units, 64, true)
			case av.CodecH265:
				nalus, _ := av.SplitAnnexB(stripAUD(t, f.data))
				payloads = packetizeH265(nil, nalus, 64, false)
			default:
				payloads = c.payloader().Payload(64, f.data)
			}
			for _, p := range payloads {
				if len(p) > 64 {
					t.Fatalf("a %d-byte payload over 64", len(p))
				}
			}
			vc, _ := videoCodecOf(c.codec)
			got := depacketizeAll(t, newDepacketizer(vc.newFormat(), nil), rtpPacketsOf(payloads, 7, 9))
			if len(got) != 1 || !got[0].keyframe {
				t.Fatalf("%d payloads gave %d frames", len(payloads), len(got))
			}
			if !equalNALUs(c.same(t, castdFrame(c.codec, got[0])), c.same(t, f.data)) {
				t.Fatal("the frame differs")
			}
			if c.codec == av.CodecAV1 {
				if payloads[0][0]&0x08 == 0 {
					t.Fatal("a key frame's first AV1 packet must have N set")
				}
				for i := 1; i < len(payloads); i++ {
					if y, z := payloads[i-1][0]&0x40 != 0, payloads[i][0]&0x80 != 0; y != z {
						t.Fatalf("AV1 packet %d has Y %v, packet %d Z %v", i-1, y, i, z)
					}
				}
			}
		})
	}
}

func TestVideoCodecMimeLookup(t *testing.T) {
	for _, vc := range videoCodecs {
		got, ok := videoCodecOfMime(string(bytes.ToLower([]byte(vc.mime))))
		if !ok || got.codec != vc.codec {
			t.Errorf("MIME %s: got %v", vc.mime, got)
		}
	}
	if _, ok := videoCodecOfMime("video/H263"); ok {
		t.Error("H.263 is no codec castd speaks")
	}
}
