package amf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// AMF3 type markers (AMF3 spec §3.1).
const (
	marker3Undefined    = 0x00
	marker3Null         = 0x01
	marker3False        = 0x02
	marker3True         = 0x03
	marker3Integer      = 0x04
	marker3Double       = 0x05
	marker3String       = 0x06
	marker3XMLDocument  = 0x07
	marker3Date         = 0x08
	marker3Array        = 0x09
	marker3Object       = 0x0A
	marker3XML          = 0x0B
	marker3ByteArray    = 0x0C
	marker3VectorInt    = 0x0D
	marker3VectorUint   = 0x0E
	marker3VectorDouble = 0x0F
	marker3VectorObject = 0x10
	marker3Dictionary   = 0x11
)

// Flex classes whose externalized form is a single AMF3 value (their source
// collection or object), the only externalizable classes this package reads.
const (
	ClassArrayCollection = "flex.messaging.io.ArrayCollection"
	ClassObjectProxy     = "flex.messaging.io.ObjectProxy"
)

// Decode3 decodes one AMF3 value from the start of b with fresh reference
// tables and reports how many bytes it used.
func Decode3(b []byte) (v any, n int, err error) {
	var d Decoder
	return d.Decode(b)
}

// Decoder decodes a sequence of AMF3 values whose string, object and traits
// reference tables carry over from one value to the next, as in the output of
// successive ByteArray.writeObject calls. The zero value is ready to use.
// RTMP messages do not share tables; use Decode3 or Decode0 for them.
type Decoder struct {
	d decoder3
}

// Decode decodes the next AMF3 value from the start of b. On error the
// reference tables are left as they were before the call.
func (dec *Decoder) Decode(b []byte) (v any, n int, err error) {
	r := reader{b: b}
	d := &dec.d
	d.r = &r
	ns, no, nt := len(d.strs), len(d.objs), len(d.traits)
	v, err = d.value()
	d.r = nil
	if err != nil {
		clear(d.strs[ns:])
		clear(d.objs[no:])
		clear(d.traits[nt:])
		d.strs, d.objs, d.traits = d.strs[:ns], d.objs[:no], d.traits[:nt]
		return nil, 0, err
	}
	return v, r.pos, nil
}

// Reset empties the reference tables.
func (dec *Decoder) Reset() { dec.d = decoder3{} }

// traits3 describes the members of a class of AMF3 objects (§3.12).
type traits3 struct {
	class    string
	external bool
	dynamic  bool
	names    []string
	cost     int // bytes the traits take when written inline
}

// decoder3 decodes AMF3 values with the three reference tables of §2.2.
type decoder3 struct {
	r      *reader
	strs   []string
	objs   []ref
	traits []traits3
}

func (d *decoder3) fail(what string, off int, err error) error {
	return &DecodeError{Format: "amf3", What: what, Offset: off, Err: err}
}

func (d *decoder3) value() (any, error) {
	start := d.r.pos
	m, ok := d.r.u8()
	if !ok {
		return nil, d.fail("type marker", start, ErrTruncated)
	}
	switch m {
	case marker3Undefined:
		return Undefined{}, nil
	case marker3Null:
		return nil, nil
	case marker3False:
		return false, nil
	case marker3True:
		return true, nil
	case marker3Integer:
		u, err := d.u29("integer", start)
		if err != nil {
			return nil, err
		}
		// Sign-extend the 29-bit two's complement value.
		return int32(u<<3) >> 3, nil
	case marker3Double:
		f, ok := d.r.f64()
		if !ok {
			return nil, d.fail("double", start, ErrTruncated)
		}
		return f, nil
	case marker3String:
		return d.str("string")
	case marker3XMLDocument, marker3Date, marker3Array, marker3Object, marker3XML, marker3ByteArray,
		marker3VectorInt, marker3VectorUint, marker3VectorDouble, marker3VectorObject, marker3Dictionary:
		return d.complex(m, start)
	}
	return nil, d.fail("value", start, fmt.Errorf("%w 0x%02x", ErrBadMarker, m))
}

