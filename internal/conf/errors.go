package conf

import (
	"fmt"
	"strings"
)

// Error is a configuration error tied to a place in a config file, printed
// as "conf/srs.conf:12: what is wrong". Errors from included files also say
// which include directive pulled the file in.
type Error struct {
	File string // the file as it was opened ("" for errors without a file)
	Line int    // 1-based; 0 when the error is about the whole file
	Msg  string
	// IncludedFrom lists the include directives ("file:line") that led to
	// File, innermost first.
	IncludedFrom []string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	}
	b.WriteString(e.Msg)
	if len(e.IncludedFrom) > 0 {
		fmt.Fprintf(&b, " (included from %s)", strings.Join(e.IncludedFrom, ", "))
	}
	return b.String()
}

// errorAt builds an Error positioned at d. A nil d, or one without a file
// (created by a legacy rewrite or by env-only mode), gives a bare message.
func errorAt(d *Directive, format string, args ...any) *Error {
	e := &Error{Msg: fmt.Sprintf(format, args...)}
	if d != nil {
		e.File, e.Line = d.File, d.Line
	}
	return e
}
