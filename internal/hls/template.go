package hls

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/castd/castd/internal/pathtmpl"
)

// pathVars are the values of SRS's path variables for one file.
type pathVars struct {
	Vhost, App, Stream string
	Seq                int64
	Time               time.Time // [2006] [01] [02] [15] [04] [05] [999]
	// Timestamp is [timestamp]: milliseconds since the epoch, or the
	// segment's floor number with hls_ts_floor.
	Timestamp int64
}

// expand fills a file template (hls_m3u8_file, hls_ts_file, hls_key_file).
// The stream's names come last, so a stream named "[seq]" stays a name and
// cannot inject a variable (DVR follows SRS's order, names first; HLS file
// names also carry [seq], which must stay the muxer's). [duration] is left
// for fillDuration: it is known only when the segment closes.
func expand(tmpl string, v pathVars) string {
	s := strings.NewReplacer(
		"[timestamp]", strconv.FormatInt(v.Timestamp, 10),
		"[seq]", strconv.FormatInt(v.Seq, 10),
	).Replace(tmpl)
	return pathtmpl.Stream(pathtmpl.Time(s, v.Time), v.Vhost, v.App, v.Stream)
}

// fillDuration replaces [duration] with the segment's duration in
// milliseconds, as SRS does in the segment's URI.
func fillDuration(s string, d time.Duration) string {
	return strings.ReplaceAll(s, "[duration]", strconv.FormatInt(d.Milliseconds(), 10))
}

// errEscapes is wrapped by errors about file names that leave their root.
var errEscapes = errors.New("hls: file name leaves its directory")

// cleanRel cleans a file name relative to a root directory (hls_path,
// hls_key_file_path) and refuses one that would leave it: stream names
// come from publishers and must never write outside the HLS directory.
func cleanRel(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "\x00\\") {
		return "", fmt.Errorf("%w: %q", errEscapes, name)
	}
	c := path.Clean(name)
	if path.IsAbs(c) || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%w: %q", errEscapes, name)
	}
	return c, nil
}

// joinPath joins a configured directory and a relative name the way SRS
// reports paths ("./objs/nginx/html" + "live/a.ts"), keeping a leading
// "./" that path.Join would drop.
func joinPath(dir, rel string) string {
	dir = strings.TrimRight(dir, "/")
	if dir == "" {
		return rel
	}
	return dir + "/" + rel
}

// relURL is the URL of target seen from the directory fromDir, both clean
// slash paths under one root: "live/a.ts" from "live" is "a.ts", and from
// "other" it is "../live/a.ts".
func relURL(fromDir, target string) string {
	if fromDir == "." || fromDir == "" {
		return target
	}
	from := strings.Split(fromDir, "/")
	to := strings.Split(target, "/")
	i := 0
	for i < len(from) && i < len(to)-1 && from[i] == to[i] {
		i++
	}
	return strings.Repeat("../", len(from)-i) + strings.Join(to[i:], "/")
}

// urlDir is the directory part of a clean slash path, "" at the root.
func urlDir(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}