// u29 reads the variable-length unsigned 29-bit integer of §1.3.1: up to
// three bytes of 7 bits with a continuation flag, then one byte of 8 bits.
func (d *decoder3) u29(what string, start int) (uint32, error) {
	var v uint32
	for i := range 4 {
		c, ok := d.r.u8()
		if !ok {
			return 0, d.fail(what, start, ErrTruncated)
		}
		if i == 3 {
			return v<<8 | uint32(c), nil
		}
		v = v<<7 | uint32(c&0x7f)
		if c&0x80 == 0 {
			break
		}
	}
	return v, nil
}

// str reads UTF-8-vr: an inline string or a reference to an earlier one.
// Empty strings are never stored in or sent by reference (§1.3.2).
func (d *decoder3) str(what string) (string, error) {
	start := d.r.pos
	h, err := d.u29(what, start)
	if err != nil {
		return "", err
	}
	if h&1 == 0 {
		idx := h >> 1
		if int64(idx) >= int64(len(d.strs)) {
			return "", d.fail(what, start, fmt.Errorf("%w: string %d, %d in table", ErrBadReference, idx, len(d.strs)))
		}
		s := d.strs[idx]
		if err := d.r.expand(0, len(s)); err != nil {
			return "", d.fail(what, start, err)
		}
		return s, nil
	}
	n := int(h >> 1)
	p, ok := d.r.take(n)
	if !ok {
		return "", d.fail(what, start, fmt.Errorf("%w: %d bytes declared, %d left", ErrTruncated, n, d.r.remaining()))
	}
	if n == 0 {
		return "", nil
	}
	if len(d.strs) >= maxTableEntries {
		return "", d.fail(what, start, fmt.Errorf("%w: string table full", ErrTooLarge))
	}
	s := string(p)
	d.strs = append(d.strs, s)
	return s, nil
}

// complex decodes a value that is sent inline or as an object reference.
func (d *decoder3) complex(m byte, start int) (any, error) {
	what := markerName3(m)
	h, err := d.u29(what, start)
	if err != nil {
		return nil, err
	}
	if h&1 == 0 {
		return d.objectRef(what, h>>1, start)
	}
	if len(d.objs) >= maxTableEntries {
		return nil, d.fail(what, start, fmt.Errorf("%w: object table full", ErrTooLarge))
	}
	idx := len(d.objs)
	d.objs = append(d.objs, ref{pending: true})
	s := d.r.beginSpan(start)
	container := m == marker3Array || m == marker3Object || m == marker3VectorObject || m == marker3Dictionary
	if container {
		if err := d.r.enter(); err != nil {
			return nil, d.fail(what, start, err)
		}
	}
	v, err := d.complexBody(m, h>>1, start)
	if container {
		d.r.leave()
	}
	height, cost := d.r.endSpan(s)
	if err != nil {
		return nil, err
	}
	d.objs[idx] = ref{val: v, height: height, cost: cost}
	return v, nil
}

func (d *decoder3) objectRef(what string, idx uint32, start int) (any, error) {
	if int64(idx) >= int64(len(d.objs)) {
		return nil, d.fail(what, start, fmt.Errorf("%w: object %d, %d in table", ErrBadReference, idx, len(d.objs)))
	}
	e := d.objs[idx]
	if e.pending {
		return nil, d.fail(what, start, fmt.Errorf("%w: object %d refers to a value that contains it", ErrBadReference, idx))
	}
	if err := d.r.expand(e.height, e.cost); err != nil {
		return nil, d.fail(what, start, err)
	}
	return e.val, nil
}

// complexBody decodes what follows the inline flag; info is the U29 without
// that flag (a length, a count or traits information depending on m).
func (d *decoder3) complexBody(m byte, info uint32, start int) (any, error) {
	switch m {
	case marker3XMLDocument:
		s, err := d.bytes("xml document", info, start)
		return XMLDocument(s), err
	case marker3XML:
		s, err := d.bytes("xml", info, start)
		return XML(s), err
	case marker3ByteArray:
		p, err := d.bytes("byte array", info, start)
		return []byte(p), err
	case marker3Date:
		ms, ok := d.r.f64()
		if !ok {
			return nil, d.fail("date", start, ErrTruncated)
		}
		return Date{Millis: ms}, nil
	case marker3Array:
		return d.array(info, start)
	case marker3Object:
		return d.object(info, start)
	case marker3VectorInt, marker3VectorUint, marker3VectorDouble:
		return d.numberVector(m, info, start)
	case marker3VectorObject:
		return d.objectVector(info, start)
	default: // marker3Dictionary
		return d.dictionary(info, start)
	}
}

