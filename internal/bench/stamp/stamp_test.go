package stamp

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/benchtest"
	"github.com/castd/castd/internal/format/flv"
)

var uuid16 = [16]byte([]byte(UUID))

// nal builds a NAL unit with a header and some payload bytes.
func nal(header ...byte) []byte { return append(header, 0x88, 0x84, 0x00, 0x21, 0xFF) }

// avcc puts NAL units behind lengthSize-byte lengths.
func avcc(lengthSize int, nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		for i := lengthSize - 1; i >= 0; i-- {
			b = append(b, byte(len(n)>>(8*i)))
		}
		b = append(b, n...)
	}
	return b
}

var (
	h264AUD   = []byte{0x09, 0xF0}
	h264IDR   = nal(0x65)
	h264Slice = nal(0x41)
	h265AUD   = []byte{av.H265NALAUD << 1, 0x01, 0x50}
	h265IDR   = nal(av.H265NALIDRWRADL<<1, 0x01)
	h265Trail = nal(av.H265NALTrailR<<1, 0x01)
)

type frameCase struct {
	name       string
	header     []byte // tag header up to the NAL units
	codec      av.Codec
	lengthSize int
	nalus      [][]byte
	wantFirst  []byte // the NAL unit that must stay first, if any
}

func frameCases() []frameCase {
	hvc1 := []byte{0x80 | 0x10 | byte(av.VideoPacketCodedFrames), 'h', 'v', 'c', '1', 0, 0, 0}
	hvc1X := []byte{0x80 | 0x20 | byte(av.VideoPacketCodedFramesX), 'h', 'v', 'c', '1'}
	avc1 := []byte{0x80 | 0x10 | byte(av.VideoPacketCodedFrames), 'a', 'v', 'c', '1', 0, 0, 0x28}
	return []frameCase{
		{"h264 key", []byte{0x17, 1, 0, 0, 0}, av.CodecH264, 4, [][]byte{h264IDR}, nil},
		{"h264 inter with AUD", []byte{0x27, 1, 0, 0, 0x50}, av.CodecH264, 4, [][]byte{h264AUD, h264Slice}, h264AUD},
		{"h264 length 2", []byte{0x27, 1, 0, 0, 0}, av.CodecH264, 2, [][]byte{h264Slice, h264Slice}, nil},
		{"h264 length 1", []byte{0x17, 1, 0, 0, 0}, av.CodecH264, 1, [][]byte{h264AUD, h264IDR}, h264AUD},
		{"hevc legacy id 12", []byte{0x1C, 1, 0, 0, 0}, av.CodecH265, 4, [][]byte{h265AUD, h265IDR}, h265AUD},
		{"hvc1 coded frames", hvc1, av.CodecH265, 4, [][]byte{h265IDR}, nil},
		{"hvc1 coded frames X", hvc1X, av.CodecH265, 4, [][]byte{h265Trail}, nil},
		{"avc1 coded frames", avc1, av.CodecH264, 4, [][]byte{h264AUD, h264IDR}, h264AUD},
	}
}

