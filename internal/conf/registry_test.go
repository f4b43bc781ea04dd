package conf

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

func parentPath(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func TestRegistryConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Directives() {
		if seen[e.Path] {
			t.Errorf("%s listed twice", e.Path)
		}
		seen[e.Path] = true
		if e.Doc == "" {
			t.Errorf("%s has no doc", e.Path)
		}
		if e.Block && (e.Default != "" || e.Unit != "" || e.Multi) {
			t.Errorf("%s: blocks have no default, unit or values", e.Path)
		}
		p := parentPath(e.Path)
		if p == "" {
			continue
		}
		parent, ok := Lookup(p)
		switch {
		case !ok:
			t.Errorf("%s: parent %s is not registered", e.Path, p)
		case !parent.Block || parent.FreeForm:
			t.Errorf("%s: parent %s cannot have registered children", e.Path, p)
		case parent.Status != StatusImplemented && e.Status == StatusImplemented:
			t.Errorf("%s is implemented but its block %s is %s", e.Path, p, parent.Status)
		case parent.Status == StatusIgnored && e.Status != StatusIgnored:
			t.Errorf("%s must be ignored like its block %s", e.Path, p)
		}
	}
	// The directives the brief lists as built.
	for _, p := range []string{"listen", "daemon", "http_api.listen", "http_server.dir", "vhost.play.gop_cache",
		"vhost.publish.normal_timeout", "vhost.http_remux.guess_has_av", "vhost.http_static.dir", "server_id",
		"vhost.hls", "vhost.hls.hls_ctx", "vhost.hls.hls_keys"} {
		if e, _ := Lookup(p); e.Status != StatusImplemented {
			t.Errorf("%s should be implemented", p)
		}
	}
	for _, p := range []string{"tencentcloud_cls", "circuit_breaker", "threads", "tcmalloc_release_rate", "query_latest_version",
		"in_docker", "disable_daemon_for_docker", "auto_reload_for_docker", "asprocess", "vhost.hls.hls_storage", "vhost.hls.hls_mount", "vhost.publish.mr", "vhost.publish.mr_latency", "vhost.publish.parse_sps"} {
		if e, _ := Lookup(p); e.Status != StatusIgnored {
			t.Errorf("%s should be accepted without effect", p)
		}
	}
	for _, p := range []string{"vhost.forward", "vhost.forward.backend", "vhost.exec", "vhost.exec.publish",
		"vhost.transcode", "vhost.transcode.engine.vcodec", "vhost.ingest", "vhost.ingest.engine.output", "ff_log_dir"} {
		if e, _ := Lookup(p); e.Status != StatusImplemented {
			t.Errorf("%s should be implemented", p)
		}
	}
}

