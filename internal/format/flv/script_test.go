package flv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/castd/castd/internal/format/amf"
)

// "@setDataFrame", "onMetaData", ECMA array: the data message ffmpeg 5.1
// sends when publishing over RTMP.
const ffmpegSetDataFrame = "02000d40736574446174614672616d6502000a6f6e4d65746144617461080000000d00086475726174696f6e0040000000" +
	"0000000000057769647468004074000000000000000668656967687400406e000000000000000d766964656f646174617261" +
	"746500000000000000000000096672616d6572617465004039000000000000000c766964656f636f646563696400401c0000" +
	"00000000000d617564696f6461746172617465004050d88000000000000f617564696f73616d706c65726174650040e58880" +
	"00000000000f617564696f73616d706c6573697a65004030000000000000000673746572656f0100000c617564696f636f64" +
	"656369640040240000000000000007656e636f64657202000d4c61766635392e32372e313030000866696c6573697a650000" +
	"00000000000000000009"

const setDataFramePrefixLen = 16 // 02 000d "@setDataFrame"

func ffmpegMetadata(t testing.TB) []byte {
	b := unhex(t, ffmpegFLVStart)
	return b[ffmpegMetaStart+TagHeaderSize : ffmpegMetaStart+TagHeaderSize+ffmpegMetaSize]
}

