package av

import (
	"bytes"
	"strings"
	"testing"
)

// x264UUID is the UUID x264 stamps on its version banner SEI.
var x264UUID = [16]byte{0xdc, 0x45, 0xe9, 0xbd, 0xe6, 0xd9, 0x48, 0xb7, 0x96, 0x2c, 0xd8, 0x20, 0xd9, 0x23, 0xee, 0xef}

func tinyH264NALUs(t *testing.T) [][]byte {
	t.Helper()
	body := mustHex(t, tinyH264Keyframe)
	nalus, err := SplitAVCC(body[5:], 4)
	if err != nil {
		t.Fatal(err)
	}
	return nalus
}

func TestParseSEIFromX264(t *testing.T) {
	nalus := tinyH264NALUs(t)
	msgs, err := ParseSEI(CodecH264, nalus[0])
	if err != nil {
		t.Fatal(err)
	}
	// 06 | 05 | ff ff 6d: payload type 5, size 255+255+109.
	if len(msgs) != 1 || msgs[0].Type != SEIUserDataUnregistered || len(msgs[0].Payload) != 619 {
		t.Fatalf("messages %d, type %d, size %d", len(msgs), msgs[0].Type, len(msgs[0].Payload))
	}
	uuid, data, ok := msgs[0].UserDataUnregistered()
	if !ok || uuid != x264UUID || !strings.HasPrefix(string(data), "x264 - core 164") {
		t.Errorf("uuid %x data %.20q ok %v", uuid, data, ok)
	}
	found, ok := FindSEIUserData(CodecH264, nalus, x264UUID)
	if !ok || !bytes.Equal(found, data) {
		t.Error("FindSEIUserData missed x264's banner")
	}
	if _, ok := FindSEIUserData(CodecH264, nalus, [16]byte{1}); ok {
		t.Error("FindSEIUserData matched a UUID that is not there")
	}
}

func TestBuildSEIUserDataBytes(t *testing.T) {
	uuid := [16]byte{0, 0, 0, 1, 0, 0, 2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x22, 0x33}
	got, err := BuildSEIUserData(CodecH264, uuid, []byte{0, 0, 3, 9})
	if err != nil {
		t.Fatal(err)
	}
	// NAL header, type 5, size 20, then the UUID and data with an emulation
	// prevention byte before every 00 00 0x (x ≤ 3), then rbsp trailing bits.
	want := mustHex(t, "06 05 14 0000 03 0001 0000 03 02 aabbccddeeff112233 0000 03 03 09 80")
	if !bytes.Equal(got, want) {
		t.Errorf("BuildSEIUserData = %x\n                   want %x", got, want)
	}
	got265, err := BuildSEIUserData(CodecH265, uuid, []byte{0, 0, 3, 9})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got265[:2], []byte{0x4e, 0x01}) || !bytes.Equal(got265[2:], want[1:]) {
		t.Errorf("H.265 SEI = %x", got265)
	}
	if _, err := BuildSEIUserData(CodecAV1, uuid, nil); err == nil {
		t.Error("AV1 SEI accepted")
	}
}

func TestSEIUserDataRoundTrip(t *testing.T) {
	uuid := [16]byte{'c', 'a', 's', 't', 'd', '-', 'l', 'a', 't', 'e', 'n', 'c', 'y', 0, 0, 0}
	for _, codec := range []Codec{CodecH264, CodecH265} {
		for _, n := range []int{0, 1, 238, 239, 254, 255, 510, 600, 70000} {
			data := bytes.Repeat([]byte{0, 0, 1, byte(n)}, n/4+1)[:n]
			sei, err := BuildSEIUserData(codec, uuid, data)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(sei, []byte{0, 0, 1}) || bytes.Contains(sei, []byte{0, 0, 0}) {
				t.Fatalf("%s/%d: SEI holds a start code pattern", codec, n)
			}
			msgs, err := ParseSEI(codec, sei)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("%s/%d: %d messages, %v", codec, n, len(msgs), err)
			}
			id, got, ok := msgs[0].UserDataUnregistered()
			if !ok || id != uuid || !bytes.Equal(got, data) {
				t.Errorf("%s/%d: round trip lost the data", codec, n)
			}
		}
	}
}

