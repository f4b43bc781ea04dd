package amf

// Property is one key/value pair of an object or associative array.
type Property struct {
	Key   string
	Value any
}

// Object is an AMF0 anonymous object (or the dynamic part of an AMF3 object).
// Properties keep their wire order; keys may repeat on the wire and Get
// returns the first.
type Object []Property

// ECMAArray is an AMF0 ECMA (associative) array, as used by onMetaData.
type ECMAArray []Property

// Undefined is the undefined value of AMF0 and AMF3.
type Undefined struct{}

// Unsupported is the AMF0 unsupported marker (0x0D).
type Unsupported struct{}

// Date is an AMF date: milliseconds since the Unix epoch (UTC). TZ is the
// AMF0 time-zone field, which the spec reserves and encoders set to 0; AMF3
// dates do not carry it.
type Date struct {
	Millis float64
	TZ     int16
}

// TypedObject is an AMF0 typed object: an object with a registered class name.
type TypedObject struct {
	Class string
	Props Object
}

// XML is an AMF0 XML document (0x0F) or an AMF3 XML value (0x0B).
type XML string

// XMLDocument is an AMF3 legacy flash.xml.XMLDocument (0x07). It is kept apart
// from XML so AMF3 round-trips are exact; the AMF0 encoder writes it as XML.
type XMLDocument string

// Array3 is an AMF3 array: an associative part (string keys) and a dense part.
type Array3 struct {
	Assoc Object
	Dense []any
}

// Object3 is an AMF3 object instance.
//
// Sealed holds the members named by the object's traits, in traits order;
// DynamicProps holds the dynamic members that follow them when Dynamic is
// set. An externalizable object carries its class's own serialization, which
// this package understands only for the Flex classes whose body is a single
// AMF3 value (flex.messaging.io.ArrayCollection and ObjectProxy); for them
// Externalizable is set and External holds that value.
type Object3 struct {
	Class          string
	Dynamic        bool
	Sealed         Object
	DynamicProps   Object
	Externalizable bool
	External       any
}

// VectorObject is an AMF3 Vector.<T> of object values. Type is the element
// class name ("" or "*" for Object).
type VectorObject struct {
	Type  string
	Fixed bool
	Items []any
}

// DictEntry is one key/value pair of a Dictionary; keys are any AMF3 value.
type DictEntry struct {
	Key   any
	Value any
}

// Dictionary is an AMF3 flash.utils.Dictionary.
type Dictionary struct {
	WeakKeys bool
	Entries  []DictEntry
}

// Get returns the value of the first property named key.
func (o Object) Get(key string) (any, bool) { return getProp(o, key) }

// String returns the first property named key if it is a string.
func (o Object) String(key string) (string, bool) { return getString(o, key) }

// Number returns the first property named key if it is a number (float64 or
// AMF3 int32).
func (o Object) Number(key string) (float64, bool) { return getNumber(o, key) }

// Bool returns the first property named key if it is a boolean.
func (o Object) Bool(key string) (bool, bool) { return getBool(o, key) }

// Set replaces the value of the first property named key, or appends one.
func (o *Object) Set(key string, v any) { *o = setProp(*o, key, v) }

// Get returns the value of the first property named key.
func (a ECMAArray) Get(key string) (any, bool) { return getProp(a, key) }

// String returns the first property named key if it is a string.
func (a ECMAArray) String(key string) (string, bool) { return getString(a, key) }

// Number returns the first property named key if it is a number (float64 or
// AMF3 int32).
func (a ECMAArray) Number(key string) (float64, bool) { return getNumber(a, key) }

// Bool returns the first property named key if it is a boolean.
func (a ECMAArray) Bool(key string) (bool, bool) { return getBool(a, key) }

// Set replaces the value of the first property named key, or appends one.
func (a *ECMAArray) Set(key string, v any) { *a = setProp(*a, key, v) }

// Get returns the first member named key, looking at sealed members first.
func (o Object3) Get(key string) (any, bool) {
	if v, ok := o.Sealed.Get(key); ok {
		return v, true
	}
	return o.DynamicProps.Get(key)
}

func getProp[P ~[]Property](props P, key string) (any, bool) {
	for _, p := range props {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

func getString[P ~[]Property](props P, key string) (string, bool) {
	v, _ := getProp(props, key)
	s, ok := v.(string)
	return s, ok
}

func getNumber[P ~[]Property](props P, key string) (float64, bool) {
	v, _ := getProp(props, key)
	return Number(v)
}

// Number returns v as a float64 when it is a number: an AMF0 number
// (float64) or an AMF3 integer (int32).
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int32:
		return float64(n), true
	}
	return 0, false
}

func getBool[P ~[]Property](props P, key string) (bool, bool) {
	v, _ := getProp(props, key)
	b, ok := v.(bool)
	return b, ok
}

func setProp[P ~[]Property](props P, key string, v any) P {
	for i := range props {
		if props[i].Key == key {
			props[i].Value = v
			return props
		}
	}
	return append(props, Property{Key: key, Value: v})
}
