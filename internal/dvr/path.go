package dvr

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/castd/castd/internal/pathtmpl"
)

// Format is a recording's container.
type Format uint8

const (
	FormatFLV Format = iota
	FormatMP4
)

func (f Format) String() string {
	if f == FormatMP4 {
		return "mp4"
	}
	return "flv"
}

// TmpSuffix is added to a file's path while it is being written.
const TmpSuffix = ".tmp"

// defaultFileName is what SRS appends to a dvr_path that names a directory.
const defaultFileName = "/[stream].[timestamp].flv"

// Template returns dvr_path as SRS reads it: a path that ends in neither
// ".flv" nor ".mp4" is a directory and gets "/[stream].[timestamp].flv"
// appended.
func Template(dvrPath string) string {
	if strings.HasSuffix(dvrPath, ".flv") || strings.HasSuffix(dvrPath, ".mp4") {
		return dvrPath
	}
	return strings.TrimSuffix(dvrPath, "/") + defaultFileName
}

// FormatOf returns the container a path (or template) records: MP4 for
// ".mp4", FLV for anything else.
func FormatOf(path string) Format {
	if strings.HasSuffix(path, ".mp4") {
		return FormatMP4
	}
	return FormatFLV
}

// Stream names what is recorded.
type Stream struct {
	Vhost, App, Name string
}

func (s Stream) String() string { return s.Vhost + "/" + s.App + "/" + s.Name }

// ErrUnsafeName reports an app or stream name that would put a file outside
// the directory dvr_path names.
var ErrUnsafeName = errors.New("dvr: unsafe name")

// FilePath expands dvr_path for a file opened at t (in t's location).
func FilePath(dvrPath string, s Stream, t time.Time) (string, error) {
	for _, v := range []string{s.Vhost, s.App, s.Name} {
		if !safeName(v) {
			return "", fmt.Errorf("%w: %q in %s", ErrUnsafeName, v, s)
		}
	}
	return pathtmpl.Expand(Template(dvrPath), s.Vhost, s.App, s.Name, t), nil
}

// safeName rejects names a client chose that could climb out of the
// recording directory or that no file system takes.
func safeName(v string) bool {
	if strings.ContainsRune(v, 0) {
		return false
	}
	for _, elem := range strings.FieldsFunc(v, func(r rune) bool { return r == '/' || r == '\\' }) {
		if elem == ".." {
			return false
		}
	}
	return true
}