func TestStampRoundTrip(t *testing.T) {
	stamps := []Stamp{
		{SentAt: 1_700_000_000_123_456_789, Seq: 42},
		{SentAt: 0, Seq: 0},                          // zeros everywhere: needs emulation prevention
		{SentAt: 0x0000_0300_0000_0100, Seq: 3},      // 00 00 03 in the data
		{SentAt: -1, Seq: 0xFFFF_FFFF_FFFF_FFFF},     // 0xFF runs
		{SentAt: 0x0000_0000_0000_0001, Seq: 1 << 8}, // ends in 00 before the trailing bits
	}
	for _, fc := range frameCases() {
		for i, st := range stamps {
			t.Run(fc.name+"/"+strconv.Itoa(i), func(t *testing.T) {
				body := append(append([]byte{}, fc.header...), avcc(fc.lengthSize, fc.nalus...)...)
				tag, err := av.ParseFLVVideoTag(body)
				if err != nil {
					t.Fatal(err)
				}
				if tag.Codec != fc.codec || !Stampable(tag) {
					t.Fatalf("tag %+v: codec %s, stampable %v", tag, tag.Codec, Stampable(tag))
				}
				orig := bytes.Clone(body)
				out, err := AppendStamped(nil, body, tag, fc.lengthSize, st)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(body, orig) {
					t.Fatal("AppendStamped modified its input")
				}
				// The stamped tag still parses the same way.
				tag2, err := av.ParseFLVVideoTag(out)
				if err != nil || tag2 != tag {
					t.Fatalf("stamped tag %+v %v, want %+v", tag2, err, tag)
				}
				nalus, err := av.SplitAVCC(out[tag.PayloadOffset:], fc.lengthSize)
				if err != nil {
					t.Fatal(err)
				}
				if len(nalus) != len(fc.nalus)+1 {
					t.Fatalf("%d NAL units after stamping %d", len(nalus), len(fc.nalus))
				}
				if fc.wantFirst != nil && !bytes.Equal(nalus[0], fc.wantFirst) {
					t.Errorf("first NAL unit %x, want the AUD %x", nalus[0], fc.wantFirst)
				}
				// castd's own SEI parser finds the stamp...
				data, ok := av.FindSEIUserData(fc.codec, nalus, uuid16)
				if !ok {
					t.Fatal("av.FindSEIUserData finds no stamp")
				}
				if got, ok := ParseData(data); !ok || got != st {
					t.Errorf("av.FindSEIUserData: stamp %+v, want %+v", got, st)
				}
				// ...which is exactly av.BuildSEIUserData's NAL unit.
				want, err := av.BuildSEIUserData(fc.codec, uuid16, st.AppendData(nil))
				if err != nil {
					t.Fatal(err)
				}
				seiAt := 0
				if fc.wantFirst != nil {
					seiAt = 1
				}
				if !bytes.Equal(nalus[seiAt], want) {
					t.Errorf("SEI NAL unit\n%x, want\n%x", nalus[seiAt], want)
				}
				// The frame's own NAL units follow unchanged.
				for j, n := range fc.nalus {
					k := j + 1
					if seiAt == 1 && j == 0 {
						k = 0
					}
					if !bytes.Equal(nalus[k], n) {
						t.Errorf("NAL unit %d changed: %x, want %x", j, nalus[k], n)
					}
				}
				var r Reader
				got, ok := r.Find(fc.codec, out[tag.PayloadOffset:], fc.lengthSize)
				if !ok || got != st {
					t.Errorf("Reader.Find = %+v %v, want %+v", got, ok, st)
				}
				if got, ok := r.Find(fc.codec, body[tag.PayloadOffset:], fc.lengthSize); ok {
					t.Errorf("Reader.Find found %+v in an unstamped frame", got)
				}
			})
		}
	}
}

func TestAppendStampedRefuses(t *testing.T) {
	tests := []struct {
		name       string
		body       []byte
		lengthSize int
	}{
		{"AVC sequence header", []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff}, 4},
		{"AVC end of sequence", []byte{0x17, 2, 0, 0, 0}, 4},
		{"AV1 legacy", []byte{0x1D, 1, 0, 0, 0, 0x12, 0}, 4},
		{"av01 coded frames", []byte{0x80 | 0x10 | 1, 'a', 'v', '0', '1', 0x12, 0}, 4},
		{"hvc1 sequence start", []byte{0x80 | 0x10 | 0, 'h', 'v', 'c', '1', 1}, 4},
		{"command frame", []byte{0x57, 0}, 4},
		{"VP6", []byte{0x24, 0, 0}, 4},
		{"length size 3", []byte{0x17, 1, 0, 0, 0, 0, 0, 1, 0x65}, 3},
	}
	for _, tt := range tests {
		tag, err := av.ParseFLVVideoTag(tt.body)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if out, err := AppendStamped(nil, tt.body, tag, tt.lengthSize, Stamp{SentAt: 1}); err == nil {
			t.Errorf("%s: stamped into %x", tt.name, out)
		}
	}
}

// A malformed frame is still stamped (the server decides what to make of
// it); the stamp goes first when the first length cannot be trusted.
func TestAppendStampedMalformedFrames(t *testing.T) {
	for _, body := range [][]byte{
		{0x27, 1, 0, 0, 0},                         // no NAL units
		{0x27, 1, 0, 0, 0, 0, 0},                   // truncated length
		{0x27, 1, 0, 0, 0, 0, 0, 0, 9, 0x09, 0xF0}, // AUD length past the end
		{0x27, 1, 0, 0, 0, 0, 0, 0, 2, 0x09, 0xF0}, // AUD alone
	} {
		tag, err := av.ParseFLVVideoTag(body)
		if err != nil {
			t.Fatal(err)
		}
		out, err := AppendStamped(nil, body, tag, 4, Stamp{SentAt: 99, Seq: 1})
		if err != nil {
			t.Fatalf("%x: %v", body, err)
		}
		var r Reader
		if st, ok := r.Find(av.CodecH264, out[5:], 4); !ok || st.SentAt != 99 {
			t.Errorf("%x: stamp %+v %v in %x", body, st, ok, out)
		}
	}
}

