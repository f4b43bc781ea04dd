package conf

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Limits that keep a hostile or broken config from exhausting the process.
const (
	maxIncludeDepth = 16       // nested include levels
	maxIncludeFiles = 1024     // files read through include, in total
	maxNesting      = 64       // nested blocks
	maxConfigBytes  = 16 << 20 // bytes of config text, all files together
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// parser builds a Directive tree and expands include directives in place.
type parser struct {
	readFile func(string) ([]byte, error)
	open     []string // files being parsed, outermost first, for cycle checks
	files    int
	bytes    int
}

// parseTree parses data (named name in errors) into an unnamed root block.
// Included files are read with readFile; paths are used exactly as written,
// so relative ones resolve against the process working directory, as in SRS.
func parseTree(name string, data []byte, readFile func(string) ([]byte, error)) (*Directive, error) {
	p := &parser{readFile: readFile}
	root := &Directive{}
	if err := p.parseFile(name, data, root, 0); err != nil {
		return nil, err
	}
	return root, nil
}

func (p *parser) parseFile(name string, data []byte, parent *Directive, nesting int) error {
	p.bytes += len(data)
	if p.bytes > maxConfigBytes {
		return &Error{File: name, Msg: fmt.Sprintf("config text exceeds %d bytes", maxConfigBytes)}
	}
	p.open = append(p.open, name)
	defer func() { p.open = p.open[:len(p.open)-1] }()
	return p.parseBody(newLexer(name, bytes.TrimPrefix(data, utf8BOM)), parent, false, nesting)
}

// parseBody reads statements into parent until the end of the file or, in a
// block, until the closing brace.
func (p *parser) parseBody(l *lexer, parent *Directive, inBlock bool, nesting int) error {
	for {
		words, line, end, err := l.next()
		if err != nil {
			return err
		}
		switch end {
		case stopBlockClose:
			if !inBlock {
				return l.errorf(line, "unexpected \"}\" with no block open")
			}
			return nil
		case stopEOF:
			if inBlock {
				return &Error{File: parent.File, Line: parent.Line,
					Msg: fmt.Sprintf("unexpected end of file: block %q opened here is not closed with \"}\"", parent.Name)}
			}
			return nil
		}

		if words[0] == "include" {
			if end == stopBlockOpen {
				return l.errorf(line, "include cannot open a block; write `include file [file...];`")
			}
			if len(words) == 1 {
				return l.errorf(line, "include needs at least one file")
			}
			for _, f := range words[1:] {
				if err := p.include(f, l.file, line, parent, nesting); err != nil {
					return err
				}
			}
			continue
		}

		d := &Directive{Name: words[0], Args: words[1:], File: l.file, Line: line, Block: end == stopBlockOpen}
		parent.Children = append(parent.Children, d)
		if d.Block {
			if nesting+1 > maxNesting {
				return l.errorf(line, "blocks nested more than %d levels deep", maxNesting)
			}
			if err := p.parseBody(l, d, true, nesting+1); err != nil {
				return err
			}
		}
	}
}

// include parses file into parent as if its text stood where the include
// directive is.
func (p *parser) include(file, fromFile string, fromLine int, parent *Directive, nesting int) error {
	fail := func(format string, args ...any) error {
		return &Error{File: fromFile, Line: fromLine, Msg: fmt.Sprintf(format, args...)}
	}
	if len(p.open) > maxIncludeDepth {
		return fail("include %s: includes nested more than %d levels deep", file, maxIncludeDepth)
	}
	for i, open := range p.open {
		if filepath.Clean(open) == filepath.Clean(file) {
			chain := append(append([]string{}, p.open[i:]...), file)
			return fail("include cycle: %s", strings.Join(chain, " -> "))
		}
	}
	p.files++
	if p.files > maxIncludeFiles {
		return fail("include %s: more than %d included files", file, maxIncludeFiles)
	}
	if p.readFile == nil {
		return fail("include %s: including files is not available here", file)
	}
	data, err := p.readFile(file)
	if err != nil {
		return fail("include %s: %v", file, err)
	}
	if err := p.parseFile(file, data, parent, nesting); err != nil {
		// Every error from inside the included file (or from files it
		// includes) learns which include led there.
		var e *Error
		if errors.As(err, &e) {
			e.IncludedFrom = append(e.IncludedFrom, fmt.Sprintf("%s:%d", fromFile, fromLine))
		}
		return err
	}
	return nil
}
