package hls

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Suffixes of files being written: SRS's names, which operators' cleanup
// scripts know.
const (
	segmentTmpSuffix  = ".tmp"
	playlistTmpSuffix = ".temp"
)

// writeAtomic writes data to name through name+suffix and a rename, so a
// reader sees the old file or the new one, never a part.
func writeAtomic(name, suffix string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("hls: create directory for %s: %w", name, err)
	}
	tmp := name + suffix
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("hls: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("hls: rename %s: %w", tmp, err)
	}
	return nil
}

// removeFile deletes a file; one already gone is not an error.
func removeFile(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("hls: remove %s: %w", name, err)
	}
	return nil
}

// segmentFile is a segment being written to its .tmp file, through an
// encrypter when the stream has keys.
type segmentFile struct {
	tmp string
	f   *os.File
	bw  *bufio.Writer
	enc *cbcWriter
	w   io.Writer // what the muxer writes to
	n   int64     // bytes written by the muxer
}

// segmentBuffer is the write buffer of a segment file: large enough that
// a segment costs few syscalls, small next to a segment.
const segmentBuffer = 64 << 10

func createSegment(tmp string, key *segmentKey) (*segmentFile, error) {
	if err := os.MkdirAll(filepath.Dir(tmp), 0o755); err != nil {
		return nil, fmt.Errorf("hls: create directory for %s: %w", tmp, err)
	}
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("hls: create segment: %w", err)
	}
	s := &segmentFile{tmp: tmp, f: f, bw: bufio.NewWriterSize(f, segmentBuffer)}
	s.w = s.bw
	if key != nil {
		if s.enc, err = newCBCWriter(s.bw, key.key, key.ref.IV); err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
			return nil, err
		}
		s.w = s.enc
	}
	return s, nil
}

func (s *segmentFile) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("hls: write segment %s: %w", s.tmp, err)
	}
	return n, nil
}

// finish completes the file and renames it to name.
func (s *segmentFile) finish(name string) error {
	var err error
	if s.enc != nil {
		err = s.enc.Close()
	}
	if ferr := s.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.tmp, name)
	}
	if err != nil {
		_ = os.Remove(s.tmp)
		return fmt.Errorf("hls: finish segment %s: %w", name, err)
	}
	return nil
}

// abort closes and deletes the unfinished file.
func (s *segmentFile) abort() error {
	_ = s.f.Close()
	return removeFile(s.tmp)
}
