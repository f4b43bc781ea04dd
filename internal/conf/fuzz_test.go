package conf

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzFiles serves includes from memory so fuzzing never touches the disk:
// one fixed fragment, one file that includes itself, and the fuzz input.
func fuzzFiles(input []byte) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		switch name {
		case "vhost.conf":
			return []byte("vhost inc { play { gop_cache off; } }"), nil
		case "loop.conf":
			return []byte("include loop.conf;"), nil
		case "input.conf":
			return input, nil
		}
		return nil, errors.New("no such file")
	}
}

func FuzzParse(f *testing.F) {
	confs, _ := filepath.Glob("../../conf/*.conf")
	for _, p := range confs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(defaultText))
	for _, s := range []string{
		"", ";", "{", "}", "a", "a;", "a {", "a { b; }", "a }", "\"", "'", `a "b`, `a "b"c;`, `""`,
		"a #b\n;", "a b#c;", "# only\n", "a\nb;", "a\r\nb;", "include;", "include vhost.conf;",
		"include loop.conf;", "include input.conf;", "listen 1935; include vhost.conf;",
		"listen 1935; vhost v { mr { enabled on; } refer a.com; forward 1.1.1.1:1935; nack { enabled off; } }",
		"listen 1935; stream_caster { host 1.1.1.1; sip { realm x; } }",
		"listen 1935; vhost v { security { allow play 1.2.3.4/33; } }",
		"listen 1935; vhost v { play { mw_msgs 99999999999999999999; queue_length -9.9; } }",
		"listen 1935; vhost v { hls { hls_fragment 1e308; } }",
		"\xEF\xBB\xBFlisten 1935;", "a{a{a{a{a{}}}}}",
		"listen 1935; vhost v { dvr { dvr_upload { enabled on; endpoint http://[::1; bucket A..b; path_style off; access_key $; secret_key $CANDIDATE; key /[file]; } } }",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{ReadFile: fuzzFiles(data), LookupEnv: envMap("SRS_VHOST_PLAY_MW_MSGS", "7", "CANDIDATE", "1.2.3.4")}
		root, err := ParseTree("input.conf", data, opt)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" {
				t.Fatalf("error %v is not a positioned *Error", err)
			}
			return
		}
		var walk func(d *Directive)
		walk = func(d *Directive) {
			for _, c := range d.Children {
				if c.Name == "" || c.Line < 1 || c.File == "" {
					t.Fatalf("bad directive %+v", c)
				}
				walk(c)
			}
		}
		walk(root)

		c, err := Parse("input.conf", data, opt)
		if err != nil {
			return
		}
		if ch := Diff(c, c); !ch.Empty() {
			t.Fatalf("Diff of a config with itself: %+v", ch)
		}
		Unsupported(c.Root)
		for _, l := range c.Listen {
			if _, err := ListenAddr(l); err != nil {
				t.Fatalf("accepted listen %q that ListenAddr rejects: %v", l, err)
			}
		}
		for _, v := range c.Vhosts {
			if v.ChunkSize < MinChunkSize || v.ChunkSize > MaxChunkSize || v.Play.MWMsgs > maxMWMsgs {
				t.Fatalf("vhost %q escaped the checks: %+v", v.Name, v)
			}
		}
	})
}

func FuzzSplitEndpoint(f *testing.F) {
	for _, s := range []string{"1935", "0.0.0.0:1935", "[::]:1935", "[::1]:80", "::1:1935", ":1", "[]:1", "1.2.3.4:", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, port, err := SplitEndpoint(s)
		if err != nil {
			return
		}
		if port < 1 || port > 65535 {
			t.Fatalf("SplitEndpoint(%q) port %d", s, port)
		}
		if _, err := ListenAddr(s); err != nil {
			t.Fatalf("ListenAddr(%q): %v", s, err)
		}
		_ = ip
	})
}
