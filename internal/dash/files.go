package dash

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Store is where a Packager puts its files. DirStore writes the file
// system; tests use a map.
type Store interface {
	// WriteFile replaces name with data so that readers see the old file
	// or the new one, never a part.
	WriteFile(name string, data []byte) error
	// Remove deletes name; one already gone is not an error.
	Remove(name string) error
}

// DirStore writes files through a temporary sibling and a rename.
type DirStore struct{}

// tmpSuffix marks files being written (SRS's suffix for DASH files).
const tmpSuffix = ".tmp"

func (DirStore) WriteFile(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("dash: create directory for %s: %w", name, err)
	}
	tmp := name + tmpSuffix
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("dash: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("dash: rename %s: %w", tmp, err)
	}
	return nil
}

func (DirStore) Remove(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dash: remove %s: %w", name, err)
	}
	return nil
}
