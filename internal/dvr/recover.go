package dvr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/format/mp4"
	"github.com/castd/castd/internal/pathtmpl"
)

// Recovered is what Recover did with one leftover .tmp file.
type Recovered struct {
	Tmp     string // the .tmp file found
	Path    string // where it was renamed, "" when it was left in place
	Format  Format
	Kept    int64 // bytes kept
	Dropped int64 // bytes cut off the torn end
	Err     error // why it was left as .tmp
}

// maxRecoverEntries bounds the directory entries one template's walk
// visits, so a dvr_path rooted at a huge tree cannot stall startup.
const maxRecoverEntries = 100_000

// errWalkLimit stops a walk at maxRecoverEntries.
var errWalkLimit = errors.New("dvr: too many files to scan")

// Recover finds the .tmp files that recordings into the dvr_path templates
// left behind when castd was killed, and finalizes them:
//
//   - FLV is playable up to its last complete tag: the torn tag is cut off,
//     onMetaData's duration and filesize are set, and the file is renamed.
//   - Fragmented MP4 is cut after its last complete fragment and renamed.
//   - Progressive MP4 has its index written only at close: without it the
//     samples cannot be found, so the .tmp is left in place and reported.
//
// It must run before anything records (at startup). No on_dvr is sent for
// recovered files.
func Recover(dvrPaths []string, log *slog.Logger) []Recovered {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var out []Recovered
	seen := map[string]bool{}
	for _, p := range dvrPaths {
		tmpl := filepath.Clean(Template(p))
		if seen[tmpl] {
			continue
		}
		seen[tmpl] = true
		root, re := recoverPattern(tmpl)
		n := 0
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable or vanished: nothing of ours to recover there
			}
			if n++; n > maxRecoverEntries {
				return errWalkLimit
			}
			if d.Type().IsRegular() && re.MatchString(filepath.ToSlash(path)) {
				out = append(out, recoverOne(path, log))
			}
			return nil
		})
		if err != nil {
			log.Warn("dvr: recovery scan stopped", "dir", root, "files", maxRecoverEntries, "err", err)
		}
	}
	return out
}

// recoverPattern returns the directory to walk for a template (the fixed
// part before its first variable) and a pattern matching its .tmp files.
func recoverPattern(tmpl string) (string, *regexp.Regexp) {
	slashed := filepath.ToSlash(tmpl)
	fixed := slashed
	if i := strings.IndexByte(slashed, '['); i >= 0 {
		fixed = slashed[:i]
	}
	root := filepath.Dir(filepath.FromSlash(fixed + "x"))
	var b strings.Builder
	b.WriteString("^")
	rest := slashed
	for rest != "" {
		i, v := firstVariable(rest)
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		b.WriteString(".+")
		rest = rest[i+len(v):]
	}
	b.WriteString(regexp.QuoteMeta(TmpSuffix) + "$")
	return root, regexp.MustCompile(b.String())
}

// firstVariable finds the first template variable in s.
func firstVariable(s string) (int, string) {
	at, name := -1, ""
	for _, v := range pathtmpl.Variables() {
		if i := strings.Index(s, v); i >= 0 && (at < 0 || i < at) {
			at, name = i, v
		}
	}
	return at, name
}

// recoverOne finalizes one .tmp file.
func recoverOne(tmp string, log *slog.Logger) Recovered {
	final := strings.TrimSuffix(tmp, TmpSuffix)
	r := Recovered{Tmp: tmp, Format: FormatOf(final)}
	if r.Format == FormatMP4 {
		r.Kept, r.Dropped, r.Err = mp4.RecoverFile(tmp)
	} else {
		r.Kept, r.Dropped, r.Err = repairFLV(tmp)
	}
	if r.Err == nil {
		r.Err = rename(tmp, final)
	}
	switch {
	case r.Err == nil:
		r.Path = final
		log.Warn("dvr: recovered a recording left unfinished", "file", final, "format", r.Format.String(),
			"kept", r.Kept, "dropped", r.Dropped)
	case errors.Is(r.Err, mp4.ErrNotRecoverable):
		log.Error("dvr: cannot recover an unfinished MP4 recording (progressive MP4 has no index until it is closed); left as is",
			"file", tmp, "err", r.Err)
	default:
		log.Error("dvr: cannot recover an unfinished recording; left as is", "file", tmp, "err", r.Err)
	}
	return r
}

// ErrNotFLV reports a .tmp file that does not even hold an FLV header.
var ErrNotFLV = errors.New("dvr: not an FLV file")

