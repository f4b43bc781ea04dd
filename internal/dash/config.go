package dash

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/castd/castd/internal/pathtmpl"
)

// Config is a vhost's dash{} block.
type Config struct {
	Fragment     time.Duration // dash_fragment: the shortest segment
	UpdatePeriod time.Duration // dash_update_period: MPD@minimumUpdatePeriod
	Timeshift    time.Duration // dash_timeshift: MPD@timeShiftBufferDepth
	Path         string        // dash_path: root directory of the files
	MPDFile      string        // dash_mpd_file: the MPD's path under Path, a template
	WindowSize   int           // dash_window_size: segments listed in the MPD
	Cleanup      bool          // dash_cleanup: delete segments that left the window
	Dispose      time.Duration // dash_dispose: delete everything this long after unpublish; 0 never
}

// DefaultConfig is SRS's defaults (the code's, not full.conf's comments).
func DefaultConfig() Config {
	return Config{
		Fragment: 10 * time.Second, UpdatePeriod: 5 * time.Second, Timeshift: 300 * time.Second,
		Path: "./objs/nginx/html", MPDFile: "[app]/[stream].mpd", WindowSize: 5, Cleanup: true,
		Dispose: 120 * time.Second,
	}
}

// Bounds that keep odd configs working: a segment shorter than 100 ms would
// make the MPD larger than the media, and an empty window lists nothing.
const (
	minFragment     = 100 * time.Millisecond
	minUpdatePeriod = 100 * time.Millisecond
	maxWindowSize   = 10000
)

// normalized returns c with out-of-range values replaced by usable ones.
func (c Config) normalized() Config {
	d := DefaultConfig()
	if c.Fragment < minFragment {
		c.Fragment = minFragment
	}
	if c.UpdatePeriod < minUpdatePeriod {
		c.UpdatePeriod = minUpdatePeriod
	}
	if c.Timeshift <= 0 {
		c.Timeshift = d.Timeshift
	}
	c.WindowSize = min(max(c.WindowSize, 1), maxWindowSize)
	c.Dispose = max(c.Dispose, 0)
	if c.MPDFile == "" {
		c.MPDFile = d.MPDFile
	}
	return c
}

// Layout is where a stream's files go.
type Layout struct {
	MPD string // the MPD file
	Dir string // the directory of the init and media segments
	// BaseURL is Dir relative to the MPD's directory, as the MPD's BaseURL:
	// the stream name, escaped, and a slash.
	BaseURL string
}

// NewLayout places a stream's files as SRS does: the MPD at
// Path/MPDFile (with [vhost], [app] and [stream] filled in) and the
// segments in a directory named after the stream next to it, so the
// default template gives ./objs/nginx/html/live/livestream.mpd and
// ./objs/nginx/html/live/livestream/video-1.m4s. Names that would leave
// Path are refused.
func NewLayout(c Config, vhost, app, stream string) (Layout, error) {
	if stream == "" || stream == "." || stream == ".." || strings.ContainsAny(stream, "/\\\x00") {
		return Layout{}, fmt.Errorf("dash: stream name %q cannot name a directory", stream)
	}
	if strings.Contains(app, "..") || strings.ContainsAny(app, "\\\x00") {
		return Layout{}, fmt.Errorf("dash: app name %q cannot name a directory", app)
	}
	root := c.Path
	if root == "" {
		root = "."
	}
	rel := pathtmpl.Stream(c.normalized().MPDFile, vhost, app, stream)
	// Cleaning the rooted path keeps ".." in the template from leaving root.
	clean := path.Clean("/" + filepath.ToSlash(rel))
	if clean == "/" || strings.HasSuffix(rel, "/") {
		return Layout{}, fmt.Errorf("dash: dash_mpd_file %q names no file", c.MPDFile)
	}
	mpd := filepath.Join(root, filepath.FromSlash(clean))
	return Layout{
		MPD:     mpd,
		Dir:     filepath.Join(filepath.Dir(mpd), stream),
		BaseURL: url.PathEscape(stream) + "/",
	}, nil
}