// bytes reads n raw bytes into a string, which copies them out of the input.
func (d *decoder3) bytes(what string, n uint32, start int) (string, error) {
	p, ok := d.r.take(int(n))
	if !ok {
		return "", d.fail(what, start, fmt.Errorf("%w: %d bytes declared, %d left", ErrTruncated, n, d.r.remaining()))
	}
	return string(p), nil
}

// checkCount rejects a count of items of at least size bytes each that
// cannot fit in the rest of the input, before anything is allocated.
func (d *decoder3) checkCount(what string, count uint32, size int, start int) error {
	if int64(count)*int64(size) > int64(d.r.remaining()) {
		return d.fail(what, start, fmt.Errorf("%w: %d items declared, %d bytes left", ErrTruncated, count, d.r.remaining()))
	}
	return nil
}

func (d *decoder3) array(denseCount uint32, start int) (Array3, error) {
	var a Array3
	for {
		key, err := d.str("array key")
		if err != nil {
			return a, err
		}
		if key == "" {
			break
		}
		v, err := d.value()
		if err != nil {
			return a, err
		}
		a.Assoc = append(a.Assoc, Property{Key: key, Value: v})
	}
	if err := d.checkCount("array", denseCount, 1, start); err != nil {
		return a, err
	}
	a.Dense = make([]any, 0, denseCount)
	for range denseCount {
		v, err := d.value()
		if err != nil {
			return a, err
		}
		a.Dense = append(a.Dense, v)
	}
	return a, nil
}

func (d *decoder3) object(info uint32, start int) (Object3, error) {
	t, err := d.readTraits(info, start)
	if err != nil {
		return Object3{}, err
	}
	o := Object3{Class: t.class, Dynamic: t.dynamic}
	if t.external {
		if t.class != ClassArrayCollection && t.class != ClassObjectProxy {
			return o, d.fail("object", start, fmt.Errorf("%w: externalizable class %q", ErrUnsupported, t.class))
		}
		o.Externalizable = true
		o.External, err = d.value()
		return o, err
	}
	if err := d.checkCount("object", uint32(len(t.names)), 1, start); err != nil {
		return o, err
	}
	if len(t.names) > 0 {
		o.Sealed = make(Object, 0, len(t.names))
	}
	for _, name := range t.names {
		v, err := d.value()
		if err != nil {
			return o, err
		}
		o.Sealed = append(o.Sealed, Property{Key: name, Value: v})
	}
	for t.dynamic {
		key, err := d.str("object dynamic key")
		if err != nil {
			return o, err
		}
		if key == "" {
			break
		}
		v, err := d.value()
		if err != nil {
			return o, err
		}
		o.DynamicProps = append(o.DynamicProps, Property{Key: key, Value: v})
	}
	return o, nil
}