func TestFindSEIUserDataInsertedIntoFrames(t *testing.T) {
	uuid := [16]byte{0xca, 0x57, 0xd0}
	stamp := []byte("1700000000123")

	sei264, err := BuildSEIUserData(CodecH264, uuid, stamp)
	if err != nil {
		t.Fatal(err)
	}
	body := mustHex(t, tinyH264Keyframe)
	frame := AppendAVCC(nil, sei264)
	frame = append(frame, body[5:]...)
	nalus, err := SplitAVCC(frame, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := FindSEIUserData(CodecH264, nalus, uuid); !ok || !bytes.Equal(got, stamp) {
		t.Errorf("H.264: %q, %v", got, ok)
	}
	if _, ok := FindSEIUserData(CodecH264, nalus, x264UUID); !ok {
		t.Error("H.264: the encoder's own SEI was lost")
	}
	if !IsKeyframeNALUs(CodecH264, nalus) {
		t.Error("an SEI in front must not hide the IDR")
	}

	sei265, err := BuildSEIUserData(CodecH265, uuid, stamp)
	if err != nil {
		t.Fatal(err)
	}
	nalus265, err := SplitAnnexB(mustHex(t, tinyH265AnnexB))
	if err != nil {
		t.Fatal(err)
	}
	withSEI := append([][]byte{sei265}, nalus265...)
	if got, ok := FindSEIUserData(CodecH265, withSEI, uuid); !ok || !bytes.Equal(got, stamp) {
		t.Errorf("H.265: %q, %v", got, ok)
	}
	if _, ok := FindSEIUserData(CodecH265, nalus265, uuid); ok {
		t.Error("H.265: found an SEI in a stream without one")
	}
}

func TestParseSEIMultipleMessagesAndErrors(t *testing.T) {
	// A recovery point (type 6, 1 byte) then user data (type 5, 17 bytes), as
	// encoders write before open-GOP keyframes; a suffix SEI for H.265.
	two := mustHex(t, "06 06 01 84 05 11 00112233445566778899aabbccddeeff 42 80")
	msgs, err := ParseSEI(CodecH264, two)
	if err != nil || len(msgs) != 2 || msgs[0].Type != 6 || msgs[1].Type != 5 {
		t.Fatalf("%+v, %v", msgs, err)
	}
	if _, _, ok := msgs[0].UserDataUnregistered(); ok {
		t.Error("a recovery point is not user data")
	}
	if _, data, ok := msgs[1].UserDataUnregistered(); !ok || !bytes.Equal(data, []byte{0x42}) {
		t.Errorf("user data %x %v", data, ok)
	}
	suffix := cat([]byte{H265NALSuffixSEI << 1, 0x01}, two[1:])
	if msgs, err := ParseSEI(CodecH265, suffix); err != nil || len(msgs) != 2 {
		t.Errorf("H.265 suffix SEI: %d, %v", len(msgs), err)
	}
	// Large payload type: 255 + 255 + 4 = 514, no trailing bits byte.
	if msgs, err := ParseSEI(CodecH264, mustHex(t, "06 ffff04 01 aa")); err != nil || msgs[0].Type != 514 {
		t.Errorf("extended type: %+v, %v", msgs, err)
	}

	bad := []struct {
		name  string
		codec Codec
		nalu  []byte
	}{
		{"not SEI", CodecH264, mustHex(t, "6588")},
		{"H.265 VPS", CodecH265, mustHex(t, "4001")},
		{"H.265 one byte", CodecH265, mustHex(t, "4e")},
		{"AAC", CodecAAC, mustHex(t, "06")},
		{"type cut", CodecH264, mustHex(t, "06 ffff")},
		{"size cut", CodecH264, mustHex(t, "06 05")},
		{"payload overruns", CodecH264, mustHex(t, "06 05 20 0011")},
	}
	for _, tt := range bad {
		if msgs, err := ParseSEI(tt.codec, tt.nalu); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, msgs)
		}
	}
	// A broken SEI after a good message keeps the good one for FindSEIUserData.
	broken := cat(two[:len(two)-1], mustHex(t, "05 7f 00"))
	if data, ok := FindSEIUserData(CodecH264, [][]byte{broken}, [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}); !ok || !bytes.Equal(data, []byte{0x42}) {
		t.Errorf("partial SEI: %x %v", data, ok)
	}
}
