package conf

import "fmt"

// stop says what ended a statement read by the lexer.
type stop int

const (
	stopSemicolon  stop = iota // `name args;`
	stopBlockOpen              // `name args {`
	stopBlockClose             // `}`
	stopEOF                    // end of input with nothing pending
)

// lexer splits SRS config text into statements. It follows SRS's rules
// (cfg read_token): a `#` starts a comment only where a token could start,
// quotes group a token and are removed, and a statement must end on the line
// where it started.
type lexer struct {
	file string
	data []byte
	pos  int
	line int
}

func newLexer(file string, data []byte) *lexer {
	return &lexer{file: file, data: data, line: 1}
}

func (l *lexer) errorf(line int, format string, args ...any) *Error {
	return &Error{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// next reads one statement: the words before `;` or `{`, or a lone `}`, or
// the end of input. line is where the first word started.
func (l *lexer) next() (words []string, line int, end stop, err error) {
	for {
		// Whitespace between words; a line break is only allowed before the
		// first word.
		for l.pos < len(l.data) && isSpace(l.data[l.pos]) {
			c := l.data[l.pos]
			if (c == '\n' || c == '\r') && len(words) > 0 {
				return nil, line, 0, l.errorf(l.line, "unexpected end of line in directive %q (a directive must end with \";\" or \"{\" on the line where it starts)", words[0])
			}
			if c == '\n' {
				l.line++
			}
			l.pos++
		}
		if l.pos >= len(l.data) {
			if len(words) > 0 {
				return nil, line, 0, l.errorf(l.line, "unexpected end of file in directive %q, expecting \";\" or \"{\"", words[0])
			}
			return nil, l.line, stopEOF, nil
		}
		if len(words) == 0 {
			line = l.line
		}

		switch c := l.data[l.pos]; c {
		case ';':
			l.pos++
			if len(words) == 0 {
				return nil, line, 0, l.errorf(l.line, "unexpected \";\"")
			}
			return words, line, stopSemicolon, nil
		case '{':
			l.pos++
			if len(words) == 0 {
				return nil, line, 0, l.errorf(l.line, "unexpected \"{\"")
			}
			return words, line, stopBlockOpen, nil
		case '}':
			l.pos++
			if len(words) > 0 {
				return nil, line, 0, l.errorf(l.line, "unexpected \"}\" in directive %q, expecting \";\"", words[0])
			}
			return nil, line, stopBlockClose, nil
		case '#':
			// The comment runs to the end of the line; the line break itself
			// is left for the whitespace loop, which rejects it if a
			// directive is still open.
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
		case '"', '\'':
			word, end, done, err := l.quoted(c, words)
			if err != nil {
				return nil, line, 0, err
			}
			if word != "" {
				// SRS drops empty tokens, so `""` adds no argument.
				words = append(words, word)
			}
			if done {
				if len(words) == 0 {
					return nil, line, 0, l.errorf(line, "empty directive")
				}
				return words, line, end, nil
			}
		default:
			start := l.pos
			for l.pos < len(l.data) {
				b := l.data[l.pos]
				if isSpace(b) || b == ';' || b == '{' {
					break
				}
				l.pos++
			}
			words = append(words, string(l.data[start:l.pos]))
		}
	}
}

// quoted reads a token that starts with quote q. After the closing quote
// only whitespace, `;` or `{` may follow; done reports that the quote was
// followed by `;` or `{`, which ends the statement.
func (l *lexer) quoted(q byte, words []string) (word string, end stop, done bool, err error) {
	openLine := l.line
	l.pos++ // opening quote
	start := l.pos
	for {
		if l.pos >= len(l.data) {
			return "", 0, false, l.errorf(openLine, "unexpected end of file inside a %c-quoted string", q)
		}
		c := l.data[l.pos]
		if c == q {
			break
		}
		if c == '\n' || c == '\r' {
			if len(words) > 0 {
				return "", 0, false, l.errorf(l.line, "unexpected end of line inside a quoted argument of %q", words[0])
			}
			if c == '\n' {
				l.line++
			}
		}
		l.pos++
	}
	word = string(l.data[start:l.pos])
	l.pos++ // closing quote
	if l.pos >= len(l.data) {
		return "", 0, false, l.errorf(l.line, "unexpected end of file after a quoted string, expecting \";\" or \"{\"")
	}
	switch c := l.data[l.pos]; {
	case isSpace(c):
		return word, 0, false, nil
	case c == ';':
		l.pos++
		return word, stopSemicolon, true, nil
	case c == '{':
		l.pos++
		return word, stopBlockOpen, true, nil
	default:
		return "", 0, false, l.errorf(l.line, "unexpected %q after a closing quote (want a space, \";\" or \"{\")", rune(c))
	}
}
