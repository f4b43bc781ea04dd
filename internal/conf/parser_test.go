package conf

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// flat renders a tree as "name[args]{children}" for compact expectations.
func flat(d *Directive) string {
	var b strings.Builder
	for i, c := range d.Children {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.Name)
		if len(c.Args) > 0 {
			b.WriteString("[" + strings.Join(c.Args, "|") + "]")
		}
		if c.Block {
			b.WriteString("{" + flat(c) + "}")
		}
	}
	return b.String()
}

func TestParseTreeValid(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"only space", " \t\r\n\n", ""},
		{"name only", "winlin;", "winlin"},
		{"one arg", "winlin arg0;", "winlin[arg0]"},
		{"three args", "winlin arg0 arg1 arg2;", "winlin[arg0|arg1|arg2]"},
		{"block", "winlin arg0 arg1 arg2 {dir0;}", "winlin[arg0|arg1|arg2]{dir0}"},
		{"block no space", "winlin arg0 arg1 arg2{dir0;}", "winlin[arg0|arg1|arg2]{dir0}"},
		{"nested", "winlin arg0 {dir0 dir_arg0 {ddir0 ddir_arg0;}}", "winlin[arg0]{dir0[dir_arg0]{ddir0[ddir_arg0]}}"},
		{"empty block", "a {}", "a{}"},
		{"two on a line", "dir0 arg0;dir1 arg1;", "dir0[arg0] dir1[arg1]"},
		{"tabs", "listen\t1935\t;", "listen[1935]"},
		{"crlf endings", "a 1;\r\nb {\r\n c 2;\r\n}\r\n", "a[1] b{c[2]}"},
		{"comment line", "# hello\nlisten 1935; # trailing\n", "listen[1935]"},
		{"hash inside token", "a a#b;", "a[a#b]"},
		{"srt streamid", "x streamid=#!::r=live/livestream,m=publish;", "x[streamid=#!::r=live/livestream,m=publish]"},
		{"comment after block open", "a { # note\n b 1;\n}", "a{b[1]}"},
		{"double quotes", `a "b c";`, "a[b c]"},
		{"single quotes", `a 'b c';`, "a[b c]"},
		{"quote then brace", `a "b"{c;}`, "a[b]{c}"},
		{"quote then semicolon", `a "b";`, "a[b]"},
		{"quote keeps hash", `a "#x";`, "a[#x]"},
		{"quote keeps semicolon", `a "x;y";`, "a[x;y]"},
		{"quote inside token is literal", `a b"c;`, `a[b"c]`},
		{"empty quotes dropped", `a "" b;`, "a[b]"},
		{"brace inside token", "a b};", "a[b}]"},
		{"bom", "\xEF\xBB\xBFlisten 1935;", "listen[1935]"},
		{"quoted name across lines", "\"a\nb\" c;", "a\nb[c]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := ParseTree("t.conf", []byte(tt.in), Options{ReadFile: noFiles})
			if err != nil {
				t.Fatalf("ParseTree(%q): %v", tt.in, err)
			}
			if got := flat(root); got != tt.want {
				t.Fatalf("ParseTree(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTreeErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lone semicolon", ";", `t.conf:1: unexpected ";"`},
		{"lone brace", "{}", `t.conf:1: unexpected "{"`},
		{"stray close", "a;\n}", `t.conf:2: unexpected "}" with no block open`},
		{"close with args", "a { b }", `t.conf:1: unexpected "}" in directive "b"`},
		{"eof in block", "a {\n b;\n", `t.conf:1: unexpected end of file: block "a" opened here is not closed`},
		{"eof in directive", "a b", `t.conf:1: unexpected end of file in directive "a"`},
		{"newline before arg", "dir0 \narg0;dir1 arg1;", `t.conf:1: unexpected end of line in directive "dir0"`},
		{"newline after name", "dir0\n arg0;dir1 arg1;", `t.conf:1: unexpected end of line in directive "dir0"`},
		{"newline before semicolon", "dir0 arg0\n;dir1 arg1;", `t.conf:1: unexpected end of line`},
		{"cr before arg", "dir0 \rarg0;", `unexpected end of line`},
		{"cr before semicolon", "dir0 arg0\r;", `unexpected end of line`},
		{"newline before brace", "dir0 \n { dir1 arg1; }", `t.conf:1: unexpected end of line in directive "dir0"`},
		{"second directive broken", "dir0 arg0;\ndir1\n arg1;", `t.conf:2: unexpected end of line in directive "dir1"`},
		{"comment hides semicolon", "listen 1935 # ;\n", `unexpected end of line`},
		{"junk after quote", `a "b"c;`, `unexpected 'c' after a closing quote`},
		{"brace after quote", `a { b "c"}`, `unexpected '}' after a closing quote`},
		{"unclosed quote", `a "b;`, `unexpected end of file inside a "-quoted string`},
		{"newline in quoted arg", "a \"b\nc\";", `unexpected end of line inside a quoted argument of "a"`},
		{"eof after quote", `a "b"`, `unexpected end of file after a quoted string`},
		{"empty directive", `"";`, `empty directive`},
		{"include without file", "include;", `include needs at least one file`},
		{"include newline", "include\n;", `unexpected end of line`},
		{"include block", "include a {}", `include cannot open a block`},
		{"deep nesting", strings.Repeat("a{", maxNesting+1) + strings.Repeat("}", maxNesting+1), "nested more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTree("t.conf", []byte(tt.in), Options{ReadFile: noFiles})
			wantErr(t, err, tt.want)
			var e *Error
			if !errors.As(err, &e) || e.File != "t.conf" {
				t.Fatalf("error %v is not a positioned *Error", err)
			}
		})
	}
}

func TestParseTreeLines(t *testing.T) {
	root, err := ParseTree("t.conf", []byte("# c\n\nlisten 1935;\nvhost a {\n\n  play {\n    gop_cache off;\n  }\n}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	gop := root.Get("vhost").Get("play").Get("gop_cache")
	if got := []int{root.Get("listen").Line, root.Get("vhost").Line, root.Get("vhost").Get("play").Line, gop.Line}; !slices.Equal(got, []int{3, 4, 6, 7}) {
		t.Fatalf("lines = %v, want [3 4 6 7]", got)
	}
	if gop.Pos() != "t.conf:7" {
		t.Fatalf("Pos = %q", gop.Pos())
	}
}

func TestDirectiveLookups(t *testing.T) {
	root, err := ParseTree("t.conf", []byte("a 1; b x; a 2; vhost v1 {} vhost v2 { n 7; }"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := root.Get("a").Arg0(); got != "1" {
		t.Fatalf("first wins: Get(a) = %q, want 1", got)
	}
	if n := len(root.GetAll("a")); n != 2 {
		t.Fatalf("GetAll(a) = %d entries", n)
	}
	if got := root.GetArg0("vhost", "v2").Get("n").Arg0(); got != "7" {
		t.Fatalf("GetArg0 = %q", got)
	}
	var nilDir *Directive
	if nilDir.Get("x").Get("y").Arg0() != "" || nilDir.GetAll("x") != nil || nilDir.Arg(3) != "" || nilDir.Pos() != "" {
		t.Fatal("nil directive lookups must be empty")
	}
	a, _ := ParseTree("x", []byte("v a { b 1 2; }"), Options{})
	b, _ := ParseTree("y", []byte("v a {\n b 1 2;\n}"), Options{})
	c, _ := ParseTree("y", []byte("v a { b 1 3; }"), Options{})
	if !a.Equal(b) || a.Equal(c) {
		t.Fatal("Equal must ignore positions and compare args")
	}
}
