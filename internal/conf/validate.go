package conf

import "fmt"

// validate checks every directive against the registry: an unknown name at
// any level is fatal, as in SRS ("illegal directive"). It also rejects
// braces on plain directives. Duplicates (the first one wins) and
// arguments on blocks are reported as warnings.
func validate(root *Directive) (warnings []string, err error) {
	var walk func(parent *Directive, parentPath string) error
	walk = func(parent *Directive, parentPath string) error {
		first := map[string]*Directive{}
		for _, d := range parent.Children {
			path := d.Name
			if parentPath != "" {
				path = parentPath + "." + d.Name
			}
			e, ok := Lookup(path)
			if !ok {
				where := parentPath
				if where == "" {
					where = "the root"
				}
				return errorAt(d, "illegal directive %q in %s", d.Name, where)
			}
			if !e.Block && d.Block {
				return errorAt(d, "%s takes no block", path)
			}
			if e.Block && len(d.Args) > 0 && !blockTakesArg(path) {
				warnings = append(warnings, fmt.Sprintf("%s: arguments of %s are ignored", posOrName(d), path))
			}
			if prev, dup := first[d.Name]; dup && !e.Repeat {
				warnings = append(warnings, fmt.Sprintf("%s: duplicate %s ignored; the one at %s is used",
					posOrName(d), path, posOrName(prev)))
			} else if !dup {
				first[d.Name] = d
			}
			if e.Block && !e.FreeForm {
				if err := walk(d, path); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root, ""); err != nil {
		return nil, err
	}
	return warnings, nil
}

// blockTakesArg lists blocks named by an argument: `vhost <name>`,
// `ingest <id>`, `transcode <app>`, `engine <name>`.
func blockTakesArg(path string) bool {
	switch path {
	case "vhost", "vhost.ingest", "vhost.transcode", "vhost.transcode.engine", "vhost.ingest.engine":
		return true
	}
	return false
}

func posOrName(d *Directive) string {
	if p := d.Pos(); p != "" {
		return p
	}
	return d.Name
}
