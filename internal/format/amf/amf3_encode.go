package amf

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Limits of the AMF3 wire format: lengths and counts travel in a U29 with one
// flag bit, integers are 29-bit signed.
const (
	maxU29       = 1<<29 - 1
	maxLength3   = 1<<28 - 1
	minInteger3  = -1 << 28
	maxInteger3  = 1<<28 - 1
	maxSealed3   = 1<<25 - 1
	traitsInline = 0x03 // inline object with inline traits
	traitsExt    = 0x04 // externalizable flag, shifted into U29O-traits
	traitsDyn    = 0x08 // dynamic flag, shifted into U29O-traits
)

// Append3 appends the AMF3 encoding of v to dst. Values are written inline
// (no references). Go integers within the 29-bit range are written as AMF3
// integers and other numbers as doubles; float64 is always a double.
// Unsupported, which AMF3 lacks, is written as undefined. On error dst is
// returned unchanged.
func Append3(dst []byte, v any) ([]byte, error) {
	out, err := append3(dst, v, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func encodeErr3(what string, err error) error {
	return fmt.Errorf("amf3: encode %s: %w", what, err)
}

func append3(dst []byte, v any, depth int) ([]byte, error) {
	if i, ok := toInt64(v); ok {
		if i >= minInteger3 && i <= maxInteger3 {
			return appendU29(append(dst, marker3Integer), uint32(i)&maxU29), nil
		}
		return appendDouble3(dst, float64(i)), nil
	}
	if f, ok := toFloat64(v); ok { // float64, float32 and uint64 beyond int64
		return appendDouble3(dst, f), nil
	}
	switch x := v.(type) {
	case nil:
		return append(dst, marker3Null), nil
	case Undefined, Unsupported:
		return append(dst, marker3Undefined), nil
	case bool:
		if x {
			return append(dst, marker3True), nil
		}
		return append(dst, marker3False), nil
	case string:
		return appendStr3(append(dst, marker3String), x)
	case XML:
		return appendBytes3(append(dst, marker3XML), "xml", string(x))
	case XMLDocument:
		return appendBytes3(append(dst, marker3XMLDocument), "xml document", string(x))
	case []byte:
		return appendBytes3(append(dst, marker3ByteArray), "byte array", string(x))
	case Date:
		return appendDate3(dst, x.Millis), nil
	case time.Time:
		return appendDate3(dst, float64(x.UnixMilli())), nil
	case Object:
		return appendObject3(dst, Object3{Dynamic: true, DynamicProps: x}, depth)
	case []Property:
		return appendObject3(dst, Object3{Dynamic: true, DynamicProps: x}, depth)
	case map[string]any:
		return appendObject3(dst, Object3{Dynamic: true, DynamicProps: sortedProps(x)}, depth)
	case TypedObject:
		return appendObject3(dst, Object3{Class: x.Class, Sealed: x.Props}, depth)
	case Object3:
		return appendObject3(dst, x, depth)
	case ECMAArray:
		return appendArray3(dst, Array3{Assoc: Object(x)}, depth)
	case []any:
		return appendArray3(dst, Array3{Dense: x}, depth)
	case Array3:
		return appendArray3(dst, x, depth)
	case []int32:
		return appendNumberVector3(dst, marker3VectorInt, len(x), 4, func(p []byte, i int) {
			binary.BigEndian.PutUint32(p, uint32(x[i]))
		})
	case []uint32:
		return appendNumberVector3(dst, marker3VectorUint, len(x), 4, func(p []byte, i int) {
			binary.BigEndian.PutUint32(p, x[i])
		})
	case []float64:
		return appendNumberVector3(dst, marker3VectorDouble, len(x), 8, func(p []byte, i int) {
			binary.BigEndian.PutUint64(p, math.Float64bits(x[i]))
		})
	case VectorObject:
		return appendObjectVector3(dst, x, depth)
	case Dictionary:
		return appendDictionary3(dst, x, depth)
	}
	return nil, encodeErr3(fmt.Sprintf("value of type %T", v), ErrUnsupported)
}

// appendU29 writes v (at most maxU29) in the variable-length form of §1.3.1.
func appendU29(dst []byte, v uint32) []byte {
	switch {
	case v < 1<<7:
		return append(dst, byte(v))
	case v < 1<<14:
		return append(dst, byte(v>>7)|0x80, byte(v&0x7f))
	case v < 1<<21:
		return append(dst, byte(v>>14)|0x80, byte(v>>7)|0x80, byte(v&0x7f))
	}
	return append(dst, byte(v>>22)|0x80, byte(v>>15)|0x80, byte(v>>8)|0x80, byte(v))
}

// appendLengthU29 writes a length or count with the inline flag set.
func appendLengthU29(dst []byte, what string, n int) ([]byte, error) {
	if n > maxLength3 {
		return nil, encodeErr3(fmt.Sprintf("%s of length %d", what, n), ErrTooLarge)
	}
	return appendU29(dst, uint32(n)<<1|1), nil
}

func appendDouble3(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, marker3Double), math.Float64bits(f))
}

