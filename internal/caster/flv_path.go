package caster

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxFLVPath bounds the POST path; longer names serve no stream.
const maxFLVPath = 1024

var (
	// ErrNotFLVPath is a path that does not name an .flv resource.
	ErrNotFLVPath = errors.New("caster: want POST /<app>/<stream>.flv")
	// ErrBadFLVPath is an .flv path whose app or stream cannot be published.
	ErrBadFLVPath = errors.New("caster: bad app or stream in the path")
)

// ParseFLVPath splits the (decoded) path of an flv caster POST into app
// and stream: /live/livestream.flv gives live and livestream, and
// /a/b/cam.flv gives the multi-level app a/b, as SRS takes the path's
// directory as the app. Names that would change the RTMP URL the caster
// builds are refused: a '?' or '#' (a query), '%' (an escape), '[' or ']'
// (a template variable), control characters, spaces, backslashes, empty,
// "." and ".." path elements, and invalid UTF-8.
func ParseFLVPath(path string) (app, stream string, err error) {
	if len(path) > maxFLVPath {
		return "", "", fmt.Errorf("%w: the path is longer than %d bytes", ErrBadFLVPath, maxFLVPath)
	}
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return "", "", fmt.Errorf("%w: %q does not start with /", ErrNotFLVPath, path)
	}
	rest, ok = strings.CutSuffix(rest, ".flv")
	if !ok {
		return "", "", fmt.Errorf("%w: %q", ErrNotFLVPath, path)
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return "", "", fmt.Errorf("%w: %q has no app", ErrBadFLVPath, path)
	}
	app, stream = rest[:i], rest[i+1:]
	for _, elem := range strings.Split(app, "/") {
		if err := checkName(elem); err != nil {
			return "", "", fmt.Errorf("%w: app %q: %v", ErrBadFLVPath, app, err)
		}
	}
	if err := checkName(stream); err != nil {
		return "", "", fmt.Errorf("%w: stream %q: %v", ErrBadFLVPath, stream, err)
	}
	return app, stream, nil
}

// checkName checks one path element of an app, or a stream name.
func checkName(s string) error {
	switch s {
	case "":
		return errors.New("empty")
	case ".", "..":
		return errors.New("not a name")
	}
	if !utf8.ValidString(s) {
		return errors.New("invalid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ?#%[]\\", r) {
			return fmt.Errorf("character %q not allowed", r)
		}
	}
	return nil
}
