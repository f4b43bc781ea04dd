package flv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/castd/castd/internal/format/amf"
)

// SetDataFrame is the name RTMP publishers put before script data that the
// server should store and replay to players (in practice "onMetaData").
const SetDataFrame = "@setDataFrame"

// OnMetaData is the name of the metadata script tag.
const OnMetaData = "onMetaData"

// ErrNotScriptData reports a body that is not a name followed by a value.
var ErrNotScriptData = errors.New("not script data")

// ParseScriptData decodes a script data body (an FLV tag of type 18 or an
// RTMP data message): an AMF0 string name and the AMF0 value after it,
// typically "onMetaData" and an amf.ECMAArray. A leading "@setDataFrame" is
// skipped, so the name is that of the frame being set. value is nil when
// the body has a name alone; values after the first are ignored.
func ParseScriptData(data []byte) (name string, value any, err error) {
	_, name, rest, err := scriptName(data)
	if err != nil {
		return "", nil, err
	}
	if len(rest) == 0 {
		return name, nil, nil
	}
	value, _, err = amf.Decode0(rest)
	if err != nil {
		return "", nil, fmt.Errorf("flv: script data %q value: %w", name, err)
	}
	return name, value, nil
}

// scriptName decodes the name at the start of data, stepping over a
// "@setDataFrame" prefix. It returns the prefix length (0 without one), the
// name and the bytes after the name.
func scriptName(data []byte) (prefix int, name string, rest []byte, err error) {
	name, n, err := decodeName(data)
	if err != nil {
		return 0, "", nil, err
	}
	if name == SetDataFrame {
		prefix = n
		name, n, err = decodeName(data[prefix:])
		if err != nil {
			return 0, "", nil, err
		}
	}
	return prefix, name, data[prefix+n:], nil
}

func decodeName(data []byte) (string, int, error) {
	v, n, err := amf.Decode0(data)
	if err != nil {
		return "", 0, fmt.Errorf("flv: script data name: %w", err)
	}
	name, ok := v.(string)
	if !ok {
		return "", 0, fmt.Errorf("flv: script data name is %T, want a string: %w", v, ErrNotScriptData)
	}
	return name, n, nil
}

// AppendScriptData appends the script data body name, value to dst.
func AppendScriptData(dst []byte, name string, value any) ([]byte, error) {
	out, err := amf.AppendAll0(dst, name, value)
	if err != nil {
		return dst, fmt.Errorf("flv: script data %q: %w", name, err)
	}
	return out, nil
}

// StripSetDataFrame turns "@setDataFrame", "onMetaData", {...} into
// "onMetaData", {...}, the form SRS stores and sends to players and writes to
// files. Data without the prefix is returned unchanged. The result shares
// data's bytes.
func StripSetDataFrame(data []byte) ([]byte, error) {
	prefix, _, _, err := scriptName(data)
	if err != nil {
		return nil, err
	}
	return data[prefix:], nil
}

// MetadataNumberOffsets finds, in a script data body whose value is an ECMA
// array or an object (onMetaData), the top-level properties named in keys
// that hold numbers, and returns for each the offset in data of its 8-byte
// big-endian IEEE 754 value. Keys missing or not numbers are absent from the
// map. A DVR writer uses it to patch duration and filesize in place in a
// file it has already written, without rewriting anything else.
func MetadataNumberOffsets(data []byte, keys ...string) (map[string]int, error) {
	_, name, rest, err := scriptName(data)
	if err != nil {
		return nil, err
	}
	pos := len(data) - len(rest)
	if len(rest) == 0 {
		return nil, fmt.Errorf("flv: script data %q has no value: %w", name, ErrNotScriptData)
	}
	ecma := rest[0] == 0x08
	switch rest[0] {
	case 0x08: // ECMA array: marker and a 32-bit count before the properties
		pos += 5
	case 0x03: // object
		pos++
	default:
		return nil, fmt.Errorf("flv: script data %q value has AMF0 marker 0x%02x, want an ECMA array or object: %w", name, rest[0], ErrNotScriptData)
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	found := make(map[string]int, len(keys))
	seen := make(map[string]bool, len(keys)) // the first property of a name wins, as in amf.Object.Get
	for {
		if pos == len(data) && ecma {
			break // a top-level ECMA array may end without its end marker
		}
		// A property is a key (16-bit length, bytes) and a value of at least
		// one byte; the end marker is an empty key and 0x09.
		if pos+2 > len(data) || pos+2+int(binary.BigEndian.Uint16(data[pos:])) >= len(data) {
			return nil, fmt.Errorf("flv: script data %q: property at offset %d: truncated", name, pos)
		}
		klen := int(binary.BigEndian.Uint16(data[pos:]))
		key := string(data[pos+2 : pos+2+klen])
		pos += 2 + klen
		if klen == 0 && data[pos] == 0x09 {
			break
		}
		if want[key] && !seen[key] {
			seen[key] = true
			if data[pos] == 0x00 && pos+9 <= len(data) {
				found[key] = pos + 1
			}
		}
		_, n, err := amf.Decode0(data[pos:])
		if err != nil {
			return nil, fmt.Errorf("flv: script data %q property %q: %w", name, key, err)
		}
		pos += n
	}
	return found, nil
}

// SetMetadataNumbers returns a copy of a script data body (onMetaData, with
// or without "@setDataFrame") with the given top-level number properties set,
// e.g. duration and filesize when a DVR file is closed. When every key
// already holds a number, only those 8-byte values change, so the body keeps
// its size and every other byte; otherwise the body is re-encoded with the
// missing keys appended in sorted order.
func SetMetadataNumbers(data []byte, kv map[string]float64) ([]byte, error) {
	keys := slices.Sorted(maps.Keys(kv))
	offsets, err := MetadataNumberOffsets(data, keys...)
	if err != nil {
		return nil, err
	}
	if len(offsets) == len(keys) {
		out := slices.Clone(data)
		for k, off := range offsets {
			binary.BigEndian.PutUint64(out[off:], math.Float64bits(kv[k]))
		}
		return out, nil
	}
	prefix, name, rest, err := scriptName(data)
	if err != nil {
		return nil, err
	}
	value, _, err := amf.Decode0(rest)
	if err != nil {
		return nil, fmt.Errorf("flv: script data %q value: %w", name, err)
	}
	switch m := value.(type) {
	case amf.ECMAArray:
		m = slices.Clone(m)
		for _, k := range keys {
			m.Set(k, kv[k])
		}
		value = m
	case amf.Object:
		m = slices.Clone(m)
		for _, k := range keys {
			m.Set(k, kv[k])
		}
		value = m
	default:
		return nil, fmt.Errorf("flv: script data %q value is %T, want an ECMA array or object: %w", name, value, ErrNotScriptData)
	}
	out := slices.Clone(data[:prefix])
	return AppendScriptData(out, name, value)
}
