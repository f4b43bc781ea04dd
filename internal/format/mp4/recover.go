package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRecoverable is returned when a file cut short has no usable movie:
// no complete ftyp and moov, or a progressive file without its moov.
var ErrNotRecoverable = errors.New("mp4: file cannot be recovered")

// maxRecoverBox bounds the moov and moof boxes Recover reads into memory.
const maxRecoverBox = 64 << 20

// recoverableBoxes are the top-level boxes a file of ours (or a DASH/CMAF
// packager's) may hold. Anything else is taken for the garbage a crash
// leaves (a torn header, or zeros where the file system had not written
// data yet), and the file is cut there.
var recoverableBoxes = map[string]bool{
	"ftyp": true, "styp": true, "moov": true, "moof": true, "mdat": true, "free": true,
	"skip": true, "sidx": true, "emsg": true, "prft": true, "mfra": true, "uuid": true,
}

// ValidLength returns how many leading bytes of a file form a playable MP4:
// for a fragmented file, the init segment and every complete movie fragment
// (a moof that parses, followed by its complete mdat); for a complete
// progressive file, all of it. It returns ErrNotRecoverable when no
// playable prefix exists, in particular for a progressive file whose writer
// died before writing the moov.
func ValidLength(r io.ReaderAt, size int64) (int64, error) {
	var (
		pos, valid     int64
		sawFtyp        bool
		movie          *Movie
		pendingMoofEnd int64 = -1 // end of a moof still waiting for its mdat
	)
scan:
	for pos < size {
		typ, boxSize, err := readBoxHeaderAt(r, pos, size)
		if err != nil || !recoverableBoxes[typ] {
			break
		}
		end := pos + boxSize
		fragmented := movie != nil && movie.Fragmented
		switch {
		case typ == "moof":
			// A fragment needs the moov before it, and a moof its mdat.
			if pendingMoofEnd >= 0 || !fragmented || !moofParses(r, pos, boxSize) {
				break scan
			}
			pendingMoofEnd = end
			pos = end
			continue
		case typ == "mdat" && fragmented && pendingMoofEnd != pos:
			pos = end // an mdat without its moof adds nothing playable
			continue
		case typ != "mdat" && pendingMoofEnd >= 0:
			break scan
		case typ == "ftyp":
			sawFtyp = true
		case typ == "moov":
			if movie, err = readMovieAt(r, pos, boxSize); err != nil {
				return 0, fmt.Errorf("%w: %v", ErrNotRecoverable, err)
			}
		}
		pendingMoofEnd = -1
		pos = end
		valid = end
	}
	if movie != nil && !movie.Fragmented && pos < size {
		// Its tables may point anywhere in what follows: cutting is no fix.
		return 0, fmt.Errorf("%w: progressive file damaged at %d", ErrNotRecoverable, pos)
	}
	return finishValid(valid, movie, sawFtyp)
}

func finishValid(valid int64, movie *Movie, sawFtyp bool) (int64, error) {
	if !sawFtyp || movie == nil {
		return 0, fmt.Errorf("%w: no complete ftyp and moov (a progressive recording cut short has its moov missing)", ErrNotRecoverable)
	}
	return valid, nil
}

// readBoxHeaderAt reads a box header and checks that the box is complete
// and has a real size (0, "to the end of the file", is not something our
// writers produce and is what a zero-filled tail looks like).
func readBoxHeaderAt(r io.ReaderAt, pos, size int64) (string, int64, error) {
	if size-pos < 8 {
		return "", 0, ErrTruncated
	}
	var h [16]byte
	n := int64(16)
	if size-pos < 16 {
		n = 8
	}
	if _, err := r.ReadAt(h[:n], pos); err != nil {
		return "", 0, err
	}
	typ := string(h[4:8])
	boxSize := int64(binary.BigEndian.Uint32(h[:]))
	header := int64(8)
	if boxSize == 1 {
		if n < 16 {
			return "", 0, ErrTruncated
		}
		u := binary.BigEndian.Uint64(h[8:])
		if u > uint64(size) {
			return "", 0, ErrTruncated
		}
		boxSize, header = int64(u), 16
	}
	if boxSize < header || boxSize > size-pos {
		return "", 0, ErrTruncated
	}
	return typ, boxSize, nil
}

func readBoxAt(r io.ReaderAt, pos, size int64) ([]byte, error) {
	if size > maxRecoverBox {
		return nil, fmt.Errorf("mp4: box of %d bytes at %d is too large to check", size, pos)
	}
	b := make([]byte, size)
	if _, err := r.ReadAt(b, pos); err != nil {
		return nil, fmt.Errorf("mp4: read box at %d: %w", pos, err)
	}
	return b, nil
}

func readMovieAt(r io.ReaderAt, pos, size int64) (*Movie, error) {
	b, err := readBoxAt(r, pos, size)
	if err != nil {
		return nil, err
	}
	boxes, err := ParseBoxes(b)
	if err != nil {
		return nil, err
	}
	return parseMovie(boxes[0])
}

func moofParses(r io.ReaderAt, pos, size int64) bool {
	b, err := readBoxAt(r, pos, size)
	if err != nil {
		return false
	}
	boxes, err := ParseBoxes(b)
	if err != nil {
		return false
	}
	for _, c := range boxes[0].Children {
		if c.Type == "traf" {
			if _, err := parseTraf(c); err != nil {
				return false
			}
		}
	}
	return true
}

// RecoverFile makes a fragmented recording that was cut short (the process
// died before Close) playable by truncating it after its last complete
// fragment. It returns the bytes kept and dropped. Progressive files cut
// short cannot be recovered (ErrNotRecoverable); complete files are left
// as they are.
func RecoverFile(path string) (kept, dropped int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("mp4: recover: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("mp4: recover: %w", err)
	}
	kept, err = ValidLength(f, st.Size())
	if err != nil {
		return 0, 0, fmt.Errorf("mp4: recover %s: %w", path, err)
	}
	if kept < st.Size() {
		if err := f.Truncate(kept); err != nil {
			return 0, 0, fmt.Errorf("mp4: recover %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return 0, 0, fmt.Errorf("mp4: recover %s: %w", path, err)
	}
	return kept, st.Size() - kept, nil
}