// TestBuilderCoversRegistry proves every registered directive reaches the
// typed config, and that the builder reads no unregistered path.
func TestBuilderCoversRegistry(t *testing.T) {
	data, err := os.ReadFile("../../conf/full.conf")
	if err != nil {
		t.Fatal(err)
	}
	root, err := ParseTree("full.conf", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	transform(root)
	if _, err := validate(root); err != nil {
		t.Fatal(err)
	}
	b := &builder{read: map[string]bool{}}
	if _, err := b.build(root, "full.conf", false); err != nil {
		t.Fatal(err)
	}
	for _, e := range Directives() {
		if !e.Block || e.FreeForm {
			if !b.read[e.Path] {
				t.Errorf("%s is registered but never read into Config", e.Path)
			}
		}
	}
	for p := range b.read {
		if _, ok := Lookup(p); !ok {
			t.Errorf("builder reads unregistered %s", p)
		}
	}
}

// treePaths collects the registry paths used in a tree.
func treePaths(d *Directive, prefix string, out map[string]bool) {
	for _, c := range d.Children {
		p := c.Name
		if prefix != "" {
			p = prefix + "." + c.Name
		}
		out[p] = true
		if e, ok := Lookup(p); ok && e.FreeForm {
			continue
		}
		treePaths(c, p, out)
	}
}

func TestFullConfMatchesRegistry(t *testing.T) {
	c, err := Load("../../conf/full.conf", Options{AllowFull: true, ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("full.conf has warnings: %q", c.Warnings)
	}
	used := map[string]bool{}
	treePaths(c.Root, "", used)
	for _, e := range Directives() {
		if !used[e.Path] {
			t.Errorf("full.conf lacks %s", e.Path)
		}
	}
	for p := range used {
		if _, ok := Lookup(p); !ok {
			t.Errorf("full.conf uses unregistered %s", p)
		}
	}
	// The first use of every directive has a comment on the line above.
	// Ingest engines share the transcode engine's notes.
	lines := strings.Split(string(mustRead(t, "../../conf/full.conf")), "\n")
	commented := map[string]bool{}
	var walk func(d *Directive, prefix string)
	walk = func(d *Directive, prefix string) {
		for _, ch := range d.Children {
			p := ch.Name
			if prefix != "" {
				p = prefix + "." + ch.Name
			}
			if !commented[p] && !strings.HasPrefix(p, "vhost.ingest.engine.") {
				if !strings.HasPrefix(strings.TrimSpace(lines[ch.Line-2]), "#") {
					t.Errorf("full.conf:%d: first %s has no comment above it", ch.Line, p)
				}
				commented[p] = true
			}
			if e, _ := Lookup(p); !e.FreeForm {
				walk(ch, p)
			}
		}
	}
	walk(c.Root, "")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestShippedConfigs loads every file in conf/. Files that other files
// include are fragments: they are checked through their includer and must
// at least parse and validate alone.
func TestShippedConfigs(t *testing.T) {
	t.Chdir("../..") // include paths are relative to the working directory
	files, err := filepath.Glob("conf/*.conf")
	if err != nil || len(files) < 17 {
		t.Fatalf("glob: %v, %d files", err, len(files))
	}
	included := map[string]bool{}
	// ParseTree expands includes in place, so find include lines in the text.
	for _, f := range files {
		for _, line := range strings.Split(string(mustRead(t, f)), "\n") {
			if fields := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";")); len(fields) > 1 && fields[0] == "include" {
				for _, a := range fields[1:] {
					included[filepath.Clean(a)] = true
				}
			}
		}
	}
	sort.Strings(files)
	for _, f := range files {
		if included[filepath.Clean(f)] {
			root, err := ParseTree(f, mustRead(t, f), Options{})
			if err == nil {
				transform(root)
				_, err = validate(root)
			}
			if err != nil {
				t.Errorf("fragment %s: %v", f, err)
			}
			continue
		}
		// dvr.s3.conf reads its keys from the environment ($NAME).
		env := envMap("S3_ACCESS_KEY", "test-access", "S3_SECRET_KEY", "test-secret")
		c, err := Load(f, Options{AllowFull: filepath.Base(f) == "full.conf", LookupEnv: env})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(c.Warnings) != 0 {
			t.Errorf("%s: warnings %q", f, c.Warnings)
		}
	}
	if !included["conf/include.vhost.conf"] {
		t.Fatal("include.conf should include conf/include.vhost.conf")
	}
	c, err := Load("conf/include.conf", Options{})
	if err != nil || c.Vhost(DefaultVhost) == nil || c.Root.Get("vhost").File != "./conf/include.vhost.conf" {
		t.Fatalf("include.conf: %v", err)
	}
}

func TestDefaultConfig(t *testing.T) {
	c, err := Default(Options{LookupEnv: envMap("CANDIDATE", "192.168.1.5")})
	if err != nil {
		t.Fatal(err)
	}
	v := c.Vhost(DefaultVhost)
	if !slices.Equal(c.Listen, []string{"1935"}) || c.MaxConnections != 1000 || c.Daemon || c.LogTank != "console" ||
		!c.HTTPAPI.Enabled || c.HTTPAPI.Listen != "1985" || !c.HTTPServer.Enabled || c.HTTPServer.Listen != "8080" ||
		c.HTTPServer.Dir != "./objs/nginx/html" || !c.RTCServer.Enabled || c.RTCServer.Listen != 8000 ||
		c.RTCServer.Candidate != "192.168.1.5" || !c.SRTServer.Enabled || c.SRTServer.Listen != 10080 {
		t.Fatalf("default globals: %+v", c)
	}
	if !v.HLS.Enabled || !v.HTTPRemux.Enabled || v.HTTPRemux.Mount != "[vhost]/[app]/[stream].flv" ||
		!v.RTC.Enabled || !v.RTC.RTMPToRTC || !v.RTC.RTCToRTMP || !v.SRT.Enabled || !v.SRT.SRTToRTMP ||
		v.Play.GopCacheMaxFrames != 2500 {
		t.Fatalf("default vhost: %+v", v)
	}
	if !strings.Contains(DefaultText(), "candidate       $CANDIDATE;") {
		t.Fatal("DefaultText")
	}
	if c, _ := Default(Options{}); c.RTCServer.Candidate != "*" {
		t.Fatal("unset CANDIDATE must detect")
	}
}

func TestUnsupported(t *testing.T) {
	c := mustParse(t, `listen 1935;
tencentcloud_cls { enabled on; }
srt_server { enabled on; sei_filter off; }
vhost a {
    transcode live { enabled on; ffmpeg ffmpeg; }
    dash { enabled off; }
    play { gop_cache on; }
    publish { try_annexb_first off; }
}
vhost b {
    publish { try_annexb_first off; }
}`)
	var got []string
	for _, f := range Unsupported(c.Root) {
		got = append(got, f.Path+"="+f.Status.String()+"@"+f.Directive.Pos())
	}
	want := []string{
		"tencentcloud_cls=accepted, no effect@test.conf:2",
		"vhost.publish.try_annexb_first=accepted, no effect@test.conf:8",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Unsupported =\n%v\nwant\n%v", got, want)
	}
}
