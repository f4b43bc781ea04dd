package flv

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"reflect"
	"testing"

	"github.com/castd/castd/internal/format/amf"
)

// FuzzReader feeds arbitrary bytes to the Reader: it must not panic, must not
// return more data than it was given, and whatever it reads cleanly must
// survive a write and a second read unchanged.
func FuzzReader(f *testing.F) {
	f.Add(unhex(f, ffmpegFLVStart), false)
	f.Add(unhex(f, ffmpegFLVStart)[:200], true)
	f.Add(buildFLV(f, Tag{Type: TagVideo, Timestamp: 0xFF000000, Data: []byte{0x17, 0}}), false)
	f.Add(unhex(f, "464c5601 04 0000000c aabbcc 00000000 08000001 000000 00 000000 af 0000000c"), false)
	f.Fuzz(func(t *testing.T, b []byte, ignorePrev bool) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		r.IgnorePreviousTagSize = ignorePrev
		var tags []Tag
		total := 0
		for {
			tag, err := r.ReadTag()
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
			total += TagHeaderSize + len(tag.Data)
			if total > len(b) {
				t.Fatalf("read %d bytes of tags from %d bytes", total, len(b))
			}
			tag.StreamID = 0 // the Writer always writes 0
			tags = append(tags, tag)
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, r.Header())
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags {
			if err := w.WriteTag(tag); err != nil {
				t.Fatal(err)
			}
		}
		h, again, err := ReadAll(&buf)
		if err != nil || h != r.Header() || len(again) != len(tags) {
			t.Fatalf("re-read: %v, %d of %d tags", err, len(again), len(tags))
		}
		for i := range tags {
			if !reflect.DeepEqual(again[i], tags[i]) {
				t.Fatalf("tag %d changed: %+v then %+v", i, tags[i], again[i])
			}
		}
	})
}

// FuzzScriptData runs every script data helper on arbitrary bodies: no
// panics, and when they succeed their results must agree with each other.
func FuzzScriptData(f *testing.F) {
	f.Add(ffmpegMetadata(f))
	f.Add(unhex(f, ffmpegSetDataFrame))
	f.Add(unhex(f, "02 0001 61 08 00000001 0001 62 00 4000000000000000"))
	f.Add(unhex(f, "02000a6f6e4d65746144617461 03 0008 6475726174696f6e 02 0001 78 0008 6475726174696f6e 00 3ff0000000000000 000009"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name, value, parseErr := ParseScriptData(data)
		stripped, stripErr := StripSetDataFrame(data)
		if parseErr == nil && stripErr != nil {
			t.Fatalf("ParseScriptData ok but StripSetDataFrame: %v", stripErr)
		}
		if stripErr == nil {
			name2, value2, err := ParseScriptData(stripped)
			if (err == nil) != (parseErr == nil) || (err == nil && (name2 != name || !sameValue(value, value2))) {
				t.Fatalf("stripped body parses differently: %q %v vs %q %v", name2, err, name, parseErr)
			}
		}

		keys := []string{"duration", "filesize", "width"}
		offs, offErr := MetadataNumberOffsets(data, keys...)
		if offErr == nil {
			if parseErr != nil {
				t.Fatalf("offsets found in a body that does not parse: %v", parseErr)
			}
			for k, off := range offs {
				want, ok := number(value, k)
				got := math.Float64frombits(binary.BigEndian.Uint64(data[off:]))
				if !ok || math.Float64bits(got) != math.Float64bits(want) {
					t.Fatalf("offset of %q reads %v, parsed value %v (%v)", k, got, want, ok)
				}
			}
		}

		kv := map[string]float64{"duration": 12.5, "filesize": 4096}
		out, err := SetMetadataNumbers(data, kv)
		if err != nil {
			return
		}
		if offErr != nil {
			t.Fatalf("SetMetadataNumbers ok but offsets failed: %v", offErr)
		}
		_, hasDuration := offs["duration"]
		_, hasSize := offs["filesize"]
		if hasDuration && hasSize && len(out) != len(data) {
			t.Fatalf("in-place update changed the length from %d to %d", len(data), len(out))
		}
		name3, value3, err := ParseScriptData(out)
		if err != nil || name3 != name {
			t.Fatalf("updated body: %q %v", name3, err)
		}
		for k, want := range kv {
			if got, ok := number(value3, k); !ok || got != want {
				t.Fatalf("after update %q = %v, %v", k, got, ok)
			}
		}
	})
}

func number(v any, key string) (float64, bool) {
	switch m := v.(type) {
	case amf.ECMAArray:
		return m.Number(key)
	case amf.Object:
		return m.Number(key)
	}
	return 0, false
}

// sameValue compares decoded values, treating NaNs with the same bits alike.
func sameValue(a, b any) bool {
	ea, errA := amf.Append0(nil, a)
	eb, errB := amf.Append0(nil, b)
	return errA == nil && errB == nil && bytes.Equal(ea, eb)
}
