package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// builder turns a validated tree into a Config. Every leaf is read through
// lookup, which applies the environment first, as SRS's getters do.
type builder struct {
	env     func(string) (string, bool)
	envOnly bool

	errs  []error
	warns []string
	envs  map[string]EnvOverride
	// read collects every registry path the builder consulted; tests use it
	// to prove each directive reaches the typed config.
	read map[string]bool
}

const maxErrors = 20

func (b *builder) fail(err error) {
	if len(b.errs) < maxErrors {
		b.errs = append(b.errs, err)
	}
}

func (b *builder) warnf(format string, args ...any) {
	b.warns = append(b.warns, fmt.Sprintf(format, args...))
}

// getenv returns a non-empty environment value; SRS ignores empty ones.
func (b *builder) getenv(name string) (string, bool) {
	if b.env == nil {
		return "", false
	}
	v, ok := b.env(name)
	return v, ok && v != ""
}

// value is where a leaf's setting came from.
type value struct {
	args []string   // args[0] is non-empty
	dir  *Directive // nil when the value came from the environment
	env  string     // the variable's name when it did
}

func (v value) first() string { return v.args[0] }

// at formats the value's origin for messages: "file:line: " or
// "env SRS_X: ".
func (v value) errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if v.dir == nil {
		return &Error{Msg: fmt.Sprintf("env %s: %s", v.env, msg)}
	}
	return errorAt(v.dir, "%s: %s", v.dir.Name, msg)
}

func (v value) where() string {
	if v.dir == nil {
		return "env " + v.env
	}
	if p := v.dir.Pos(); p != "" {
		return p
	}
	return v.dir.Name
}

// lookup finds the setting of the leaf at path (whose last element names a
// child of parent): a non-empty environment variable wins, then the first
// child with a non-empty first argument. ok is false when neither exists,
// and the caller uses its default.
func (b *builder) lookup(parent *Directive, path string) (value, bool) {
	if b.read != nil {
		b.read[path] = true
	}
	var names []string
	if b.env != nil {
		names = registry().env[path] // shared, read-only
	}
	for _, name := range names {
		if s, ok := b.getenv(name); ok {
			if b.envs == nil {
				b.envs = map[string]EnvOverride{}
			}
			b.envs[name] = EnvOverride{Name: name, Path: path, Value: envRecord(path, s)}
			args := []string{s}
			if e, _ := Lookup(path); e.Multi {
				args = strings.Fields(s)
			}
			if len(args) > 0 {
				return value{args: args, env: name}, true
			}
		}
	}
	d := parent.Get(path[strings.LastIndexByte(path, '.')+1:])
	if d == nil || d.Arg0() == "" {
		return value{}, false
	}
	return value{args: d.Args, dir: d}, true
}

func (b *builder) str(parent *Directive, path, def string) string {
	v, ok := b.lookup(parent, path)
	if !ok {
		return def
	}
	return v.first()
}

// list returns every argument, or nil.
func (b *builder) list(parent *Directive, path string) []string {
	v, ok := b.lookup(parent, path)
	if !ok {
		return nil
	}
	return append([]string(nil), v.args...)
}

