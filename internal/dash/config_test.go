package dash

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsSRSs(t *testing.T) {
	// SRS's code defaults (not full.conf's comments): 10 s fragments, 5 s
	// updates, 300 s timeshift, 5 segments, cleanup on, 120 s dispose.
	want := Config{
		Fragment: 10 * time.Second, UpdatePeriod: 5 * time.Second, Timeshift: 300 * time.Second,
		Path: "./objs/nginx/html", MPDFile: "[app]/[stream].mpd", WindowSize: 5, Cleanup: true, Dispose: 120 * time.Second,
	}
	if got := DefaultConfig(); got != want {
		t.Fatalf("DefaultConfig() = %+v, want %+v", got, want)
	}
}

func TestConfigNormalized(t *testing.T) {
	cases := []struct {
		name string
		in   Config
		want func(Config) Config
	}{
		{"defaults stay", DefaultConfig(), func(c Config) Config { return c }},
		{"tiny fragment and update period", Config{Fragment: time.Millisecond, UpdatePeriod: 0, Timeshift: time.Second, WindowSize: 3},
			func(c Config) Config {
				c.Fragment, c.UpdatePeriod, c.MPDFile = minFragment, minUpdatePeriod, "[app]/[stream].mpd"
				return c
			}},
		{"no timeshift takes the default", Config{Fragment: time.Second, UpdatePeriod: time.Second, Timeshift: -1, WindowSize: 3, MPDFile: "x.mpd"},
			func(c Config) Config { c.Timeshift = 300 * time.Second; return c }},
		{"window bounds", Config{Fragment: time.Second, UpdatePeriod: time.Second, Timeshift: time.Second, WindowSize: -4, MPDFile: "x.mpd"},
			func(c Config) Config { c.WindowSize = 1; return c }},
		{"huge window", Config{Fragment: time.Second, UpdatePeriod: time.Second, Timeshift: time.Second, WindowSize: 1 << 30, MPDFile: "x.mpd"},
			func(c Config) Config { c.WindowSize = maxWindowSize; return c }},
		{"negative dispose is never", Config{Fragment: time.Second, UpdatePeriod: time.Second, Timeshift: time.Second, WindowSize: 1, MPDFile: "x.mpd", Dispose: -time.Second},
			func(c Config) Config { c.Dispose = 0; return c }},
	}
	for _, c := range cases {
		if got, want := c.in.normalized(), c.want(c.in); got != want {
			t.Errorf("%s: %+v, want %+v", c.name, got, want)
		}
	}
}

func TestNewLayout(t *testing.T) {
	cases := []struct {
		name, path, mpdFile, vhost, app, stream string
		want                                    Layout
		wantErr                                 string
	}{
		{"SRS's default", "./objs/nginx/html", "", "__defaultVhost__", "live", "livestream",
			Layout{MPD: "objs/nginx/html/live/livestream.mpd", Dir: "objs/nginx/html/live/livestream", BaseURL: "livestream/"}, ""},
		{"vhost in the template", "/srv", "[vhost]/[app]/[stream].mpd", "a.com", "live", "s",
			Layout{MPD: "/srv/a.com/live/s.mpd", Dir: "/srv/a.com/live/s", BaseURL: "s/"}, ""},
		{"a multi-level app", "/srv", "", "v", "show/live", "s",
			Layout{MPD: "/srv/show/live/s.mpd", Dir: "/srv/show/live/s", BaseURL: "s/"}, ""},
		{"a name to escape in the BaseURL", "/srv", "", "v", "live", "a b#c",
			Layout{MPD: "/srv/live/a b#c.mpd", Dir: "/srv/live/a b#c", BaseURL: "a%20b%23c/"}, ""},
		{"empty dash_path is the working directory", "", "", "v", "live", "s",
			Layout{MPD: "live/s.mpd", Dir: "live/s", BaseURL: "s/"}, ""},
		{"a template that climbs stays under dash_path", "/srv", "../../[stream].mpd", "v", "live", "s",
			Layout{MPD: "/srv/s.mpd", Dir: "/srv/s", BaseURL: "s/"}, ""},
		{"stream ..", "/srv", "", "v", "live", "..", Layout{}, "cannot name a directory"},
		{"stream with a slash", "/srv", "", "v", "live", "a/b", Layout{}, "cannot name a directory"},
		{"empty stream", "/srv", "", "v", "live", "", Layout{}, "cannot name a directory"},
		{"app with ..", "/srv", "", "v", "../etc", "s", Layout{}, "cannot name a directory"},
		{"template naming a directory", "/srv", "[app]/", "v", "live", "s", Layout{}, "names no file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Path, cfg.MPDFile = c.path, c.mpdFile
			got, err := NewLayout(cfg, c.vhost, c.app, c.stream)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			want := c.want
			want.MPD, want.Dir = filepath.FromSlash(want.MPD), filepath.FromSlash(want.Dir)
			if err != nil || got != want {
				t.Fatalf("%+v, %v; want %+v", got, err, want)
			}
		})
	}
}

// TestDirStore writes through a temporary file and a rename, and removes
// quietly what is already gone.
func TestDirStore(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "live", "s", "video-1.m4s")
	var s DirStore
	for _, data := range []string{"first", "second"} {
		if err := s.WriteFile(name, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(name); err != nil || string(b) != data {
			t.Fatalf("read %q, %v; want %q", b, err, data)
		}
	}
	if _, err := os.Stat(name + tmpSuffix); !os.IsNotExist(err) {
		t.Fatalf("the temporary file is left: %v", err)
	}
	for range 2 {
		if err := s.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	// A file where the directory should be makes a clear error.
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFile(filepath.Join(blocker, "x.mpd"), []byte("x")); err == nil || !strings.Contains(err.Error(), "dash: ") {
		t.Fatalf("error %v", err)
	}
}

// TestPackagerOnDisk runs a publish into real files: the MPD and segments
// land where the layout says, and Dispose removes them and the directory.
func TestPackagerOnDisk(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Path, cfg.Fragment = dir, time.Second
	layout, err := NewLayout(cfg, "__defaultVhost__", "live", "s")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: t0}
	pk := NewPackager(Options{Config: cfg, Layout: layout, Now: clock.Now})
	pk.Publish()
	for _, p := range (stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 3000}).packets(t) {
		clock.set(t0.Add(time.Duration(p.Timestamp) * time.Millisecond))
		if err := pk.Write(p, p.Timestamp); err != nil {
			t.Fatal(err)
		}
	}
	if err := pk.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"live/s.mpd", "live/s/video-init.mp4", "live/s/audio-init.mp4", "live/s/video-3.m4s", "live/s/audio-3.m4s"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pk.Dispose(); err != nil {
		t.Fatal(err)
	}
	left, err := os.ReadDir(filepath.Join(dir, "live"))
	if err != nil || len(left) != 0 {
		t.Fatalf("left after Dispose: %v, %v", left, err)
	}
}
