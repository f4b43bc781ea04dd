package rtc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
)

// testH265Params returns the VPS, SPS and PPS of the test video's first
// access unit, and its slices.
func testH265Params(t *testing.T) (vps, sps, pps []byte, slices [][]byte) {
	t.Helper()
	nalus, err := av.SplitAnnexB(testVideo(t, av.CodecH265)[0].data)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nalus {
		switch typ := av.H265NALUType(n); {
		case typ == av.H265NALVPS:
			vps = n
		case typ == av.H265NALSPS:
			sps = n
		case typ == av.H265NALPPS:
			pps = n
		case typ < 32:
			slices = append(slices, n)
		}
	}
	if vps == nil || sps == nil || pps == nil || len(slices) == 0 {
		t.Fatal("the test video's first access unit lacks parameter sets or slices")
	}
	return vps, sps, pps, slices
}

// TestHEVCConfig checks the record against what ffprobe says of the test
// video: Main profile, level 2 (60), 4:2:0, 8 bits, 320x240.
func TestHEVCConfig(t *testing.T) {
	vps, sps, pps, _ := testH265Params(t)
	rec, err := hevcConfig(vps, sps, pps)
	if err != nil {
		t.Fatal(err)
	}
	c, err := av.ParseHEVCConfig(rec)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 1 || c.ProfileIDC != 1 || c.LevelIDC != 60 || c.Tier != 0 || c.ChromaFormat != 1 ||
		c.BitDepthLuma != 8 || c.BitDepthChroma != 8 || c.NALULengthSize != 4 || c.NumTemporalLayers != 1 {
		t.Fatalf("config %+v", c)
	}
	if c.CompatibilityFlags&(1<<(31-1)) == 0 {
		t.Fatalf("compatibility flags %08x: want Main's flag", c.CompatibilityFlags)
	}
	if len(c.VPS) != 1 || !bytes.Equal(c.VPS[0], vps) || !bytes.Equal(c.SPS[0], sps) || !bytes.Equal(c.PPS[0], pps) {
		t.Fatal("the record's parameter sets differ")
	}
	info, err := av.VideoInfoFromSequenceHeader(&av.Packet{Kind: av.KindVideo, Payload: exSequenceStart(fourCCHEVC, rec)})
	if err != nil || info.Width != 320 || info.Height != 240 || info.Profile != "Main" {
		t.Fatalf("stream info %+v, %v", info, err)
	}
	for _, bad := range [][3][]byte{{vps, sps[:2], pps}, {vps, pps, pps}, {nil, sps, pps}, {vps, sps[:8], pps}} {
		if _, err := hevcConfig(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("hevcConfig accepted VPS %x SPS %x", bad[0], bad[1])
		}
	}
}

// Payloads from RFC 7798 4.4.
func TestH265Depacketizer(t *testing.T) {
	idr := []byte{0x28, 0x01, 0xaf, 0xb0}  // IDR_N_LP, layer 0, TID 1
	vps := []byte{0x40, 0x01, 0x0c, 0x01}  // VPS
	trail := []byte{0x02, 0x01, 0xd0, 0x0} // TRAIL_R
	cases := []struct {
		name   string
		pkts   [][]byte
		want   [][]byte
		errHas string
	}{
		{"single NAL unit", [][]byte{idr}, [][]byte{idr}, ""},
		{"aggregation packet", [][]byte{append(append([]byte{0x60, 0x01, 0, 4}, vps...), append([]byte{0, 4}, idr...)...)}, [][]byte{vps, idr}, ""},
		{"fragmentation unit", [][]byte{{0x62, 0x01, 0x80 | 20, 0xaf}, {0x62, 0x01, 20, 0xb0}, {0x62, 0x01, 0x40 | 20, 0xb1}},
			[][]byte{{0x28, 0x01, 0xaf, 0xb0, 0xb1}}, ""},
		{"an FU whose end is lost", [][]byte{{0x62, 0x01, 0x80 | 20, 0xaf}, trail}, nil, "unfinished FU"},
		{"FU continuation without its start", [][]byte{{0x62, 0x01, 20, 0xb0}}, nil, "start was lost"},
		{"aggregation packet cut", [][]byte{{0x60, 0x01, 0, 9, 0x28}}, nil, "left"},
		{"PACI", [][]byte{{0x64, 0x01, 0, 0}}, nil, "PACI"},
		{"forbidden bit", [][]byte{{0x82, 0x01, 0}}, nil, "forbidden"},
		{"too short", [][]byte{{0x02}}, nil, "too short"},
		{"unspecified type", [][]byte{{0x7e, 0x01, 0}}, nil, "unspecified"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &depacketizer{format: &h265Format{}}
			var frames []*videoFrame
			var err error
			for i, p := range c.pkts {
				if frames, err = d.push(rtpPacket{seq: uint16(i), marker: i == len(c.pkts)-1, payload: p}, frames); err != nil {
					break
				}
			}
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err = %v, want one mentioning %q", err, c.errHas)
				}
				return
			}
			if err != nil || len(frames) != 1 || !equalNALUs(frames[0].units, c.want) {
				t.Fatalf("frames %v, %v", frames, err)
			}
			if !frames[0].keyframe {
				t.Fatal("an IDR frame must be a key frame")
			}
		})
	}
}

