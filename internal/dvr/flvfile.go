package dvr

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/format/flv"
)

// flvFile writes one FLV recording. The first onMetaData gets duration and
// filesize properties (0 until Close), whose 8-byte values are patched in
// place when the file is finished, as SRS does.
type flvFile struct {
	f  *os.File
	bw *bufio.Writer
	w  *flv.Writer

	metaAt    int64  // file offset of its tag body
	meta      []byte // that body as written, nil when it cannot be patched
	flushedAt int64  // file time of the last flush to the OS
}

// flvBufferSize batches small audio tags into larger writes.
const flvBufferSize = 64 << 10

// flushInterval bounds how much stream time sits in castd's buffer, and so
// how much a killed process loses, besides the flush at every keyframe.
const flushInterval = 1000 // ms

// metaDuration and metaFilesize are the onMetaData properties patched at close.
const (
	metaDuration = "duration"
	metaFilesize = "filesize"
)

func newFLVFile(f *os.File, h flv.Header) (*flvFile, error) {
	bw := bufio.NewWriterSize(f, flvBufferSize)
	w, err := flv.NewWriter(bw, h)
	if err != nil {
		return nil, err
	}
	return &flvFile{f: f, bw: bw, w: w}, nil
}

// writeMeta writes onMetaData with duration and filesize present, so they
// can be patched at close without moving any byte. Metadata that is not an
// object is written as it came and not patched.
func (x *flvFile) writeMeta(p *av.Packet, ts int64) error {
	body, err := flv.StripSetDataFrame(p.Payload)
	if err != nil {
		body = p.Payload
	}
	patched, err := flv.SetMetadataNumbers(body, map[string]float64{metaDuration: 0, metaFilesize: 0})
	if err != nil {
		return x.writeMetaBody(body, nil, ts)
	}
	return x.writeMetaBody(patched, patched, ts)
}

// writeOwnMeta writes an onMetaData of castd's own, holding only duration
// and filesize, for a stream that sent none: players read a file's length
// from there.
func (x *flvFile) writeOwnMeta(ts int64) error {
	body, err := flv.AppendScriptData(nil, flv.OnMetaData, amf.ECMAArray{
		{Key: metaDuration, Value: 0.0}, {Key: metaFilesize, Value: 0.0},
	})
	if err != nil {
		return fmt.Errorf("dvr: build onMetaData: %w", err)
	}
	return x.writeMetaBody(body, body, ts)
}

// writeMetaBody writes the onMetaData tag; patchable is the body when its
// duration and filesize are to be set at close, else nil.
func (x *flvFile) writeMetaBody(body, patchable []byte, ts int64) error {
	bodyAt := x.w.Offset() + flv.TagHeaderSize
	if err := x.w.WriteTag(flv.Tag{Type: flv.TagScript, Timestamp: uint32(ts), Data: body}); err != nil {
		return err
	}
	x.metaAt, x.meta = bodyAt, patchable
	return nil
}

// write writes an audio or video packet at file time ts (ms). Keyframes
// flush first, so what the OS holds ends on a whole GOP.
func (x *flvFile) write(p *av.Packet, ts int64) error {
	if isKeyframe(p) || ts-x.flushedAt >= flushInterval {
		if err := x.flush(ts); err != nil {
			return err
		}
	}
	return x.w.WriteTag(flv.Tag{Type: uint8(p.Kind), Timestamp: uint32(ts), Data: p.Payload})
}

func (x *flvFile) flush(ts int64) error {
	x.flushedAt = ts
	if err := x.bw.Flush(); err != nil {
		return fmt.Errorf("dvr: write flv: %w", err)
	}
	return nil
}

// finish flushes the file and patches onMetaData's duration and filesize.
// It returns the file size; the caller commits the file.
func (x *flvFile) finish(durationMs int64) (int64, error) {
	if err := x.flush(0); err != nil {
		return 0, err
	}
	size := x.w.Offset()
	if x.meta == nil {
		return size, nil
	}
	offsets, err := flv.MetadataNumberOffsets(x.meta, metaDuration, metaFilesize)
	if err != nil {
		return 0, fmt.Errorf("dvr: find onMetaData numbers: %w", err)
	}
	values := map[string]float64{metaDuration: float64(durationMs) / 1000, metaFilesize: float64(size)}
	for key, off := range offsets {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], math.Float64bits(values[key]))
		if _, err := x.f.WriteAt(b[:], x.metaAt+int64(off)); err != nil {
			return 0, fmt.Errorf("dvr: patch onMetaData %s: %w", key, err)
		}
	}
	return size, nil
}
