package conf

// Finding is a directive present in a config that castd does not act on.
type Finding struct {
	Path      string // registry path, e.g. "vhost.hls"
	Status    Status // StatusPending or StatusIgnored
	Directive *Directive
}

// Unsupported lists the directives in root that castd accepts but does not
// act on: not built yet (StatusPending) or never (StatusIgnored). Each path
// is reported once, at its first occurrence, so the server can log one line
// per feature. A block is reported instead of its children, and a block
// switched off with `enabled off;` is not reported at all.
func Unsupported(root *Directive) []Finding {
	var out []Finding
	seen := map[string]bool{}
	var walk func(parent *Directive, parentPath string)
	walk = func(parent *Directive, parentPath string) {
		for _, d := range parent.Children {
			path := d.Name
			if parentPath != "" {
				path = parentPath + "." + d.Name
			}
			e, ok := Lookup(path)
			if !ok {
				continue // validation already rejected it
			}
			switch {
			case e.Status == StatusImplemented:
				if e.Block && !e.FreeForm {
					walk(d, path)
				}
			case e.Block && d.Get("enabled").Arg0() == "off":
				// Present but switched off: nothing to warn about.
			case !seen[path]:
				seen[path] = true
				out = append(out, Finding{Path: path, Status: e.Status, Directive: d})
			}
		}
	}
	walk(root, "")
	return out
}
