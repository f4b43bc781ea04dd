package amf

import "fmt"

// AMF0 type markers (AMF0 spec §2.1).
const (
	marker0Number      = 0x00
	marker0Boolean     = 0x01
	marker0String      = 0x02
	marker0Object      = 0x03
	marker0MovieClip   = 0x04 // reserved, not supported
	marker0Null        = 0x05
	marker0Undefined   = 0x06
	marker0Reference   = 0x07
	marker0ECMAArray   = 0x08
	marker0ObjectEnd   = 0x09
	marker0StrictArray = 0x0A
	marker0Date        = 0x0B
	marker0LongString  = 0x0C
	marker0Unsupported = 0x0D
	marker0RecordSet   = 0x0E // reserved, not supported
	marker0XMLDocument = 0x0F
	marker0TypedObject = 0x10
	marker0AVMPlus     = 0x11 // the value that follows is AMF3
)

// Decode0 decodes one AMF0 value from the start of b and reports how many
// bytes it used. References resolve within this value only.
func Decode0(b []byte) (v any, n int, err error) {
	r := reader{b: b}
	d := decoder0{r: &r}
	v, err = d.value()
	if err != nil {
		return nil, 0, err
	}
	return v, r.pos, nil
}

// DecodeAll0 decodes AMF0 values until b is used up, as in an RTMP command
// or data message body. The values share one reference table, since they
// form one message.
func DecodeAll0(b []byte) ([]any, error) {
	r := reader{b: b}
	d := decoder0{r: &r}
	var vs []any
	for r.remaining() > 0 {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// decoder0 decodes AMF0 values; refs is the table of complex values (objects,
// typed objects, ECMA and strict arrays) in order of appearance (§2.9).
type decoder0 struct {
	r    *reader
	refs []ref
}

func (d *decoder0) fail(what string, off int, err error) error {
	return &DecodeError{Format: "amf0", What: what, Offset: off, Err: err}
}

func (d *decoder0) value() (any, error) {
	start := d.r.pos
	m, ok := d.r.u8()
	if !ok {
		return nil, d.fail("type marker", start, ErrTruncated)
	}
	switch m {
	case marker0Number:
		f, ok := d.r.f64()
		if !ok {
			return nil, d.fail("number", start, ErrTruncated)
		}
		return f, nil
	case marker0Boolean:
		c, ok := d.r.u8()
		if !ok {
			return nil, d.fail("boolean", start, ErrTruncated)
		}
		return c != 0, nil
	case marker0String:
		return d.shortString("string", start)
	case marker0LongString:
		s, err := d.longString("long string", start)
		return s, err
	case marker0XMLDocument:
		s, err := d.longString("xml document", start)
		return XML(s), err
	case marker0Null:
		return nil, nil
	case marker0Undefined:
		return Undefined{}, nil
	case marker0Unsupported:
		return Unsupported{}, nil
	case marker0Date:
		ms, ok := d.r.f64()
		tz, ok2 := d.r.u16()
		if !ok || !ok2 {
			return nil, d.fail("date", start, ErrTruncated)
		}
		return Date{Millis: ms, TZ: int16(tz)}, nil
	case marker0Reference:
		return d.reference(start)
	case marker0Object, marker0ECMAArray, marker0StrictArray, marker0TypedObject:
		return d.complex(m, start)
	case marker0AVMPlus:
		// Each switch to AMF3 starts with fresh AMF3 reference tables.
		d3 := decoder3{r: d.r}
		return d3.value()
	}
	return nil, d.fail("value", start, fmt.Errorf("%w 0x%02x", ErrBadMarker, m))
}

func (d *decoder0) shortString(what string, start int) (string, error) {
	n, ok := d.r.u16()
	if !ok {
		return "", d.fail(what+" length", start, ErrTruncated)
	}
	p, ok := d.r.take(int(n))
	if !ok {
		return "", d.fail(what, start, fmt.Errorf("%w: %d bytes declared, %d left", ErrTruncated, n, d.r.remaining()))
	}
	return string(p), nil
}

func (d *decoder0) longString(what string, start int) (string, error) {
	n, ok := d.r.u32()
	if !ok {
		return "", d.fail(what+" length", start, ErrTruncated)
	}
	if int64(n) > int64(d.r.remaining()) {
		return "", d.fail(what, start, fmt.Errorf("%w: %d bytes declared, %d left", ErrTruncated, n, d.r.remaining()))
	}
	p, _ := d.r.take(int(n))
	return string(p), nil
}

func (d *decoder0) reference(start int) (any, error) {
	idx, ok := d.r.u16()
	if !ok {
		return nil, d.fail("reference", start, ErrTruncated)
	}
	if int(idx) >= len(d.refs) {
		return nil, d.fail("reference", start, fmt.Errorf("%w: index %d, %d complex values so far", ErrBadReference, idx, len(d.refs)))
	}
	e := d.refs[idx]
	if e.pending {
		return nil, d.fail("reference", start, fmt.Errorf("%w: index %d refers to a value that contains it", ErrBadReference, idx))
	}
	if err := d.r.expand(e.height, e.cost); err != nil {
		return nil, d.fail("reference", start, err)
	}
	return e.val, nil
}

// complex decodes a value that takes a slot in the reference table.
func (d *decoder0) complex(m byte, start int) (any, error) {
	idx := len(d.refs)
	d.refs = append(d.refs, ref{pending: true})
	s := d.r.beginSpan(start)
	if err := d.r.enter(); err != nil {
		return nil, d.fail(markerName0(m), start, err)
	}
	v, err := d.complexBody(m, start)
	d.r.leave()
	height, cost := d.r.endSpan(s)
	if err != nil {
		return nil, err
	}
	d.refs[idx] = ref{val: v, height: height, cost: cost}
	return v, nil
}

func (d *decoder0) complexBody(m byte, start int) (any, error) {
	switch m {
	case marker0Object:
		props, err := d.props("object", 0, false)
		return Object(props), err
	case marker0ECMAArray:
		count, ok := d.r.u32()
		if !ok {
			return nil, d.fail("ecma array count", start, ErrTruncated)
		}
		// The count is only a hint (the end marker terminates the array), and
		// some encoders omit the end marker of a top-level onMetaData array.
		props, err := d.props("ecma array", count, true)
		return ECMAArray(props), err
	case marker0TypedObject:
		class, err := d.shortString("typed object class name", start)
		if err != nil {
			return nil, err
		}
		props, err := d.props("typed object", 0, false)
		return TypedObject{Class: class, Props: props}, err
	default: // marker0StrictArray
		return d.strictArray(start)
	}
}

// props reads key/value pairs up to the object-end marker (an empty key
// followed by 0x09). With endOptional, the end of input also ends the list.
func (d *decoder0) props(what string, hint uint32, endOptional bool) ([]Property, error) {
	// Every property takes at least 3 bytes (key length and a marker).
	props := make([]Property, 0, min(int64(hint), int64(d.r.remaining()/3)))
	for {
		keyStart := d.r.pos
		if endOptional && d.r.remaining() == 0 {
			return props, nil
		}
		key, err := d.shortString(what+" key", keyStart)
		if err != nil {
			return nil, err
		}
		if key == "" && d.r.remaining() > 0 && d.r.b[d.r.pos] == marker0ObjectEnd {
			d.r.pos++
			return props, nil
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		props = append(props, Property{Key: key, Value: v})
	}
}

func (d *decoder0) strictArray(start int) ([]any, error) {
	count, ok := d.r.u32()
	if !ok {
		return nil, d.fail("strict array count", start, ErrTruncated)
	}
	// Every element takes at least one byte.
	if int64(count) > int64(d.r.remaining()) {
		return nil, d.fail("strict array", start, fmt.Errorf("%w: %d elements declared, %d bytes left", ErrTruncated, count, d.r.remaining()))
	}
	items := make([]any, 0, count)
	for range count {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return items, nil
}

func markerName0(m byte) string {
	switch m {
	case marker0Object:
		return "object"
	case marker0ECMAArray:
		return "ecma array"
	case marker0StrictArray:
		return "strict array"
	case marker0TypedObject:
		return "typed object"
	}
	return fmt.Sprintf("marker 0x%02x", m)
}