// flag applies SRS's asymmetric rule: a default-off switch is on only for
// exactly "on", a default-on switch is off only for exactly "off".
func (b *builder) flag(parent *Directive, path string, def bool) bool {
	v, ok := b.lookup(parent, path)
	if !ok {
		return def
	}
	s := v.first()
	if s != "on" && s != "off" {
		b.warnf("%s: %s %q is neither on nor off; read as %s", v.where(), leafName(path), s, onOff(def))
	}
	if def {
		return s != "off"
	}
	return s == "on"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func leafName(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

// enum returns the value when it is one of allowed, else reports an error.
func (b *builder) enum(parent *Directive, path, def string, allowed ...string) string {
	v, ok := b.lookup(parent, path)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if v.first() == a {
			return a
		}
	}
	b.fail(v.errorf("%q is not one of %s", v.first(), strings.Join(allowed, ", ")))
	return def
}

func (b *builder) jitter(parent *Directive, path string) Jitter {
	return Jitter(b.enum(parent, path, string(JitterFull), string(JitterFull), string(JitterZero), string(JitterOff)))
}

// integer reads a whole number in lo..hi; ok is false when it is unset or
// invalid (which is reported). Like SRS's atoi, a fraction is dropped, with
// a warning: full.conf's `interval 9.3` means 9.
func (b *builder) integer(parent *Directive, path string, lo, hi int64) (n int64, ok bool) {
	v, ok := b.lookup(parent, path)
	if !ok {
		return 0, false
	}
	n, truncated, err := parseAtoi(v.first())
	if err != nil {
		b.fail(v.errorf("%v", err))
		return 0, false
	}
	if n < lo || n > hi {
		b.fail(v.errorf("%d is out of range", n))
		return 0, false
	}
	if truncated {
		b.warnf("%s: %s %q is read as %d (whole numbers only)", v.where(), leafName(path), v.first(), n)
	}
	return n, true
}

func (b *builder) int(parent *Directive, path string, def int) int {
	n, ok := b.integer(parent, path, math.MinInt32, math.MaxInt32)
	if !ok {
		return def
	}
	return int(n)
}

func (b *builder) float(parent *Directive, path string, def float64) float64 {
	f, _, ok := b.number(parent, path)
	if !ok {
		return def
	}
	return f
}

// number reads a decimal number; ok is false when unset or invalid.
func (b *builder) number(parent *Directive, path string) (float64, value, bool) {
	v, ok := b.lookup(parent, path)
	if !ok {
		return 0, v, false
	}
	f, err := strconv.ParseFloat(v.first(), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		b.fail(v.errorf("%q is not a number", v.first()))
		return 0, v, false
	}
	return f, v, true
}

// Durations. SRS writes some times in whole seconds, some in fractional
// seconds and some in milliseconds; the registry documents which.

func (b *builder) seconds(parent *Directive, path string, def time.Duration) time.Duration {
	return b.wholeUnits(parent, path, def, time.Second)
}

func (b *builder) millis(parent *Directive, path string, def time.Duration) time.Duration {
	return b.wholeUnits(parent, path, def, time.Millisecond)
}

func (b *builder) wholeUnits(parent *Directive, path string, def, unit time.Duration) time.Duration {
	n, ok := b.integer(parent, path, int64(math.MinInt64/unit), int64(math.MaxInt64/unit))
	if !ok {
		return def
	}
	return time.Duration(n) * unit
}

func (b *builder) fseconds(parent *Directive, path string, def time.Duration) time.Duration {
	return b.fracUnits(parent, path, def, time.Second)
}

func (b *builder) fmillis(parent *Directive, path string, def time.Duration) time.Duration {
	return b.fracUnits(parent, path, def, time.Millisecond)
}

func (b *builder) fracUnits(parent *Directive, path string, def, unit time.Duration) time.Duration {
	f, v, ok := b.number(parent, path)
	if !ok {
		return def
	}
	d := f * float64(unit)
	if d >= math.MaxInt64 || d <= math.MinInt64 {
		b.fail(v.errorf("%v is out of range", f))
		return def
	}
	return time.Duration(d)
}

// parseAtoi reads an optional sign, digits and an optional fraction, which
// is dropped (truncated reports that it was not zero). Anything else is an
// error, where C's atoi would quietly return 0.
func parseAtoi(s string) (n int64, truncated bool, err error) {
	bad := fmt.Errorf("%q is not a number", s)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if hasFrac && !allDigits(frac) {
		return 0, false, bad
	}
	truncated = strings.Trim(frac, "0") != ""
	digits := strings.TrimPrefix(strings.TrimPrefix(whole, "+"), "-")
	if len(digits) < len(whole)-1 || !allDigits(digits) || digits+frac == "" {
		return 0, false, bad
	}
	if digits == "" {
		return 0, truncated, nil // ".5" reads as 0, like atoi
	}
	n, err = strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%q is out of range", s)
	}
	return n, truncated, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