// repairFLV cuts a recording after its last complete tag and sets its
// onMetaData duration and filesize.
func repairFLV(path string) (kept, dropped int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("dvr: recover: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("dvr: recover: %w", err)
	}
	scan, err := scanFLV(f, st.Size())
	if err != nil {
		return 0, 0, fmt.Errorf("dvr: recover %s: %w", path, err)
	}
	if scan.valid < st.Size() {
		if err := f.Truncate(scan.valid); err != nil {
			return 0, 0, fmt.Errorf("dvr: recover %s: %w", path, err)
		}
	}
	if err := patchFLVMeta(f, scan); err != nil {
		return 0, 0, fmt.Errorf("dvr: recover %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("dvr: recover %s: %w", path, err)
	}
	return scan.valid, st.Size() - scan.valid, f.Close()
}

// flvScan is what scanFLV found: the playable length, where the leading
// onMetaData body is, and the span of the media timestamps.
type flvScan struct {
	valid       int64
	metaAt      int64 // offset of the first tag's body when it is script data, else -1
	metaSize    int
	first, last uint32
	media       bool
	tags        int // complete tags
}

// maxHeaderSkip is the most header padding accepted, as flv.Reader does.
const maxHeaderSkip = 1 << 16

// maxMetaSize bounds the onMetaData body patchFLVMeta reads.
const maxMetaSize = 1 << 20

// scanFLV walks the tags of an FLV file cut short and returns the length of
// the complete ones: each must have a known type, fit in the file and be
// followed by its PreviousTagSize. It reads only tag headers and trailers.
func scanFLV(r io.ReaderAt, size int64) (flvScan, error) {
	s := flvScan{metaAt: -1}
	var h [flv.HeaderSize + flv.PreviousTagSizeSize]byte
	if size < int64(len(h)) {
		return s, ErrNotFLV
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return s, fmt.Errorf("read header: %w", err)
	}
	dataOffset := int64(binary.BigEndian.Uint32(h[5:9]))
	if h[0] != 'F' || h[1] != 'L' || h[2] != 'V' || dataOffset < flv.HeaderSize || dataOffset > size || dataOffset-flv.HeaderSize > maxHeaderSkip {
		return s, ErrNotFLV
	}
	pos := dataOffset + flv.PreviousTagSizeSize
	if pos > size {
		return s, ErrNotFLV
	}
	var prev0 [flv.PreviousTagSizeSize]byte
	if _, err := r.ReadAt(prev0[:], dataOffset); err != nil {
		return s, fmt.Errorf("read PreviousTagSize0: %w", err)
	}
	if binary.BigEndian.Uint32(prev0[:]) != 0 {
		return s, ErrNotFLV
	}
	s.valid = pos
	var th [flv.TagHeaderSize]byte
	var trailer [flv.PreviousTagSizeSize]byte
	for pos+flv.TagHeaderSize <= size {
		if _, err := r.ReadAt(th[:], pos); err != nil {
			return s, fmt.Errorf("read tag at %d: %w", pos, err)
		}
		typ := th[0]
		dataSize := int64(th[1])<<16 | int64(th[2])<<8 | int64(th[3])
		end := pos + flv.TagHeaderSize + dataSize + flv.PreviousTagSizeSize
		if (typ != flv.TagAudio && typ != flv.TagVideo && typ != flv.TagScript) || end > size {
			break // garbage (a torn header, or zeros the file system had not filled) or a torn tag
		}
		if _, err := r.ReadAt(trailer[:], end-flv.PreviousTagSizeSize); err != nil {
			return s, fmt.Errorf("read tag size at %d: %w", end-flv.PreviousTagSizeSize, err)
		}
		if int64(binary.BigEndian.Uint32(trailer[:])) != flv.TagHeaderSize+dataSize {
			break
		}
		ts := uint32(th[4])<<16 | uint32(th[5])<<8 | uint32(th[6]) | uint32(th[7])<<24
		switch {
		case typ == flv.TagScript && s.valid == dataOffset+flv.PreviousTagSizeSize:
			s.metaAt, s.metaSize = pos+flv.TagHeaderSize, int(dataSize)
		case typ != flv.TagScript:
			if !s.media {
				s.media, s.first = true, ts
			}
			s.last = max(s.last, ts)
		}
		pos = end
		s.valid = end
		s.tags++
	}
	return s, nil
}

// patchFLVMeta sets duration and filesize in the leading onMetaData when
// it holds them as numbers (castd's recordings always do).
func patchFLVMeta(f *os.File, s flvScan) error {
	if s.metaAt < 0 || s.metaSize > maxMetaSize {
		return nil
	}
	body := make([]byte, s.metaSize)
	if _, err := f.ReadAt(body, s.metaAt); err != nil {
		return fmt.Errorf("read onMetaData: %w", err)
	}
	offsets, err := flv.MetadataNumberOffsets(body, metaDuration, metaFilesize)
	if err != nil {
		return nil // not metadata we can patch; the file plays without it
	}
	var durationMs float64
	if s.media {
		durationMs = float64(s.last - s.first)
	}
	values := map[string]float64{metaDuration: durationMs / 1000, metaFilesize: float64(s.valid)}
	for key, off := range offsets {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], math.Float64bits(values[key]))
		if _, err := f.WriteAt(b[:], s.metaAt+int64(off)); err != nil {
			return fmt.Errorf("patch onMetaData %s: %w", key, err)
		}
	}
	return nil
}
