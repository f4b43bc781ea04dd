package amf

import (
	"bytes"
	"fmt"
	"testing"
)

var amf0Seeds = []string{
	"00 3ff8000000000000", "01 01", "02 0003 616263", "03 0001 61 05 000009", "05", "06",
	"08 00000001 0001 61 01 01 000009", "0a 00000002 03 0001 61 05 000009 07 0001",
	"0b 4274aadbd4028000 0000", "0c 00000002 6869", "0d", "0f 00000001 78",
	"10 0003 466f6f 0001 78 05 000009", "11 0a 0b 01 03 61 04 01 01", "11 09 05 01 06 05 6162 06 00",
}

var amf3Seeds = []string{
	"04 bf ff ff ff", "05 3ff8000000000000", "06 07 616263", "07 09 3c612f3e", "08 01 0000000000000000",
	"09 03 03 6b 02 01 06 03 76", "0a 2b 03 50 03 61 03 62 01 03 03 63 06 03 7a 01",
	"09 05 01 0a 13 03 43 03 78 04 01 0a 01 04 02", "09 05 01 0a 0b 01 01 0a 02",
	"0b 09 3c612f3e", "0c 05 0102", "0d 05 00 ffffffff 00000001", "0e 03 00 ffffffff",
	"0f 03 00 3ff0000000000000", "10 05 00 01 04 01 06 03 61", "11 03 01 0a 0b 01 01 03",
	"0a 07 43 666c65782e6d6573736167696e672e696f2e4172726179436f6c6c656374696f6e 09 03 01 04 01",
	"0a 0f 43 666c65782e6d6573736167696e672e696f2e4172726179436f6c6c656374696f6e 01",
}

// FuzzDecode0 checks that decoding never panics and that whatever decodes
// re-encodes, decodes again to the same value, and reaches a fixed point.
func FuzzDecode0(f *testing.F) {
	for _, c := range captures {
		f.Add(unhex(f, c.hex))
	}
	for _, s := range amf0Seeds {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := Decode0(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		e1, err := Append0(nil, v)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", v, err)
		}
		v2, n2, err := Decode0(e1)
		if err != nil || n2 != len(e1) {
			t.Fatalf("decode re-encoded %x: n=%d err=%v", e1, n2, err)
		}
		if a, b := fmt.Sprintf("%#v", normalize0(v)), fmt.Sprintf("%#v", normalize0(v2)); a != b {
			t.Fatalf("round trip changed the value:\n%s\n%s", a, b)
		}
		e2, err := Append0(nil, v2)
		if err != nil || !bytes.Equal(e1, e2) {
			t.Fatalf("no fixed point: %x then %x (%v)", e1, e2, err)
		}
		if _, err := DecodeAll0(b[:n]); err != nil {
			t.Fatalf("DecodeAll0 fails on what Decode0 accepted: %v", err)
		}
	})
}

// normalize0 maps the AMF3 leaves that the AMF0 encoder writes as AMF0
// (int32 as number, XMLDocument as XML) to what decoding that gives back.
func normalize0(v any) any {
	switch x := v.(type) {
	case int32:
		return float64(x)
	case XMLDocument:
		return XML(x)
	case Object:
		return Object(normalizeProps0(x))
	case ECMAArray:
		return ECMAArray(normalizeProps0(x))
	case TypedObject:
		return TypedObject{Class: x.Class, Props: normalizeProps0(x.Props)}
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = normalize0(it)
		}
		return out
	}
	return v
}

func normalizeProps0(props []Property) []Property {
	out := make([]Property, len(props))
	for i, p := range props {
		out[i] = Property{Key: p.Key, Value: normalize0(p.Value)}
	}
	return out
}

// FuzzDecode3 checks that decoding never panics and that AMF3 round-trips
// exactly: decode, encode, decode gives the same value.
func FuzzDecode3(f *testing.F) {
	for _, s := range amf3Seeds {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := Decode3(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		e1, err := Append3(nil, v)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", v, err)
		}
		v2, n2, err := Decode3(e1)
		if err != nil || n2 != len(e1) {
			t.Fatalf("decode re-encoded %x: n=%d err=%v", e1, n2, err)
		}
		if a, b := fmt.Sprintf("%#v", v), fmt.Sprintf("%#v", v2); a != b {
			t.Fatalf("round trip changed the value:\n%s\n%s", a, b)
		}
		// The same bytes through AMF0's avmplus marker decode identically.
		v3, _, err := Decode0(append([]byte{marker0AVMPlus}, b[:n]...))
		if err != nil || fmt.Sprintf("%#v", v3) != fmt.Sprintf("%#v", v) {
			t.Fatalf("via avmplus: %#v, %v", v3, err)
		}
	})
}