func TestPacketizeH265(t *testing.T) {
	vps, sps, pps, slices := testH265Params(t)
	ps := packetizeH265(nil, append([][]byte{vps, sps, pps}, slices...), rtpMaxPayload, false)
	if h265Type(ps[0]) != h265AP || (ps[0][0]&1)<<5|ps[0][1]>>3 != 0 || ps[0][1]&7 != 1 {
		t.Fatalf("want the parameter sets in one aggregation packet (layer 0, TID 1), got header %x", ps[0][:2])
	}
	for _, p := range ps[1:] {
		if t2 := h265Type(p); t2 != h265FU && t2 >= 32 {
			t.Fatalf("payload of type %d after the parameter sets", t2)
		}
	}
	merged := packetizeH265(nil, [][]byte{slices[0][:40], slices[0][:50]}, rtpMaxPayload, true)
	if len(merged) != 1 || h265Type(merged[0]) != h265AP {
		t.Fatalf("merge_nalus: want one aggregation packet, got %d", len(merged))
	}
	if apart := packetizeH265(nil, [][]byte{slices[0][:40], slices[0][:50]}, rtpMaxPayload, false); len(apart) != 2 {
		t.Fatalf("without merge_nalus: want 2 payloads, got %d", len(apart))
	}
}

func TestH265IngestAndPacketizer(t *testing.T) {
	frames := testVideo(t, av.CodecH265)
	d := newDepacketizer(&h265Format{}, nil)
	var ing h265Ingest
	var pack h265Packetizer
	pack.lengthSize = 4
	for i, f := range frames[:2] {
		nalus, _ := av.SplitAnnexB(f.data)
		got := depacketizeAll(t, d, rtpPacketsOf(packetizeH265(nil, nalus, rtpMaxPayload, false), uint16(i*100), uint32(i)))
		header, body, ready, err := ing.tags(got[0])
		if err != nil || !ready || (header != nil) != (i == 0) {
			t.Fatalf("frame %d: header %v ready %v %v", i, header != nil, ready, err)
		}
		if header != nil {
			pack.sequenceHeader(header[5:])
		}
		tag, err := av.ParseFLVVideoTag(body)
		if err != nil || tag.Codec != av.CodecH265 || tag.PacketType != av.VideoPacketCodedFramesX || tag.IsKeyframe() != f.key {
			t.Fatalf("frame %d tag %+v, %v", i, tag, err)
		}
		units, _ := av.SplitAVCC(body[tag.PayloadOffset:], 4)
		for _, u := range units {
			if av.IsParameterSetNALU(av.CodecH265, u) || av.H265NALUType(u) == av.H265NALAUD {
				t.Fatalf("frame %d keeps NAL unit type %d in the frame", i, av.H265NALUType(u))
			}
		}
		// The relay puts the parameter sets back before the key frame.
		payloads, key, send := pack.frame(nil, body[tag.PayloadOffset:], false)
		out := depacketizeAll(t, &depacketizer{format: &h265Format{}}, rtpPacketsOf(payloads, 0, 0))
		hasParams := len(out) == 1 && av.IsParameterSetNALU(av.CodecH265, out[0].units[0])
		if !send || key != f.key || hasParams != f.key {
			t.Fatalf("frame %d: send %v key %v parameter sets %v", i, send, key, hasParams)
		}
	}
}
