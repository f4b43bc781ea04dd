// Package amf encodes and decodes Action Message Format values, the
// serialization RTMP uses for commands (connect, createStream, publish,
// onStatus, ...) and FLV uses for script data (onMetaData).
//
// AMF0 follows Adobe's "Action Message Format -- AMF 0" specification
// (amf0-file-format-specification, December 2007) and AMF3 follows Adobe's
// "AMF 3 Specification" (January 2013 revision, which adds Vector and
// Dictionary). RTMP uses AMF0 for command and data messages (types 20 and 18)
// and, for clients that negotiated objectEncoding 3, AMF0 bodies whose values
// switch to AMF3 with the avmplus-object marker (0x11, message types 17/15).
//
// # Go mapping
//
//	AMF0 / AMF3 type               Go value
//	number, double                 float64 (encoders accept every Go int/uint/float type)
//	AMF3 integer                   int32 (29-bit signed)
//	boolean, false/true            bool
//	string, long string            string (AMF0 encoder picks long string above 65535 bytes)
//	null                           nil
//	undefined                      Undefined{}
//	unsupported (AMF0 0x0D)        Unsupported{}
//	anonymous object (AMF0)        Object (ordered properties)
//	ECMA array (AMF0)              ECMAArray
//	strict array (AMF0)            []any
//	date                           Date (AMF3 dates carry no time zone)
//	typed object (AMF0)            TypedObject
//	XML document (AMF0 0x0F)       XML
//	AMF3 XMLDocument (0x07)        XMLDocument
//	AMF3 XML (0x0B)                XML
//	AMF3 array                     Array3
//	AMF3 object                    Object3
//	AMF3 ByteArray                 []byte
//	AMF3 Vector.<int|uint|Number>  []int32, []uint32, []float64
//	AMF3 Vector.<Object>           VectorObject
//	AMF3 Dictionary                Dictionary
//
// Encoders also accept map[string]any (written as an anonymous object with
// keys in sorted order) and time.Time (written as a Date). Encoding an AMF3-only
// value (Object3, Array3, []byte, vectors, Dictionary) with the AMF0 encoder
// writes the avmplus-object marker followed by the AMF3 value.
//
// # References
//
// Both formats let a value refer back to an earlier complex value. Decoders
// resolve references to the earlier Go value (slices share their backing
// arrays, nothing is copied). Go values cannot be cyclic, so a reference to a
// value that is still being decoded is an error. Encoders never write
// references: every value is written inline, which every decoder accepts.
//
// AMF3 reference tables are fresh for every Decode3 call and for every
// avmplus-object marker inside AMF0. Decoder keeps them across calls for
// streams of AMF3 values that share tables (ByteArray.readObject sequences).
//
// # Limits
//
// Decoding never trusts a length or count: every count is checked against the
// bytes left before anything is allocated, nesting is limited to MaxDepth
// containers, and the size a value would have when written out with its
// references expanded is limited to MaxExpandedSize, so a small hostile input
// can neither allocate much memory nor make re-encoding explode.
package amf