func appendDate3(dst []byte, millis float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, marker3Date, 0x01), math.Float64bits(millis))
}

// appendStr3 writes UTF-8-vr, always inline.
func appendStr3(dst []byte, s string) ([]byte, error) {
	dst, err := appendLengthU29(dst, "string", len(s))
	if err != nil {
		return nil, err
	}
	return append(dst, s...), nil
}

func appendBytes3(dst []byte, what, s string) ([]byte, error) {
	dst, err := appendLengthU29(dst, what, len(s))
	if err != nil {
		return nil, err
	}
	return append(dst, s...), nil
}

func appendObject3(dst []byte, o Object3, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return nil, encodeErr3("object", ErrTooDeep)
	}
	dst = append(dst, marker3Object)
	var err error
	if o.Externalizable {
		if o.Class != ClassArrayCollection && o.Class != ClassObjectProxy {
			return nil, encodeErr3(fmt.Sprintf("externalizable class %q", o.Class), ErrUnsupported)
		}
		dst = appendU29(dst, traitsInline|traitsExt)
		if dst, err = appendStr3(dst, o.Class); err != nil {
			return nil, err
		}
		return append3(dst, o.External, depth+1)
	}
	if len(o.Sealed) > maxSealed3 {
		return nil, encodeErr3("object sealed members", ErrTooLarge)
	}
	dynamic := o.Dynamic || len(o.DynamicProps) > 0
	info := uint32(traitsInline) | uint32(len(o.Sealed))<<4
	if dynamic {
		info |= traitsDyn
	}
	dst = appendU29(dst, info)
	if dst, err = appendStr3(dst, o.Class); err != nil {
		return nil, err
	}
	for _, p := range o.Sealed {
		if dst, err = appendStr3(dst, p.Key); err != nil {
			return nil, err
		}
	}
	for _, p := range o.Sealed {
		if dst, err = append3(dst, p.Value, depth+1); err != nil {
			return nil, err
		}
	}
	if !dynamic {
		return dst, nil
	}
	if dst, err = appendAssoc3(dst, "object dynamic property", o.DynamicProps, depth); err != nil {
		return nil, err
	}
	return dst, nil
}

// appendAssoc3 writes name/value pairs closed by the empty string, the form
// of dynamic members and of an array's associative part.
func appendAssoc3(dst []byte, what string, props []Property, depth int) ([]byte, error) {
	var err error
	for _, p := range props {
		if p.Key == "" {
			return nil, encodeErr3(what+" with an empty name", ErrUnsupported)
		}
		if dst, err = appendStr3(dst, p.Key); err != nil {
			return nil, err
		}
		if dst, err = append3(dst, p.Value, depth+1); err != nil {
			return nil, err
		}
	}
	return append(dst, 0x01), nil // UTF-8-empty
}

func appendArray3(dst []byte, a Array3, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return nil, encodeErr3("array", ErrTooDeep)
	}
	dst, err := appendLengthU29(append(dst, marker3Array), "array", len(a.Dense))
	if err != nil {
		return nil, err
	}
	if dst, err = appendAssoc3(dst, "array key", a.Assoc, depth); err != nil {
		return nil, err
	}
	for _, v := range a.Dense {
		if dst, err = append3(dst, v, depth+1); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// appendNumberVector3 writes a Vector.<int|uint|Number>, marked not fixed.
func appendNumberVector3(dst []byte, m byte, n, size int, put func(p []byte, i int)) ([]byte, error) {
	dst, err := appendLengthU29(append(dst, m), markerName3(m), n)
	if err != nil {
		return nil, err
	}
	dst = append(dst, 0) // fixed-length flag
	start := len(dst)
	dst = append(dst, make([]byte, n*size)...)
	for i := range n {
		put(dst[start+i*size:], i)
	}
	return dst, nil
}

func appendObjectVector3(dst []byte, vec VectorObject, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return nil, encodeErr3("object vector", ErrTooDeep)
	}
	dst, err := appendLengthU29(append(dst, marker3VectorObject), "object vector", len(vec.Items))
	if err != nil {
		return nil, err
	}
	dst = append(dst, boolByte(vec.Fixed))
	if dst, err = appendStr3(dst, vec.Type); err != nil {
		return nil, err
	}
	for _, v := range vec.Items {
		if dst, err = append3(dst, v, depth+1); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func appendDictionary3(dst []byte, dict Dictionary, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return nil, encodeErr3("dictionary", ErrTooDeep)
	}
	dst, err := appendLengthU29(append(dst, marker3Dictionary), "dictionary", len(dict.Entries))
	if err != nil {
		return nil, err
	}
	dst = append(dst, boolByte(dict.WeakKeys))
	for _, e := range dict.Entries {
		if dst, err = append3(dst, e.Key, depth+1); err != nil {
			return nil, err
		}
		if dst, err = append3(dst, e.Value, depth+1); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// toInt64 converts Go integer types (not floats) for the AMF3 integer check.
func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return int64(n), n <= math.MaxInt64
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), n <= math.MaxInt64
	}
	return 0, false
}
