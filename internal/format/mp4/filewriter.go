package mp4

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// ErrClosed is returned by writers used after Close.
var ErrClosed = errors.New("mp4: writer is closed")

// FileWriter writes a progressive MP4 file (ftyp, mdat, moov) for DVR. Sample
// data goes to the mdat as it arrives; only the sample tables stay in memory
// (see sampleTable), and Close writes the moov after the mdat and fixes the
// mdat size.
//
// A file whose writer never reaches Close (the process died) has no moov
// and no player can open it; the samples cannot be told apart without the
// tables. Where that matters, record with FragmentedWriter instead: see
// Recover.
//
// The mdat header is reserved as 16 bytes: an 8-byte free box followed by an
// 8-byte mdat header. Close turns them into one 16-byte mdat header with a
// 64-bit size when the data passed 4 GiB, so no size has to be guessed up
// front. Chunk offsets switch to co64 in the same case.
//
// A FileWriter is not safe for concurrent use.
type FileWriter struct {
	ws     io.WriteSeeker
	bw     *bufio.Writer
	base   int64 // where the file starts in ws
	tracks []Track
	tables []sampleTable
	mdatAt int64 // offset of the reserved 16 bytes, from base
	pos    int64 // offset of the next byte, from base
	last   int   // index of the track of the previous sample, -1 for none
	// limit32 is the largest size or offset written in 32 bits; tests
	// lower it to exercise the 64-bit forms without writing 4 GiB.
	limit32 uint64
	err     error
	closed  bool
}

// fileBufferSize batches small audio frames into larger writes.
const fileBufferSize = 64 << 10

// NewFileWriter writes the file header (ftyp and the reserved mdat header)
// at ws's current position.
func NewFileWriter(ws io.WriteSeeker, tracks ...Track) (*FileWriter, error) {
	if err := validateTracks(tracks); err != nil {
		return nil, err
	}
	base, err := ws.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("mp4: file writer: %w", err)
	}
	f := &FileWriter{
		ws: ws, bw: bufio.NewWriterSize(ws, fileBufferSize), base: base,
		tracks: append([]Track(nil), tracks...), tables: make([]sampleTable, len(tracks)), last: -1,
		limit32: math.MaxUint32,
	}
	w := NewBoxWriter(make([]byte, 0, 64))
	writeFtyp(w, "ftyp", "isom", 0x200, progressiveBrands, codecBrands(tracks)...)
	f.mdatAt = int64(w.Len())
	w.Begin("free")
	w.End()
	w.Begin("mdat") // size patched by Close
	w.End()
	if err := w.Err(); err != nil {
		return nil, err
	}
	if err := f.write(w.Bytes()); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *FileWriter) write(b []byte) error {
	n, err := f.bw.Write(b)
	f.pos += int64(n)
	if err != nil {
		f.err = fmt.Errorf("mp4: write file: %w", err)
	}
	return f.err
}

// Written is the number of bytes written so far (buffered ones included).
func (f *FileWriter) Written() int64 { return f.pos }

func (f *FileWriter) trackIndex(id uint32) int {
	for i := range f.tracks {
		if f.tracks[i].ID == id {
			return i
		}
	}
	return -1
}

// WriteSample appends a sample of the track with the given id. Samples of
// one track must come in decode order; tracks may interleave freely.
func (f *FileWriter) WriteSample(trackID uint32, s Sample) error {
	if f.closed {
		return ErrClosed
	}
	if f.err != nil {
		return f.err
	}
	i := f.trackIndex(trackID)
	if i < 0 {
		return fmt.Errorf("mp4: no track with id %d", trackID)
	}
	t := &f.tables[i]
	if t.count >= maxTableSamples {
		return fmt.Errorf("mp4: track %d is full (%d samples)", trackID, t.count)
	}
	if uint64(len(s.Data)) > math.MaxUint32 {
		return fmt.Errorf("mp4: sample of %d bytes", len(s.Data))
	}
	t.add(&s, f.tracks[i].Kind, uint64(f.pos), f.last != i)
	f.last = i
	return f.write(s.Data)
}

