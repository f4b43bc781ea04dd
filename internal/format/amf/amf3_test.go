package amf

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Every AMF3 marker and the U29 boundaries of AMF3 spec §1.3.1, in canonical
// form: decoding gives want and encoding want gives the bytes back.
func TestAMF3Markers(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want any
	}{
		{"undefined", "00", Undefined{}},
		{"null", "01", nil},
		{"false", "02", false},
		{"true", "03", true},
		{"integer 0", "04 00", int32(0)},
		{"integer 127", "04 7f", int32(127)},
		{"integer 128", "04 81 00", int32(128)},
		{"integer 16383", "04 ff 7f", int32(16383)},
		{"integer 16384", "04 81 80 00", int32(16384)},
		{"integer 2097151", "04 ff ff 7f", int32(2097151)},
		{"integer 2097152", "04 80 c0 80 00", int32(2097152)},
		{"integer max", "04 bf ff ff ff", int32(268435455)},
		{"integer -1", "04 ff ff ff ff", int32(-1)},
		{"integer min", "04 c0 80 80 00", int32(-268435456)},
		{"double", "05 3ff8000000000000", 1.5},
		{"double integral stays double", "05 4014000000000000", 5.0},
		{"string empty", "06 01", ""},
		{"string", "06 07 616263", "abc"},
		{"xml document", "07 09 3c612f3e", XMLDocument("<a/>")},
		{"date", "08 01 4274aadbd4028000", Date{Millis: 1420254068776}},
		{"array dense", "09 05 01 04 01 04 02", Array3{Dense: []any{int32(1), int32(2)}}},
		{"array assoc", "09 01 03 61 05 3ff0000000000000 01", Array3{Assoc: Object{{"a", 1.0}}, Dense: []any{}}},
		{"array mixed", "09 03 03 6b 02 01 06 03 76", Array3{Assoc: Object{{"k", false}}, Dense: []any{"v"}}},
		{"object anonymous", "0a 0b 01 03 61 04 01 01", Object3{Dynamic: true, DynamicProps: Object{{"a", int32(1)}}}},
		{"object anonymous empty", "0a 0b 01 01", Object3{Dynamic: true}},
		{"object sealed", "0a 13 03 43 03 78 04 01", Object3{Class: "C", Sealed: Object{{"x", int32(1)}}}},
		{"object sealed and dynamic", "0a 2b 03 50 03 61 03 62 01 03 03 63 06 03 7a 01",
			Object3{Class: "P", Dynamic: true, Sealed: Object{{"a", nil}, {"b", true}}, DynamicProps: Object{{"c", "z"}}}},
		{"object externalizable ArrayCollection", "0a 07 43 666c65782e6d6573736167696e672e696f2e4172726179436f6c6c656374696f6e 09 03 01 04 01",
			Object3{Class: ClassArrayCollection, Externalizable: true, External: Array3{Dense: []any{int32(1)}}}},
		{"xml", "0b 09 3c612f3e", XML("<a/>")},
		{"byte array", "0c 05 0102", []byte{1, 2}},
		{"byte array empty", "0c 01", []byte{}},
		{"vector int", "0d 05 00 ffffffff 00000001", []int32{-1, 1}},
		{"vector uint", "0e 03 00 ffffffff", []uint32{math.MaxUint32}},
		{"vector double", "0f 03 00 3ff0000000000000", []float64{1}},
		{"vector object", "10 05 00 01 04 01 06 03 61", VectorObject{Items: []any{int32(1), "a"}}},
		{"vector object typed fixed", "10 01 01 03 54", VectorObject{Type: "T", Fixed: true, Items: []any{}}},
		{"dictionary", "11 03 00 06 03 6b 04 01", Dictionary{Entries: []DictEntry{{"k", int32(1)}}}},
		{"dictionary weak object key", "11 03 01 0a 0b 01 01 03", Dictionary{WeakKeys: true, Entries: []DictEntry{{Object3{Dynamic: true}, true}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			got, n, err := Decode3(b)
			if err != nil {
				t.Fatalf("Decode3: %v", err)
			}
			if n != len(b) {
				t.Errorf("Decode3 used %d bytes, want %d", n, len(b))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decode3 = %#v, want %#v", got, tc.want)
			}
			enc, err := Append3(nil, tc.want)
			if err != nil {
				t.Fatalf("Append3: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Errorf("Append3 = %x, want %x", enc, b)
			}
		})
	}
}

// References and other forms the encoder does not produce.
func TestAMF3DecodeReferences(t *testing.T) {
	c1 := Object3{Class: "C", Sealed: Object{{"x", int32(1)}}}
	c2 := Object3{Class: "C", Sealed: Object{{"x", int32(2)}}}
	anon := Object3{Dynamic: true}
	tests := []struct {
		name string
		hex  string
		want any
	}{
		{"string reference", "09 05 01 06 05 6162 06 00", Array3{Dense: []any{"ab", "ab"}}},
		{"empty string is not stored", "09 07 01 06 01 06 03 78 06 00", Array3{Dense: []any{"", "x", "x"}}},
		{"key strings share the table", "0a 0b 01 05 6964 06 00 01", Object3{Dynamic: true, DynamicProps: Object{{"id", "id"}}}},
		{"object reference", "09 05 01 0a 0b 01 01 0a 02", Array3{Dense: []any{anon, anon}}},
		{"traits reference", "09 05 01 0a 13 03 43 03 78 04 01 0a 01 04 02", Array3{Dense: []any{c1, c2}}},
		{"date reference", "09 05 01 08 01 0000000000000000 08 02", Array3{Dense: []any{Date{}, Date{}}}},
		{"byte array reference", "09 05 01 0c 03 ff 0c 02", Array3{Dense: []any{[]byte{0xff}, []byte{0xff}}}},
		{"date ignores extra U29 bits", "08 7f 0000000000000000", Date{}},
		{"number vector fixed flag dropped", "0d 03 01 00000002", []int32{2}},
		{"externalizable ignores dynamic flag and count", "0a 7f 43 666c65782e6d6573736167696e672e696f2e4172726179436f6c6c656374696f6e 01",
			Object3{Class: ClassArrayCollection, Externalizable: true}},
		// ObjectProxy of the spec's person example: name, age, alias where
		// alias repeats the string "Mike" by reference (index 1).
		{"object proxy", "0a 07 3b 666c65782e6d6573736167696e672e696f2e4f626a65637450726f7879" +
			"0a 0b 01 09 6e616d65 06 09 4d696b65 07 616765 06 05 3330 0b 616c696173 06 04 01",
			Object3{Class: ClassObjectProxy, Externalizable: true, External: Object3{Dynamic: true, DynamicProps: Object{
				{"name", "Mike"}, {"age", "30"}, {"alias", "Mike"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			got, n, err := Decode3(b)
			if err != nil {
				t.Fatalf("Decode3: %v", err)
			}
			if n != len(b) {
				t.Errorf("Decode3 used %d bytes, want %d", n, len(b))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decode3 = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestAMF3EncodeGoTypes(t *testing.T) {
	tests := []struct {
		name string
		in   any
		hex  string
	}{
		{"int", 5, "04 05"},
		{"int8 negative", int8(-1), "04 ff ff ff ff"},
		{"int above 29 bits is a double", 1 << 28, "05 41b0000000000000"},
		{"int below 29 bits is a double", -1<<28 - 1, "05 c1b0000001000000"},
		{"uint64 max is a double", uint64(math.MaxUint64), "05 43f0000000000000"},
		{"uint32", uint32(300), "04 82 2c"},
		{"float32", float32(2), "05 4000000000000000"},
		{"unsupported as undefined", Unsupported{}, "00"},
		{"amf0 object", Object{{"a", nil}}, "0a 0b 01 03 61 01 01"},
		{"properties", []Property{{"a", nil}}, "0a 0b 01 03 61 01 01"},
		{"map sorted", map[string]any{"b": 1, "a": 2}, "0a 0b 01 03 61 04 02 03 62 04 01 01"},
		{"typed object", TypedObject{Class: "C", Props: Object{{"x", 1}}}, "0a 13 03 43 03 78 04 01"},
		{"ecma array", ECMAArray{{"k", true}}, "09 01 03 6b 03 01"},
		{"strict array", []any{"s"}, "09 03 01 06 03 73"},
		{"dynamic props force dynamic", Object3{DynamicProps: Object{{"d", nil}}}, "0a 0b 01 03 64 01 01"},
		{"time", time.UnixMilli(1000), "08 01 408f400000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Append3(nil, tc.in)
			if err != nil {
				t.Fatalf("Append3: %v", err)
			}
			if want := unhex(t, tc.hex); !bytes.Equal(got, want) {
				t.Errorf("Append3 = %x, want %x", got, want)
			}
		})
	}
}

func TestAMF3EncodeErrors(t *testing.T) {
	deep := any(nil)
	for range MaxDepth + 1 {
		deep = Array3{Dense: []any{deep}}
	}
	tests := []struct {
		name    string
		in      any
		wantErr error
	}{
		{"unsupported type", struct{}{}, ErrUnsupported},
		{"empty dynamic key", Object{{"", 1}}, ErrUnsupported},
		{"empty array key", Array3{Assoc: Object{{"", 1}}}, ErrUnsupported},
		{"unknown externalizable", Object3{Class: "x.Y", Externalizable: true}, ErrUnsupported},
		{"too deep", deep, ErrTooDeep},
		{"too deep dictionary", Dictionary{Entries: []DictEntry{{Key: deep}}}, ErrTooDeep},
		{"nested bad", VectorObject{Items: []any{make(chan int)}}, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte{0xAA}
			got, err := Append3(dst, tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Append3 error %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, dst) {
				t.Errorf("dst changed on error: %x", got)
			}
		})
	}
}

func TestAMF3DecodeErrors(t *testing.T) {
	nested := strings.Repeat("09 03 01 ", MaxDepth+1) + "01"
	tests := []struct {
		name    string
		hex     string
		wantErr error
		wantMsg string
	}{
		{"empty", "", ErrTruncated, "amf3: type marker at offset 0: truncated"},
		{"integer truncated", "04 ff ff", ErrTruncated, "amf3: integer at offset 0: truncated"},
		{"double truncated", "05 00", ErrTruncated, ""},
		{"string too long", "06 ff ff ff 7f 61", ErrTruncated, ""},
		{"string reference out of range", "06 00", ErrBadReference, "amf3: string at offset 1: invalid reference: string 0, 0 in table"},
		{"object reference out of range", "0a 00", ErrBadReference, "amf3: object at offset 0: invalid reference: object 0, 0 in table"},
		{"self reference", "09 03 01 09 00", ErrBadReference, "amf3: array at offset 3: invalid reference: object 0 refers to a value that contains it"},
		{"traits reference out of range", "0a 01", ErrBadReference, ""},
		{"unknown externalizable", "0a 07 03 58", ErrUnsupported, `amf3: object at offset 0: unsupported: externalizable class "X"`},
		{"unknown marker", "12", ErrBadMarker, "amf3: value at offset 0: unknown or unexpected type marker 0x12"},
		{"array count too big", "09 ff ff ff ff 01", ErrTruncated, ""},
		{"array key truncated", "09 01 05 61", ErrTruncated, ""},
		{"sealed count too big", "0a ff ff ff f3 01", ErrTruncated, ""},
		{"sealed values missing", "0a 13 03 43 03 78", ErrTruncated, ""},
		{"vector int count too big", "0d 09 00 00000001", ErrTruncated, "amf3: int vector at offset 0: truncated: 4 items declared, 4 bytes left"},
		{"vector double count too big", "0f 03 00 00", ErrTruncated, ""},
		{"vector fixed flag missing", "0e 01", ErrTruncated, ""},
		{"vector object count too big", "10 ff ff ff ff 00 01", ErrTruncated, ""},
		{"dictionary count too big", "11 05 00 01 01 01", ErrTruncated, ""},
		{"dictionary value missing", "11 03 00 01", ErrTruncated, ""},
		{"xml too long", "0b 0b 00", ErrTruncated, ""},
		{"date truncated", "08 01 00", ErrTruncated, ""},
		{"too deep", nested, ErrTooDeep, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := Decode3(unhex(t, tc.hex))
			if err == nil {
				t.Fatal("Decode3 succeeded, want an error")
			}
			if n != 0 {
				t.Errorf("n = %d on error", n)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %q is not %v", err, tc.wantErr)
			}
			if tc.wantMsg != "" && err.Error() != tc.wantMsg {
				t.Errorf("error %q, want %q", err, tc.wantMsg)
			}
		})
	}
}

// Exactly MaxDepth nested arrays decode and re-encode.
func TestAMF3DepthLimit(t *testing.T) {
	b := unhex(t, strings.Repeat("09 03 01 ", MaxDepth)+"01")
	v, _, err := Decode3(b)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Append3(nil, v)
	if err != nil || !bytes.Equal(enc, b) {
		t.Fatalf("re-encode: %x, %v", enc, err)
	}
}

// doublingRefs3 builds an AMF3 array of levels+1 arrays: the first holds a
// 1000-byte byte array and each later one holds two references to the one
// before it. Each level is a few bytes but doubles the expanded size.
func doublingRefs3(levels uint32) []byte {
	b := []byte{0x09}
	b = appendU29(b, (levels+1)<<1|1) // outer array, index 0
	b = append(b, 0x01)
	// Level 0 (index 1) holds the byte array (index 2).
	b = append(b, 0x09, 0x03, 0x01, 0x0c)
	b = appendU29(b, 1000<<1|1)
	b = append(b, make([]byte, 1000)...)
	// Level k (index k+2) refers twice to level k-1.
	prev := uint32(1)
	for k := uint32(1); k <= levels; k++ {
		b = append(b, 0x09, 0x05, 0x01, 0x09)
		b = appendU29(b, prev<<1)
		b = append(b, 0x09)
		b = appendU29(b, prev<<1)
		prev = k + 2
	}
	return b
}

func TestAMF3ReferenceExpansionLimit(t *testing.T) {
	small := doublingRefs3(8)
	v, n, err := Decode3(small)
	if err != nil || n != len(small) {
		t.Fatalf("8 levels: n=%d err=%v", n, err)
	}
	enc, err := Append3(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) < 256*1000 {
		t.Fatalf("8 levels expand to %d bytes, want over 256000", len(enc))
	}
	if _, _, err := Decode3(doublingRefs3(40)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("40 levels: error %v, want ErrTooLarge", err)
	}
}

// Many references to one long string cost little to decode but would expand
// to a huge encoding; they are refused.
func TestAMF3StringReferenceExpansionLimit(t *testing.T) {
	b := []byte{0x09}
	b = appendU29(b, 1000<<1|1)
	b = append(b, 0x01, 0x06)
	b = appendU29(b, 60000<<1|1)
	b = append(b, bytes.Repeat([]byte{'x'}, 60000)...)
	for range 999 {
		b = append(b, 0x06, 0x00)
	}
	_, _, err := Decode3(b)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
}

func TestAMF3HugeCountsAllocateLittle(t *testing.T) {
	for _, in := range []string{"09 ff ff ff ff 01", "0d ff ff ff ff 00", "11 ff ff ff ff 00", "0a ff ff ff f3 01", "06 ff ff ff ff"} {
		b := unhex(t, in)
		allocs := testing.AllocsPerRun(10, func() { _, _, _ = Decode3(b) })
		if allocs > 20 {
			t.Errorf("%s: %v allocations", in, allocs)
		}
	}
}

func TestDecoderKeepsTables(t *testing.T) {
	var d Decoder
	v, n, err := d.Decode(unhex(t, "06 07 616263"))
	if err != nil || v != "abc" || n != 5 {
		t.Fatalf("first value: %v, %d, %v", v, n, err)
	}
	v, _, err = d.Decode(unhex(t, "06 00"))
	if err != nil || v != "abc" {
		t.Fatalf("string reference across calls: %v, %v", v, err)
	}
	v, _, err = d.Decode(unhex(t, "0a 0b 01 01"))
	if err != nil {
		t.Fatal(err)
	}
	// A failed decode leaves no half-built entries behind: index 1 would be
	// the failed array if it were kept.
	if _, _, err := d.Decode(unhex(t, "09 03 01 05")); err == nil {
		t.Fatal("truncated array decoded")
	}
	if _, _, err := d.Decode(unhex(t, "0a 02")); !errors.Is(err, ErrBadReference) {
		t.Fatalf("reference to rolled-back entry: %v", err)
	}
	got, _, err := d.Decode(unhex(t, "0a 00"))
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("object reference across calls: %#v, %v", got, err)
	}
	d.Reset()
	if _, _, err := d.Decode(unhex(t, "06 00")); !errors.Is(err, ErrBadReference) {
		t.Fatalf("after Reset: %v", err)
	}
}

// Decode3 starts with fresh tables each call.
func TestDecode3FreshTables(t *testing.T) {
	if _, _, err := Decode3(unhex(t, "06 07 616263")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Decode3(unhex(t, "06 00")); !errors.Is(err, ErrBadReference) {
		t.Fatalf("error %v, want ErrBadReference", err)
	}
}

// Each avmplus marker in AMF0 starts fresh AMF3 tables.
func TestAVMPlusFreshTables(t *testing.T) {
	b := unhex(t, "11 06 07 616263 11 06 00")
	if _, err := DecodeAll0(b); !errors.Is(err, ErrBadReference) {
		t.Fatalf("error %v, want ErrBadReference", err)
	}
	// An RTMP AMF3 command (message type 17) body after its format byte.
	b = unhex(t, "02 0007 636f6e6e656374 00 3ff0000000000000 11 0a 0b 01 07 617070 06 09 6c697665 01")
	got, err := DecodeAll0(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"connect", 1.0, Object3{Dynamic: true, DynamicProps: Object{{"app", "live"}}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
}