func TestParseScriptData(t *testing.T) {
	tests := []struct {
		name      string
		hex       string
		wantName  string
		wantValue any
	}{
		{"setDataFrame is skipped", "02000d40736574446174614672616d65 02000a6f6e4d65746144617461 08 00000001 0001 61 05 000009",
			OnMetaData, amf.ECMAArray{{Key: "a", Value: nil}}},
		{"object metadata", "02000a6f6e4d65746144617461 03 0001 61 01 01 000009", OnMetaData, amf.Object{{Key: "a", Value: true}}},
		{"name only", "02 0006 6f6e44617461", "onData", nil},
		{"cue point with trailing values", "02 000a 6f6e437565506f696e74 05 05", "onCuePoint", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name, v, err := ParseScriptData(unhex(t, tc.hex))
			if err != nil {
				t.Fatal(err)
			}
			if name != tc.wantName || !reflect.DeepEqual(v, tc.wantValue) {
				t.Errorf("got %q %#v, want %q %#v", name, v, tc.wantName, tc.wantValue)
			}
		})
	}
	errs := []struct {
		name    string
		hex     string
		wantErr error
	}{
		{"empty", "", amf.ErrTruncated},
		{"name not a string", "00 3ff0000000000000 05", ErrNotScriptData},
		{"setDataFrame without a name", "02000d40736574446174614672616d65", amf.ErrTruncated},
		{"setDataFrame then a number", "02000d40736574446174614672616d65 00 3ff0000000000000", ErrNotScriptData},
		{"bad value", "02 0001 61 03 0001", amf.ErrTruncated},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := ParseScriptData(unhex(t, tc.hex)); !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestStripSetDataFrame(t *testing.T) {
	in := unhex(t, ffmpegSetDataFrame)
	got, err := StripSetDataFrame(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, in[setDataFramePrefixLen:]) {
		t.Fatalf("stripped = %x", got)
	}
	again, err := StripSetDataFrame(got)
	if err != nil || !bytes.Equal(again, got) {
		t.Fatalf("stripping twice changed the body: %v", err)
	}
	if _, err := StripSetDataFrame([]byte{0x05}); !errors.Is(err, ErrNotScriptData) {
		t.Fatalf("null body: %v", err)
	}
	// What SRS sends on is what AppendScriptData writes for the same values.
	name, v, err := ParseScriptData(in)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := AppendScriptData(nil, name, v)
	if err != nil || !bytes.Equal(enc, got) {
		t.Fatalf("AppendScriptData = %x, %v; want %x", enc, err, got)
	}
	if _, err := AppendScriptData([]byte{1}, "x", make(chan int)); !errors.Is(err, amf.ErrUnsupported) {
		t.Fatalf("AppendScriptData with a bad value: %v", err)
	}
}

func TestMetadataNumberOffsets(t *testing.T) {
	data := ffmpegMetadata(t)
	offs, err := MetadataNumberOffsets(data, "duration", "filesize", "encoder", "missing")
	if err != nil {
		t.Fatal(err)
	}
	if len(offs) != 2 {
		t.Fatalf("offsets = %v, want duration and filesize only", offs)
	}
	for k, want := range map[string]float64{"duration": 0.428, "filesize": 5053} {
		got := math.Float64frombits(binary.BigEndian.Uint64(data[offs[k]:]))
		if got != want {
			t.Errorf("%s at %d reads %v, want %v", k, offs[k], got, want)
		}
	}
	sdf := unhex(t, ffmpegSetDataFrame)
	offs2, err := MetadataNumberOffsets(sdf, "width")
	if err != nil {
		t.Fatal(err)
	}
	if got := math.Float64frombits(binary.BigEndian.Uint64(sdf[offs2["width"]:])); got != 320 {
		t.Errorf("width through @setDataFrame reads %v", got)
	}

	errs := []struct {
		name    string
		hex     string
		wantErr error
	}{
		{"no value", "02 0001 61", ErrNotScriptData},
		{"value not a map", "02 0001 61 00 3ff0000000000000", ErrNotScriptData},
		{"ecma count cut", "02 0001 61 08 0000", nil},
		{"key cut", "02 0001 61 03 0005 6162", nil},
		{"object without end", "02 0001 61 03 0001 62 05", nil},
		{"bad property value", "02 0001 61 03 0001 62 0a ffffffff", amf.ErrTruncated},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MetadataNumberOffsets(unhex(t, tc.hex), "b")
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
	// An ECMA array that ends without its end marker is accepted, as amf does.
	offs3, err := MetadataNumberOffsets(unhex(t, "02 0001 61 08 00000001 0001 62 00 4000000000000000"), "b")
	if err != nil || offs3["b"] != 13 {
		t.Fatalf("ECMA array without end marker: %v, %v", offs3, err)
	}
}

func TestSetMetadataNumbersInPlace(t *testing.T) {
	data := ffmpegMetadata(t)
	orig := bytes.Clone(data)
	out, err := SetMetadataNumbers(data, map[string]float64{"duration": 12.5, "filesize": 123456})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, orig) {
		t.Fatal("input modified")
	}
	if len(out) != len(data) {
		t.Fatalf("length changed: %d to %d", len(data), len(out))
	}
	diff := 0
	for i := range out {
		if out[i] != data[i] {
			diff++
		}
	}
	if diff == 0 || diff > 16 {
		t.Errorf("%d bytes changed, want 1..16", diff)
	}
	_, v, err := ParseScriptData(out)
	if err != nil {
		t.Fatal(err)
	}
	meta := v.(amf.ECMAArray)
	if d, _ := meta.Number("duration"); d != 12.5 {
		t.Errorf("duration = %v", d)
	}
	if s, _ := meta.Number("filesize"); s != 123456 {
		t.Errorf("filesize = %v", s)
	}
	if w, _ := meta.Number("width"); w != 64 {
		t.Errorf("width = %v", w)
	}
}

func TestSetMetadataNumbersAppends(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		kv   map[string]float64
		want []byte
	}{
		{
			name: "missing keys appended in order, ECMA array kept",
			in:   mustScript(t, OnMetaData, amf.ECMAArray{{Key: "width", Value: 320.0}}),
			kv:   map[string]float64{"filesize": 2, "duration": 1},
			want: mustScript(t, OnMetaData, amf.ECMAArray{{Key: "width", Value: 320.0}, {Key: "duration", Value: 1.0}, {Key: "filesize", Value: 2.0}}),
		},
		{
			name: "object kept, existing number replaced",
			in:   mustScript(t, OnMetaData, amf.Object{{Key: "duration", Value: 9.0}}),
			kv:   map[string]float64{"duration": 3, "filesize": 4},
			want: mustScript(t, OnMetaData, amf.Object{{Key: "duration", Value: 3.0}, {Key: "filesize", Value: 4.0}}),
		},
		{
			name: "first of a repeated key wins even when it is not a number",
			in:   mustScript(t, OnMetaData, amf.ECMAArray{{Key: "duration", Value: "n/a"}, {Key: "duration", Value: 5.0}}),
			kv:   map[string]float64{"duration": 6},
			want: mustScript(t, OnMetaData, amf.ECMAArray{{Key: "duration", Value: 6.0}, {Key: "duration", Value: 5.0}}),
		},
		{
			name: "setDataFrame prefix kept",
			in:   append(unhex(t, "02000d40736574446174614672616d65"), mustScript(t, OnMetaData, amf.ECMAArray{})...),
			kv:   map[string]float64{"duration": 1},
			want: append(unhex(t, "02000d40736574446174614672616d65"), mustScript(t, OnMetaData, amf.ECMAArray{{Key: "duration", Value: 1.0}})...),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SetMetadataNumbers(tc.in, tc.kv)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got  %x\nwant %x", got, tc.want)
			}
		})
	}
	if _, err := SetMetadataNumbers(mustScript(t, "onCuePoint", 1.0), map[string]float64{"a": 1}); !errors.Is(err, ErrNotScriptData) {
		t.Errorf("number value: %v", err)
	}
}

func mustScript(t testing.TB, name string, v any) []byte {
	t.Helper()
	b, err := AppendScriptData(nil, name, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
