package conf

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestIncludeInPlace(t *testing.T) {
	files := map[string]string{
		"conf/vhost.conf": "vhost a.com {\n    include conf/play.conf;\n}\n",
		"conf/play.conf":  "play {\n gop_cache off;\n}\n",
		"conf/empty.conf": "",
	}
	main := "listen 1935;\ninclude conf/vhost.conf conf/empty.conf;\nvhost b.com {}\n"
	c, err := Parse("conf/main.conf", []byte(main), Options{ReadFile: memFiles(files)})
	if err != nil {
		t.Fatal(err)
	}
	if got := flat(c.Root); got != "listen[1935] vhost[a.com]{play{gop_cache[off]}} vhost[b.com]{}" {
		t.Fatalf("tree = %q", got)
	}
	gop := c.Root.GetArg0("vhost", "a.com").Get("play").Get("gop_cache")
	if gop.Pos() != "conf/play.conf:2" {
		t.Fatalf("included directive at %q, want conf/play.conf:2", gop.Pos())
	}
	if c.Vhost("a.com").Play.GopCache {
		t.Fatal("gop_cache off from the included file was not applied")
	}
}

func TestIncludeErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		main  string
		want  string
	}{
		{"missing file", nil, "include nope.conf;", "main.conf:1: include nope.conf: open nope.conf: file does not exist"},
		{"self cycle", map[string]string{"a.conf": "include a.conf;"}, "include a.conf;",
			"a.conf:1: include cycle: a.conf -> a.conf (included from main.conf:1)"},
		{"main in cycle", map[string]string{"a.conf": "include main.conf;"}, "include a.conf;",
			"include cycle: main.conf -> a.conf -> main.conf"},
		{"cleaned paths cycle", map[string]string{"./a.conf": "include a.conf;", "a.conf": "x;"}, "include ./a.conf;",
			"include cycle"},
		{"error inside include", map[string]string{"a.conf": "\n\nvhost x {\n"}, "listen 1935;\ninclude a.conf;",
			`a.conf:3: unexpected end of file: block "vhost" opened here is not closed with "}" (included from main.conf:2)`},
		{"nested include chain", map[string]string{"a.conf": "include b.conf;", "b.conf": "oops"}, "include a.conf;",
			`b.conf:1: unexpected end of file in directive "oops", expecting ";" or "{" (included from a.conf:1, main.conf:1)`},
		{"block split across files", map[string]string{"a.conf": "}"}, "vhost x {\ninclude a.conf;\n}",
			`a.conf:1: unexpected "}" with no block open`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("main.conf", []byte(tt.main), Options{ReadFile: memFiles(tt.files)})
			wantErr(t, err, tt.want)
		})
	}
}

func TestIncludeDepthLimit(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 40; i++ {
		files[fmt.Sprintf("f%d.conf", i)] = fmt.Sprintf("include f%d.conf;", i+1)
	}
	_, err := Parse("main.conf", []byte("include f0.conf;"), Options{ReadFile: memFiles(files)})
	wantErr(t, err, "includes nested more than 16 levels deep")

	// 16 levels is fine.
	files = map[string]string{"f16.conf": "listen 1935;"}
	for i := 0; i < 16; i++ {
		files[fmt.Sprintf("f%d.conf", i)] = fmt.Sprintf("include f%d.conf;", i+1)
	}
	c, err := Parse("main.conf", []byte("include f1.conf;"), Options{ReadFile: memFiles(files)})
	if err != nil {
		t.Fatalf("16 levels: %v", err)
	}
	if c.Root.Get("listen").File != "f16.conf" {
		t.Fatalf("listen from %q", c.Root.Get("listen").File)
	}
}

func TestIncludeFanOutLimit(t *testing.T) {
	// Every level includes the next one ten times: without a file budget
	// this would read 10^12 files.
	files := map[string]string{}
	for i := 0; i < 12; i++ {
		files[fmt.Sprintf("f%d.conf", i)] = "include" + strings.Repeat(fmt.Sprintf(" f%d.conf", i+1), 10) + ";"
	}
	files["f12.conf"] = "x;"
	_, err := Parse("main.conf", []byte("include f0.conf;"), Options{ReadFile: memFiles(files)})
	wantErr(t, err, "included files")
}

func TestIncludeReadFileError(t *testing.T) {
	boom := errors.New("permission denied")
	_, err := Parse("main.conf", []byte("listen 1935;\ninclude x.conf;"), Options{ReadFile: func(string) ([]byte, error) { return nil, boom }})
	wantErr(t, err, "main.conf:2: include x.conf: permission denied")
}
