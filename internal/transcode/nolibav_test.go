//go:build !cgo || castd_nolibav

package transcode

import (
	"errors"
	"strings"
	"testing"
)

func TestUnavailable(t *testing.T) {
	err := Available()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Available() = %v, want an error wrapping ErrUnavailable", err)
	}
	want := "castd was built " + nolibavReason + "; AAC/Opus transcoding is unavailable"
	if err.Error() != want {
		t.Errorf("Available() = %q, want %q", err, want)
	}
	if !strings.Contains(want, "cgo") && !strings.Contains(want, "libavcodec") {
		t.Errorf("%q does not say what the build lacks", want)
	}
	if tc, err := NewAACToOpus([]byte{0x11, 0x90}, DefaultBitrate); tc != nil || !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewAACToOpus = %v, %v; want nil and the unavailable error", tc, err)
	}
	if tc, err := NewOpusToAAC(2, DefaultBitrate); tc != nil || !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewOpusToAAC = %v, %v; want nil and the unavailable error", tc, err)
	}
}
