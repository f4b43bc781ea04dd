// Package flv reads and writes the FLV container: the 9-byte file header,
// then tags (11-byte header, body) each followed by a 4-byte PreviousTagSize,
// as defined in Adobe's "Video File Format Specification, Version 10.1"
// (Annex E, the FLV file format). Script data tags carry AMF0 values and are
// handled with package amf.
//
// Enhanced RTMP/FLV (veovera/enhanced-rtmp, v1 and v2) changes only the tag
// bodies (the ExHeader bit, FourCC codec ids such as hvc1, av01, vp09, Opus)
// and adds onMetaData conventions (FourCC numbers in videocodecid); the
// container is unchanged, so this package passes bodies through untouched.
// Parsing audio and video tag bodies belongs to package av.
//
// A tag body is also the RTMP message body of the same type (8 audio, 9
// video, 18 script data), which is why castd uses it as its canonical packet
// payload: FLV egress only adds the 11-byte tag header and the trailing size.
package flv