// Close writes the moov and the final mdat size. It does not close the
// underlying writer.
func (f *FileWriter) Close() error {
	if f.closed {
		return ErrClosed
	}
	f.closed = true
	if f.err != nil {
		return f.err
	}
	for i := range f.tables {
		f.tables[i].finish(f.tracks[i].DefaultDuration)
	}
	mdatEnd := f.pos
	moov, err := f.moov()
	if err != nil {
		return err
	}
	if err := f.write(moov); err != nil {
		return err
	}
	if err := f.bw.Flush(); err != nil {
		return fmt.Errorf("mp4: flush file: %w", err)
	}
	if err := f.patchMdat(mdatEnd); err != nil {
		return err
	}
	if _, err := f.ws.Seek(f.base+f.pos, io.SeekStart); err != nil {
		return fmt.Errorf("mp4: seek to file end: %w", err)
	}
	return nil
}

// patchMdat rewrites the reserved 16 bytes as free + 32-bit mdat, or as
// one mdat with a 64-bit size.
func (f *FileWriter) patchMdat(end int64) error {
	var hdr [16]byte
	size := uint64(end - f.mdatAt - 8) // without the free box
	if size <= f.limit32 {
		binary.BigEndian.PutUint32(hdr[0:], 8)
		copy(hdr[4:], "free")
		binary.BigEndian.PutUint32(hdr[8:], uint32(size))
		copy(hdr[12:], "mdat")
	} else {
		binary.BigEndian.PutUint32(hdr[0:], 1)
		copy(hdr[4:], "mdat")
		binary.BigEndian.PutUint64(hdr[8:], size+8)
	}
	if _, err := f.ws.Seek(f.base+f.mdatAt, io.SeekStart); err != nil {
		return fmt.Errorf("mp4: seek to mdat header: %w", err)
	}
	if _, err := f.ws.Write(hdr[:]); err != nil {
		return fmt.Errorf("mp4: write mdat header: %w", err)
	}
	return nil
}

// moov builds the movie box. Tracks that start later than the earliest one
// get an empty edit so the players keep them in sync; composition offsets
// are kept as they are (no edit shifts B-frame delay away), so presentation
// times match the source's.
func (f *FileWriter) moov() ([]byte, error) {
	size := 1024
	for i := range f.tables {
		t := &f.tables[i]
		size += 256 + 4*len(t.sizes) + 8*len(t.chunkOffs) + 8*(len(t.stts)+len(t.ctts)+len(t.sync)) + 12*len(t.stsc)
	}
	w := NewBoxWriter(make([]byte, 0, size))

	starts := make([]int64, len(f.tracks)) // first DTS in movie ticks
	var earliest int64 = math.MaxInt64
	for i := range f.tracks {
		if f.tables[i].count == 0 {
			continue
		}
		starts[i] = rescale(f.tables[i].firstDTS, f.tracks[i].Timescale, movieTimescale)
		earliest = min(earliest, starts[i])
	}
	timings := make([]trackTiming, len(f.tracks))
	var movieDuration uint64
	for i := range f.tracks {
		t := &f.tables[i]
		media := t.mediaDuration()
		tm := trackTiming{mediaDuration: media, movieDuration: uint64(rescale(int64(media), f.tracks[i].Timescale, movieTimescale))}
		if t.count > 0 && starts[i] > earliest {
			delay := uint64(starts[i] - earliest)
			tm.edits = []edit{{duration: delay, mediaTime: -1}, {duration: tm.movieDuration, mediaTime: 0}}
			tm.movieDuration += delay
		}
		timings[i] = tm
		movieDuration = max(movieDuration, tm.movieDuration)
	}

	w.Begin("moov")
	writeMvhd(w, movieDuration, nextTrackID(f.tracks))
	for i := range f.tracks {
		table := &f.tables[i]
		writeTrak(w, &f.tracks[i], timings[i], func(w *BoxWriter) { table.writeTables(w, f.limit32) })
	}
	w.End()
	if err := w.Err(); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}
