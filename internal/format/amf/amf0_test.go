package amf

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// Every AMF0 marker with its canonical encoding: decoding gives want and
// encoding want gives the same bytes back.
func TestAMF0Markers(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want any
	}{
		{"number zero", "00 0000000000000000", 0.0},
		{"number 1.5", "00 3ff8000000000000", 1.5},
		{"number -0", "00 8000000000000000", math.Copysign(0, -1)},
		{"number +inf", "00 7ff0000000000000", math.Inf(1)},
		{"boolean true", "01 01", true},
		{"boolean false", "01 00", false},
		{"string empty", "02 0000", ""},
		{"string", "02 0003 616263", "abc"},
		{"string utf8", "02 0003 e282ac", "€"},
		{"object empty", "03 000009", Object{}},
		{"object", "03 0001 61 00 3ff0000000000000 0001 62 02 0001 78 000009",
			Object{{"a", 1.0}, {"b", "x"}}},
		{"object repeated key", "03 0001 61 05 0001 61 06 000009", Object{{"a", nil}, {"a", Undefined{}}}},
		{"null", "05", nil},
		{"undefined", "06", Undefined{}},
		{"ecma array", "08 00000002 0001 61 01 01 0001 62 05 000009", ECMAArray{{"a", true}, {"b", nil}}},
		{"ecma array empty", "08 00000000 000009", ECMAArray{}},
		{"strict array", "0a 00000003 00 4000000000000000 02 0001 7a 05", []any{2.0, "z", nil}},
		{"strict array empty", "0a 00000000", []any{}},
		{"date", "0b 4274aadbd4028000 0000", Date{Millis: 1420254068776}},
		{"date with tz", "0b 0000000000000000 ffc4", Date{TZ: -60}},
		{"unsupported", "0d", Unsupported{}},
		{"xml document", "0f 00000004 3c612f3e", XML("<a/>")},
		{"typed object", "10 0003 466f6f 0001 78 00 4008000000000000 000009",
			TypedObject{Class: "Foo", Props: Object{{"x", 3.0}}}},
		{"nested", "03 0001 6f 03 0001 61 0a 00000001 01 00 000009 000009",
			Object{{"o", Object{{"a", []any{false}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			got, n, err := Decode0(b)
			if err != nil {
				t.Fatalf("Decode0: %v", err)
			}
			if n != len(b) {
				t.Errorf("Decode0 used %d bytes, want %d", n, len(b))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decode0 = %#v, want %#v", got, tc.want)
			}
			enc, err := Append0(nil, tc.want)
			if err != nil {
				t.Fatalf("Append0: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Errorf("Append0 = %x, want %x", enc, b)
			}
		})
	}
}

// Values that decode but are not written back the same way, and Go values
// the encoder accepts beyond the decoded types.
func TestAMF0DecodeOnly(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want any
	}{
		{"long string", "0c 00000002 6869", "hi"},
		{"boolean nonzero is true", "01 07", true},
		{"ecma count is only a hint", "08 00000009 0001 61 05 000009", ECMAArray{{"a", nil}}},
		{"ecma array without end marker at end of input", "08 00000001 0001 61 05", ECMAArray{{"a", nil}}},
		{"empty key with a value is a property", "03 0000 05 000009", Object{{"", nil}}},
		{"avmplus integer", "11 04 05", int32(5)},
		{"avmplus string", "11 06 07 616263", "abc"},
		{"avmplus object", "11 0a 0b 01 03 61 04 01 01", Object3{Dynamic: true, DynamicProps: Object{{"a", int32(1)}}}},
		{"reference to earlier object", "0a 00000002 03 0001 61 05 000009 07 0001",
			[]any{Object{{"a", nil}}, Object{{"a", nil}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			got, n, err := Decode0(b)
			if err != nil {
				t.Fatalf("Decode0: %v", err)
			}
			if n != len(b) {
				t.Errorf("Decode0 used %d bytes, want %d", n, len(b))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decode0 = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestAMF0EncodeGoTypes(t *testing.T) {
	tests := []struct {
		name string
		in   any
		hex  string
	}{
		{"int", 3, "00 4008000000000000"},
		{"int32", int32(-2), "00 c000000000000000"},
		{"int64", int64(1 << 40), "00 4270000000000000"},
		{"uint8", uint8(255), "00 406fe00000000000"},
		{"uint32", uint32(1), "00 3ff0000000000000"},
		{"float32", float32(0.5), "00 3fe0000000000000"},
		{"map sorted", map[string]any{"b": nil, "a": true}, "03 0001 61 01 01 0001 62 05 000009"},
		{"properties", []Property{{"k", "v"}}, "03 0001 6b 02 0001 76 000009"},
		{"time", time.UnixMilli(1000).UTC(), "0b 408f400000000000 0000"},
		{"xml document as xml", XMLDocument("x"), "0f 00000001 78"},
		{"amf3 byte array via avmplus", []byte{1, 2}, "11 0c 05 0102"},
		{"amf3 object via avmplus", Object3{Class: "C", Sealed: Object{{"x", int32(1)}}}, "11 0a 13 03 43 03 78 04 01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Append0(nil, tc.in)
			if err != nil {
				t.Fatalf("Append0: %v", err)
			}
			if want := unhex(t, tc.hex); !bytes.Equal(got, want) {
				t.Errorf("Append0 = %x, want %x", got, want)
			}
		})
	}
}

func TestAMF0LongStringChoice(t *testing.T) {
	for _, n := range []int{65535, 65536} {
		s := strings.Repeat("a", n)
		b, err := Append0(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		wantMarker, wantLen := byte(marker0String), 3+n
		if n > 65535 {
			wantMarker, wantLen = marker0LongString, 5+n
		}
		if b[0] != wantMarker || len(b) != wantLen {
			t.Errorf("len %d: marker 0x%02x size %d, want 0x%02x size %d", n, b[0], len(b), wantMarker, wantLen)
		}
		v, _, err := Decode0(b)
		if err != nil || v != s {
			t.Errorf("len %d: round trip failed: %v", n, err)
		}
	}
}

func TestAMF0DecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		wantErr error
		wantMsg string
	}{
		{"empty", "", ErrTruncated, "amf0: type marker at offset 0: truncated"},
		{"number short", "00 3ff0", ErrTruncated, "amf0: number at offset 0: truncated"},
		{"boolean short", "01", ErrTruncated, "amf0: boolean at offset 0: truncated"},
		{"string length short", "02 00", ErrTruncated, "amf0: string length at offset 0: truncated"},
		{"string body short", "02 0005 6162", ErrTruncated, "amf0: string at offset 0: truncated: 5 bytes declared, 2 left"},
		{"object key short", "03 0001 61 05 0005 6162", ErrTruncated, "amf0: object key at offset 5: truncated: 5 bytes declared, 2 left"},
		{"object missing end", "03 0001 61 05", ErrTruncated, "amf0: object key length at offset 5: truncated"},
		{"object end as value", "09", ErrBadMarker, "amf0: value at offset 0: unknown or unexpected type marker 0x09"},
		{"movieclip", "04", ErrBadMarker, ""},
		{"recordset", "0e", ErrBadMarker, ""},
		{"unknown marker", "12", ErrBadMarker, ""},
		{"strict array count too big", "0a ffffffff 05", ErrTruncated, "amf0: strict array at offset 0: truncated: 4294967295 elements declared, 1 bytes left"},
		{"long string too long", "0c 7fffffff 00", ErrTruncated, ""},
		{"xml too long", "0f 00000010 00", ErrTruncated, ""},
		{"date short", "0b 0000000000000000 00", ErrTruncated, ""},
		{"reference out of range", "07 0000", ErrBadReference, "amf0: reference at offset 0: invalid reference: index 0, 0 complex values so far"},
		{"reference to enclosing value", "0a 00000001 07 0000", ErrBadReference, ""},
		{"reference short", "07 00", ErrTruncated, ""},
		{"typed object class short", "10 0009 41", ErrTruncated, ""},
		{"avmplus error reports amf3", "11 04 ff", ErrTruncated, "amf3: integer at offset 1: truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := Decode0(unhex(t, tc.hex))
			if err == nil {
				t.Fatal("Decode0 succeeded, want an error")
			}
			if n != 0 {
				t.Errorf("n = %d on error, want 0", n)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %q is not %v", err, tc.wantErr)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DecodeError", err)
			}
			if tc.wantMsg != "" && err.Error() != tc.wantMsg {
				t.Errorf("error %q, want %q", err, tc.wantMsg)
			}
		})
	}
}

func TestAMF0EncodeErrors(t *testing.T) {
	deep := any(nil)
	for range MaxDepth + 1 {
		deep = []any{deep}
	}
	tests := []struct {
		name    string
		in      any
		wantErr error
	}{
		{"channel", make(chan int), ErrUnsupported},
		{"pointer", new(Object), ErrUnsupported},
		{"too deep", deep, ErrTooDeep},
		{"long key", Object{{strings.Repeat("k", 70000), nil}}, ErrTooLarge},
		{"long class", TypedObject{Class: strings.Repeat("c", 70000)}, ErrTooLarge},
		{"nested unsupported", Object{{"a", []any{struct{}{}}}}, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte{0xAA}
			got, err := Append0(dst, tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Append0 error %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, dst) {
				t.Errorf("dst changed on error: %x", got)
			}
		})
	}
}

// Nesting exactly MaxDepth containers works both ways; one more fails both ways.
func TestAMF0DepthLimit(t *testing.T) {
	nest := func(levels int) []byte {
		var b []byte
		for range levels {
			b = append(b, 0x0a, 0, 0, 0, 1)
		}
		return append(b, 0x05)
	}
	v, _, err := Decode0(nest(MaxDepth))
	if err != nil {
		t.Fatalf("depth %d: %v", MaxDepth, err)
	}
	if _, err := Append0(nil, v); err != nil {
		t.Fatalf("re-encode depth %d: %v", MaxDepth, err)
	}
	if _, _, err := Decode0(nest(MaxDepth + 1)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("depth %d: error %v, want ErrTooDeep", MaxDepth+1, err)
	}
}

// A reference placed deep inside other containers counts the depth of what it
// refers to, so the decoded tree never exceeds MaxDepth.
func TestAMF0ReferenceDepth(t *testing.T) {
	// [ [[...40 levels...null]], [[...30 levels... ref 1]] ]
	var b []byte
	b = append(b, 0x0a, 0, 0, 0, 2)
	for range 40 {
		b = append(b, 0x0a, 0, 0, 0, 1)
	}
	b = append(b, 0x05)
	for range 30 {
		b = append(b, 0x0a, 0, 0, 0, 1)
	}
	b = append(b, 0x07, 0x00, 0x01)
	if _, _, err := Decode0(b); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("error %v, want ErrTooDeep", err)
	}
}

// Doubling references: each object holds two references to the previous one.
// The input is tiny but its expansion is exponential, which must be refused.
func TestAMF0ReferenceExpansionLimit(t *testing.T) {
	b := []byte{0x0a, 0, 0, 0, 40, 0x03, 0, 1, 'x', 0x02, 0x03, 0xe8}
	b = append(b, bytes.Repeat([]byte{'s'}, 1000)...)
	b = append(b, 0, 0, 9)
	for i := 1; i < 40; i++ {
		b = append(b, 0x03, 0, 1, 'a', 0x07, 0, byte(i), 0, 1, 'b', 0x07, 0, byte(i), 0, 0, 9)
	}
	_, _, err := Decode0(b)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
}

func TestAMF0HugeCountsAllocateLittle(t *testing.T) {
	inputs := []string{
		"0a ffffffff 05 05 05",
		"08 ffffffff 0001 61 05",
		"03 ffff 41",
		"0c ffffffff 41",
		"11 09 ffffffff 01",
	}
	for _, in := range inputs {
		b := unhex(t, in)
		allocs := testing.AllocsPerRun(10, func() { _, _, _ = Decode0(b) })
		if allocs > 20 {
			t.Errorf("%s: %v allocations", in, allocs)
		}
	}
}

func TestDecodeAll0(t *testing.T) {
	b := unhex(t, "02 0004 706c6179 00 4010000000000000 05 02 000a 6c69766573747265616d")
	got, err := DecodeAll0(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"play", 4.0, nil, "livestream"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeAll0 = %#v, want %#v", got, want)
	}
	if _, err := DecodeAll0(b[:len(b)-1]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: error %v, want ErrTruncated", err)
	}
	enc, err := AppendAll0(nil, want...)
	if err != nil || !bytes.Equal(enc, b) {
		t.Fatalf("AppendAll0 = %x, %v; want %x", enc, err, b)
	}
	if vs, err := DecodeAll0(nil); err != nil || len(vs) != 0 {
		t.Fatalf("DecodeAll0(nil) = %v, %v", vs, err)
	}
	if _, err := AppendAll0(nil, "ok", make(chan int)); err == nil || !strings.Contains(err.Error(), "value 1") {
		t.Fatalf("AppendAll0 error %v, want one naming value 1", err)
	}
}

func TestDecodeAll0SharesReferences(t *testing.T) {
	// Second value refers to the object of the first.
	b := unhex(t, "03 0001 61 05 000009 07 0000")
	got, err := DecodeAll0(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{Object{{"a", nil}}, Object{{"a", nil}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
}

func TestObjectHelpers(t *testing.T) {
	o := Object{{"s", "str"}, {"n", 2.5}, {"i", int32(7)}, {"b", true}, {"s", "second"}}
	if v, ok := o.String("s"); !ok || v != "str" {
		t.Errorf("String(s) = %q, %v", v, ok)
	}
	if _, ok := o.String("n"); ok {
		t.Error("String(n) ok for a number")
	}
	if v, ok := o.Number("n"); !ok || v != 2.5 {
		t.Errorf("Number(n) = %v, %v", v, ok)
	}
	if v, ok := o.Number("i"); !ok || v != 7 {
		t.Errorf("Number(i) = %v, %v", v, ok)
	}
	if _, ok := o.Number("s"); ok {
		t.Error("Number(s) ok for a string")
	}
	if v, ok := o.Bool("b"); !ok || !v {
		t.Errorf("Bool(b) = %v, %v", v, ok)
	}
	if _, ok := o.Get("missing"); ok {
		t.Error("Get(missing) ok")
	}
	o.Set("s", "replaced")
	o.Set("new", 1.0)
	if v, _ := o.String("s"); v != "replaced" {
		t.Errorf("after Set, s = %q", v)
	}
	if o[4].Value != "second" {
		t.Errorf("Set changed a later duplicate: %#v", o[4])
	}
	if len(o) != 6 || o[5].Key != "new" {
		t.Errorf("Set did not append: %#v", o)
	}

	a := ECMAArray{{"duration", 0.0}, {"encoder", "Lavf"}, {"stereo", true}}
	a.Set("duration", 12.5)
	if v, ok := a.Number("duration"); !ok || v != 12.5 {
		t.Errorf("ECMAArray Number = %v, %v", v, ok)
	}
	if v, ok := a.String("encoder"); !ok || v != "Lavf" {
		t.Errorf("ECMAArray String = %v, %v", v, ok)
	}
	if v, ok := a.Bool("stereo"); !ok || !v {
		t.Errorf("ECMAArray Bool = %v, %v", v, ok)
	}
	if _, ok := a.Get("nope"); ok {
		t.Error("ECMAArray Get(nope) ok")
	}
	var empty ECMAArray
	empty.Set("x", nil)
	if len(empty) != 1 {
		t.Errorf("Set on nil array: %#v", empty)
	}

	o3 := Object3{Sealed: Object{{"a", 1.0}}, DynamicProps: Object{{"a", 2.0}, {"b", 3.0}}}
	if v, _ := o3.Get("a"); v != 1.0 {
		t.Errorf("Object3.Get prefers sealed: got %v", v)
	}
	if v, _ := o3.Get("b"); v != 3.0 {
		t.Errorf("Object3.Get dynamic: got %v", v)
	}
}
