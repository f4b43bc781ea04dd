package dvr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrFileExists reports a finished recording whose final path was taken
// while it was written; the recording then stays in its .tmp file.
var ErrFileExists = errors.New("dvr: file already exists")

// maxNameTries bounds the search for a free file name.
const maxNameTries = 1000

// createTmp creates the .tmp file of a recording meant for path, and the
// directories above it, and returns the final path the recording will get.
// A taken path (a dvr_path without [timestamp] and a second publish) is
// never overwritten, unlike in SRS: the recording gets the first free name
// among "name.1.ext", "name.2.ext", ... Neither the final file nor its .tmp
// may exist, so two streams (or two castd processes) never share a file.
func createTmp(path string) (*os.File, string, error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, "", fmt.Errorf("dvr: create directory: %w", err)
		}
	}
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	for i := 0; i < maxNameTries; i++ {
		name := path
		if i > 0 {
			name = stem + "." + strconv.Itoa(i) + ext
		}
		if _, err := os.Lstat(name); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("dvr: %w", err)
		}
		f, err := os.OpenFile(name+TmpSuffix, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("dvr: create file: %w", err)
		}
		return f, name, nil
	}
	return nil, "", fmt.Errorf("%w: %s and %d numbered names after it", ErrFileExists, path, maxNameTries-1)
}

// commit syncs and closes f, the .tmp file of path, and renames it into
// place; the rename is what tells on_dvr consumers the file is complete.
// When anything fails the .tmp file is left for Recover.
func commit(f *os.File, path string) error {
	syncErr := f.Sync()
	closeErr := f.Close()
	if err := errors.Join(syncErr, closeErr); err != nil {
		return fmt.Errorf("dvr: finish %s: %w", f.Name(), err)
	}
	return rename(path+TmpSuffix, path)
}

// rename moves a finished .tmp file into place without replacing a file
// that appeared there meanwhile.
func rename(tmp, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s (the recording stays in %s)", ErrFileExists, path, tmp)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dvr: rename: %w", err)
	}
	return nil
}