// readTraits reads inline traits or a traits reference. info is the object's
// U29 without its inline-object flag: bit 0 set means inline traits, then
// bit 1 externalizable, bit 2 dynamic, and the sealed member count above.
func (d *decoder3) readTraits(info uint32, start int) (traits3, error) {
	if info&1 == 0 {
		idx := info >> 1
		if int64(idx) >= int64(len(d.traits)) {
			return traits3{}, d.fail("object traits", start, fmt.Errorf("%w: traits %d, %d in table", ErrBadReference, idx, len(d.traits)))
		}
		t := d.traits[idx]
		if err := d.r.expand(0, t.cost); err != nil {
			return traits3{}, d.fail("object traits", start, err)
		}
		return t, nil
	}
	pos, expanded := d.r.pos, d.r.expanded
	t := traits3{external: info&2 != 0, dynamic: info&4 != 0}
	count := info >> 3
	var err error
	if t.class, err = d.str("object class name"); err != nil {
		return t, err
	}
	if t.external {
		// The dynamic flag and sealed count mean nothing for externalizable
		// traits; drop them so the value re-encodes the same way.
		t.dynamic, count = false, 0
	}
	if err := d.checkCount("object traits", count, 1, start); err != nil {
		return t, err
	}
	if count > 0 {
		t.names = make([]string, 0, count)
	}
	for range count {
		name, err := d.str("object member name")
		if err != nil {
			return t, err
		}
		t.names = append(t.names, name)
	}
	if len(d.traits) >= maxTableEntries {
		return t, d.fail("object traits", start, fmt.Errorf("%w: traits table full", ErrTooLarge))
	}
	t.cost = (d.r.pos - pos) + (d.r.expanded - expanded) + 4
	d.traits = append(d.traits, t)
	return t, nil
}

func (d *decoder3) numberVector(m byte, count uint32, start int) (any, error) {
	what := markerName3(m)
	size := 4
	if m == marker3VectorDouble {
		size = 8
	}
	if _, ok := d.r.u8(); !ok { // fixed-length flag: not kept for number vectors
		return nil, d.fail(what, start, ErrTruncated)
	}
	if err := d.checkCount(what, count, size, start); err != nil {
		return nil, err
	}
	p, _ := d.r.take(int(count) * size)
	switch m {
	case marker3VectorInt:
		out := make([]int32, count)
		for i := range out {
			out[i] = int32(binary.BigEndian.Uint32(p[i*4:]))
		}
		return out, nil
	case marker3VectorUint:
		out := make([]uint32, count)
		for i := range out {
			out[i] = binary.BigEndian.Uint32(p[i*4:])
		}
		return out, nil
	default:
		out := make([]float64, count)
		for i := range out {
			out[i] = math.Float64frombits(binary.BigEndian.Uint64(p[i*8:]))
		}
		return out, nil
	}
}

func (d *decoder3) objectVector(count uint32, start int) (VectorObject, error) {
	var vec VectorObject
	fixed, ok := d.r.u8()
	if !ok {
		return vec, d.fail("object vector", start, ErrTruncated)
	}
	vec.Fixed = fixed != 0
	var err error
	if vec.Type, err = d.str("object vector type name"); err != nil {
		return vec, err
	}
	if err := d.checkCount("object vector", count, 1, start); err != nil {
		return vec, err
	}
	vec.Items = make([]any, 0, count)
	for range count {
		v, err := d.value()
		if err != nil {
			return vec, err
		}
		vec.Items = append(vec.Items, v)
	}
	return vec, nil
}

func (d *decoder3) dictionary(count uint32, start int) (Dictionary, error) {
	var dict Dictionary
	weak, ok := d.r.u8()
	if !ok {
		return dict, d.fail("dictionary", start, ErrTruncated)
	}
	dict.WeakKeys = weak != 0
	if err := d.checkCount("dictionary", count, 2, start); err != nil {
		return dict, err
	}
	dict.Entries = make([]DictEntry, 0, count)
	for range count {
		k, err := d.value()
		if err != nil {
			return dict, err
		}
		v, err := d.value()
		if err != nil {
			return dict, err
		}
		dict.Entries = append(dict.Entries, DictEntry{Key: k, Value: v})
	}
	return dict, nil
}

func markerName3(m byte) string {
	switch m {
	case marker3XMLDocument:
		return "xml document"
	case marker3Date:
		return "date"
	case marker3Array:
		return "array"
	case marker3Object:
		return "object"
	case marker3XML:
		return "xml"
	case marker3ByteArray:
		return "byte array"
	case marker3VectorInt:
		return "int vector"
	case marker3VectorUint:
		return "uint vector"
	case marker3VectorDouble:
		return "double vector"
	case marker3VectorObject:
		return "object vector"
	case marker3Dictionary:
		return "dictionary"
	}
	return fmt.Sprintf("marker 0x%02x", m)
}
