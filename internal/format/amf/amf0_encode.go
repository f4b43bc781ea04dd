package amf

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
)

// Append0 appends the AMF0 encoding of v to dst. See the package comment for
// the Go types it accepts. On error dst is returned unchanged.
func Append0(dst []byte, v any) ([]byte, error) {
	out, err := append0(dst, v, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendAll0 appends the AMF0 encodings of vs, one after the other, as in an
// RTMP command body. On error dst is returned unchanged.
func AppendAll0(dst []byte, vs ...any) ([]byte, error) {
	out := dst
	for i, v := range vs {
		var err error
		if out, err = append0(out, v, 0); err != nil {
			return dst, fmt.Errorf("value %d: %w", i, err)
		}
	}
	return out, nil
}

func encodeErr0(what string, err error) error {
	return fmt.Errorf("amf0: encode %s: %w", what, err)
}

func append0(dst []byte, v any, depth int) ([]byte, error) {
	if f, ok := toFloat64(v); ok {
		return appendNumber0(dst, f), nil
	}
	switch x := v.(type) {
	case nil:
		return append(dst, marker0Null), nil
	case Undefined:
		return append(dst, marker0Undefined), nil
	case Unsupported:
		return append(dst, marker0Unsupported), nil
	case bool:
		b := byte(0)
		if x {
			b = 1
		}
		return append(dst, marker0Boolean, b), nil
	case string:
		if len(x) > math.MaxUint16 {
			return appendLong0(append(dst, marker0LongString), x)
		}
		return appendShort0(append(dst, marker0String), x), nil
	case XML:
		return appendLong0(append(dst, marker0XMLDocument), string(x))
	case XMLDocument:
		return appendLong0(append(dst, marker0XMLDocument), string(x))
	case Date:
		return appendDate0(dst, x), nil
	case time.Time:
		return appendDate0(dst, Date{Millis: float64(x.UnixMilli())}), nil
	case Object:
		return appendProps0(append(dst, marker0Object), x, depth)
	case []Property:
		return appendProps0(append(dst, marker0Object), x, depth)
	case map[string]any:
		return appendProps0(append(dst, marker0Object), sortedProps(x), depth)
	case ECMAArray:
		if uint64(len(x)) > math.MaxUint32 {
			return nil, encodeErr0("ecma array", ErrTooLarge)
		}
		dst = binary.BigEndian.AppendUint32(append(dst, marker0ECMAArray), uint32(len(x)))
		return appendProps0(dst, x, depth)
	case TypedObject:
		if len(x.Class) > math.MaxUint16 {
			return nil, encodeErr0("typed object class name", ErrTooLarge)
		}
		dst = appendShort0(append(dst, marker0TypedObject), x.Class)
		return appendProps0(dst, x.Props, depth)
	case []any:
		return appendStrictArray0(dst, x, depth)
	case Object3, Array3, []byte, []int32, []uint32, []float64, VectorObject, Dictionary:
		return append3(append(dst, marker0AVMPlus), v, depth)
	}
	return nil, encodeErr0(fmt.Sprintf("value of type %T", v), ErrUnsupported)
}

func appendNumber0(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, marker0Number), math.Float64bits(f))
}

func appendDate0(dst []byte, d Date) []byte {
	dst = binary.BigEndian.AppendUint64(append(dst, marker0Date), math.Float64bits(d.Millis))
	return binary.BigEndian.AppendUint16(dst, uint16(d.TZ))
}

// appendShort0 writes a UTF-8 string with a 16-bit length; the caller checks
// that it fits.
func appendShort0(dst []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(dst, uint16(len(s))), s...)
}

func appendLong0(dst []byte, s string) ([]byte, error) {
	if uint64(len(s)) > math.MaxUint32 {
		return nil, encodeErr0("long string", ErrTooLarge)
	}
	return append(binary.BigEndian.AppendUint32(dst, uint32(len(s))), s...), nil
}

// appendProps0 writes properties and the object-end marker.
func appendProps0(dst []byte, props []Property, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return nil, encodeErr0("object", ErrTooDeep)
	}
	var err error
	for _, p := range props {
		if len(p.Key) > math.MaxUint16 {
			return nil, encodeErr0(fmt.Sprintf("property key of %d bytes", len(p.Key)), ErrTooLarge)
		}
		dst = appendShort0(dst, p.Key)
		if dst, err = append0(dst, p.Value, depth+1); err != nil {
			return nil, err
		}
	}
	return append(dst, 0, 0, marker0ObjectEnd), nil
}

func appendStrictArray0(dst []byte, items []any, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return nil, encodeErr0("strict array", ErrTooDeep)
	}
	if uint64(len(items)) > math.MaxUint32 {
		return nil, encodeErr0("strict array", ErrTooLarge)
	}
	dst = binary.BigEndian.AppendUint32(append(dst, marker0StrictArray), uint32(len(items)))
	var err error
	for _, it := range items {
		if dst, err = append0(dst, it, depth+1); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// sortedProps turns a map into properties in key order, so output is stable.
func sortedProps(m map[string]any) []Property {
	props := make([]Property, 0, len(m))
	for k, v := range m {
		props = append(props, Property{Key: k, Value: v})
	}
	slices.SortFunc(props, func(a, b Property) int { return cmp.Compare(a.Key, b.Key) })
	return props
}

// toFloat64 converts any Go number type to the float64 AMF numbers hold.
func toFloat64(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}
