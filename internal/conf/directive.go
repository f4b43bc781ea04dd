package conf

import (
	"fmt"
	"slices"
)

// Directive is one node of the config tree: `name args...;` or
// `name args... { children }`. The root is an unnamed block. Every directive
// remembers the file and line it came from, so later checks can point at it.
//
// All methods are nil-safe, so lookups chain without checks:
// root.Get("vhost").Get("hls").Get("enabled").Arg0().
type Directive struct {
	Name     string
	Args     []string
	Children []*Directive
	File     string
	Line     int
	// Block is true when the directive was written with braces, which tells
	// a legacy `refer a.com;` from a modern `refer { ... }`.
	Block bool
}

// Get returns the first child called name, or nil. SRS resolves repeated
// directives the same way: the first one wins.
func (d *Directive) Get(name string) *Directive {
	if d == nil {
		return nil
	}
	for _, c := range d.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// GetArg0 returns the first child called name whose first argument is arg0,
// the way SRS finds `vhost <name>` or `ingest <id>`.
func (d *Directive) GetArg0(name, arg0 string) *Directive {
	if d == nil {
		return nil
	}
	for _, c := range d.Children {
		if c.Name == name && c.Arg0() == arg0 {
			return c
		}
	}
	return nil
}

// GetAll returns every child called name, in file order.
func (d *Directive) GetAll(name string) []*Directive {
	if d == nil {
		return nil
	}
	var out []*Directive
	for _, c := range d.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Arg0 returns the first argument, or "" when there is none.
func (d *Directive) Arg0() string { return d.Arg(0) }

// Arg returns argument i, or "" when there is none.
func (d *Directive) Arg(i int) string {
	if d == nil || i < 0 || i >= len(d.Args) {
		return ""
	}
	return d.Args[i]
}

// Pos returns "file:line", or "" for a directive that has no file.
func (d *Directive) Pos() string {
	if d == nil || d.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", d.File, d.Line)
}

// Equal reports whether two trees have the same names, arguments and
// children in the same order; positions are ignored.
func (d *Directive) Equal(o *Directive) bool {
	if d == nil || o == nil {
		return d == o
	}
	if d.Name != o.Name || !slices.Equal(d.Args, o.Args) || len(d.Children) != len(o.Children) {
		return false
	}
	for i := range d.Children {
		if !d.Children[i].Equal(o.Children[i]) {
			return false
		}
	}
	return true
}

// getOrCreate returns the first child called name, appending a new one that
// borrows at's position when there is none. Legacy rewrites use it.
func (d *Directive) getOrCreate(name string, at *Directive) *Directive {
	if c := d.Get(name); c != nil {
		return c
	}
	c := &Directive{Name: name}
	if at != nil {
		c.File, c.Line = at.File, at.Line
	}
	d.Children = append(d.Children, c)
	return c
}

// remove deletes child c (by identity) if present.
func (d *Directive) remove(c *Directive) {
	d.Children = slices.DeleteFunc(d.Children, func(x *Directive) bool { return x == c })
}