// The reader stops at the first slice: SEI after it is not looked at, and
// other user data SEI (an encoder's banner) is skipped.
func TestReaderSkipsForeignSEIAndStopsAtSlices(t *testing.T) {
	var other [16]byte
	copy(other[:], "x264-banner-uuid")
	banner, _ := av.BuildSEIUserData(av.CodecH264, other, bytes.Repeat([]byte("x264 - core 164 - options "), 20))
	ours, _ := av.BuildSEIUserData(av.CodecH264, uuid16, Stamp{SentAt: 5, Seq: 6}.AppendData(nil))
	var r Reader
	if st, ok := r.Find(av.CodecH264, avcc(4, banner, ours, h264IDR), 4); !ok || st != (Stamp{5, 6}) {
		t.Errorf("after a banner: %+v %v", st, ok)
	}
	if st, ok := r.Find(av.CodecH264, avcc(4, h264IDR, ours), 4); ok {
		t.Errorf("found %+v after the slice", st)
	}
	// Two messages in one SEI unit: ours second.
	rbsp := []byte{5, 20}
	rbsp = append(rbsp, other[:]...)
	rbsp = append(rbsp, 1, 2, 3, 4, 5, 32)
	rbsp = append(rbsp, UUID...)
	rbsp = append(Stamp{SentAt: 7, Seq: 8}.AppendData(rbsp), 0x80)
	two := av.AppendEscapedRBSP([]byte{av.H264NALSEI}, rbsp)
	if st, ok := r.Find(av.CodecH264, avcc(4, two, h264Slice), 4); !ok || st != (Stamp{7, 8}) {
		t.Errorf("second message: %+v %v", st, ok)
	}
	// H.265 suffix SEI and a short stamp are not stamps.
	suffix, _ := av.BuildSEIUserData(av.CodecH265, uuid16, Stamp{SentAt: 5}.AppendData(nil))
	suffix[0] = av.H265NALSuffixSEI << 1
	short, _ := av.BuildSEIUserData(av.CodecH264, uuid16, []byte{1, 2, 3})
	for name, frame := range map[string][]byte{
		"suffix": avcc(4, suffix), "short": avcc(4, short, h264IDR), "AV1": avcc(4, ours),
	} {
		codec := av.CodecH264
		if name == "suffix" {
			codec = av.CodecH265
		} else if name == "AV1" {
			codec = av.CodecAV1
		}
		if st, ok := r.Find(codec, frame, 4); ok {
			t.Errorf("%s: found %+v", name, st)
		}
	}
}

func TestStampingAllocatesNothing(t *testing.T) {
	body := append([]byte{0x27, 1, 0, 0, 0}, avcc(4, h264AUD, bytes.Repeat([]byte{0x41, 0, 0, 1}, 1000))...)
	tag, _ := av.ParseFLVVideoTag(body)
	dst := make([]byte, 0, len(body)+64)
	var r Reader
	seq := uint64(0)
	allocs := testing.AllocsPerRun(100, func() {
		seq++
		out, err := AppendStamped(dst[:0], body, tag, 4, Stamp{SentAt: 1_700_000_000_000_000_000, Seq: seq})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.Find(av.CodecH264, out[5:], 4); !ok {
			t.Fatal("no stamp")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per stamped and read frame", allocs)
	}
}

// A file whose every frame is stamped still decodes without a warning.
func TestStampedFileDecodes(t *testing.T) {
	src := benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: time.Second})
	hdr, tags, err := flv.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "stamped.flv")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w, err := flv.NewWriter(f, hdr)
	if err != nil {
		t.Fatal(err)
	}
	lengthSize, stamped := 0, 0
	for i, tg := range tags {
		if tg.Type == flv.TagVideo {
			vt, err := av.ParseFLVVideoTag(tg.Data)
			if err != nil {
				t.Fatal(err)
			}
			if vt.IsSequenceHeader() {
				cfg, err := av.ParseAVCConfig(tg.Data[vt.PayloadOffset:])
				if err != nil {
					t.Fatal(err)
				}
				lengthSize = cfg.NALULengthSize
			} else if Stampable(vt) {
				tg.Data, err = AppendStamped(nil, tg.Data, vt, lengthSize, Stamp{SentAt: int64(i) << 20, Seq: uint64(stamped)})
				if err != nil {
					t.Fatal(err)
				}
				stamped++
			}
		}
		if err := w.WriteTag(tg); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if stamped < 20 {
		t.Fatalf("only %d frames stamped", stamped)
	}
	cmd := exec.Command("ffmpeg", "-hide_banner", "-v", "warning", "-i", out, "-map", "0:v", "-f", "framemd5", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg decoding the stamped file: %v\n%s", err, stderr.String())
	}
	frames := 0
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			frames++
		}
	}
	if frames != stamped {
		t.Errorf("ffmpeg decoded %d frames of %d stamped", frames, stamped)
	}
}
