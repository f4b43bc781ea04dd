package hls

import (
	"fmt"
	"io"
	"path/filepath"
)

// segmentKey is an AES-128 key and IV shared by hls_fragments_per_key
// segments, and the file players fetch it from.
type segmentKey struct {
	key  [KeySize]byte
	ref  *KeyRef // what the playlist announces
	file string  // the key file's path as configured
}

// newSegmentKey draws a key and an IV from rand and writes the key file
// (16 raw bytes) atomically before any playlist can name it.
func newSegmentKey(rand io.Reader, file, uri string) (*segmentKey, error) {
	k := &segmentKey{ref: &KeyRef{URI: uri}, file: file}
	if _, err := io.ReadFull(rand, k.key[:]); err != nil {
		return nil, fmt.Errorf("hls: draw key: %w", err)
	}
	if _, err := io.ReadFull(rand, k.ref.IV[:]); err != nil {
		return nil, fmt.Errorf("hls: draw IV: %w", err)
	}
	if err := writeAtomic(filepath.FromSlash(file), segmentTmpSuffix, k.key[:]); err != nil {
		return nil, err
	}
	return k, nil
}
