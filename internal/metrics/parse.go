package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// ParsedSample is one sample line.
type ParsedSample struct {
	Name   string // the full name, e.g. x_bucket for a histogram
	Labels map[string]string
	Value  float64
}

// ParsedFamily is a family read back from the text format.
type ParsedFamily struct {
	Name    string
	Help    string
	Type    Type
	Samples []ParsedSample
}

// Get returns the value of the sample with exactly these labels.
func (f ParsedFamily) Get(name string, labels map[string]string) (float64, bool) {
	for _, s := range f.Samples {
		if s.Name == name && sameLabels(s.Labels, labels) {
			return s.Value, true
		}
	}
	return 0, false
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// MaxLine bounds one line of input.
const MaxLine = 64 << 10

// Parse reads the text format strictly, as Prometheus and promtool do, and
// more: every family needs HELP and TYPE before its samples, a family's
// samples are contiguous, names and escapes are valid, a sample appears
// once, counters are not negative, and histograms have cumulative buckets
// with ascending "le" ending in +Inf equal to _count.
func Parse(r io.Reader) ([]ParsedFamily, error) {
	p := parser{byName: map[string]int{}, seen: map[string]struct{}{}, lastSampled: -1}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	sc.Split(splitLines)
	for sc.Scan() {
		p.line++
		if err := p.parseLine(sc.Text()); err != nil {
			return nil, fmt.Errorf("metrics: line %d: %w", p.line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics: line %d: %w", p.line+1, err)
	}
	for i := range p.fams {
		if err := p.finish(&p.fams[i]); err != nil {
			return nil, fmt.Errorf("metrics: %s: %w", p.fams[i].Name, err)
		}
	}
	return p.fams, nil
}

type parser struct {
	line    int
	fams    []ParsedFamily
	byName  map[string]int
	current int // index of the family whose samples are being read
	hasHelp map[string]bool
	seen    map[string]struct{} // series already read (seriesKey)
	// lastSampled is the index of the last family whose samples began:
	// families are sampled in the order they are declared.
	lastSampled int
}

// splitLines is bufio.ScanLines that notes a final line without "\n" and
// refuses "\r" (the format is "\n" only).
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		if b == '\n' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, errUnterminated
	}
	return 0, nil, nil
}

var errUnterminated = errors.New("the last line does not end with a newline")

func (p *parser) family(name string) *ParsedFamily {
	i, ok := p.byName[name]
	if !ok {
		return nil
	}
	return &p.fams[i]
}

func (p *parser) parseLine(line string) error {
	if strings.ContainsRune(line, '\r') {
		return errors.New("carriage return in line")
	}
	if strings.TrimSpace(line) == "" {
		return nil
	}
	if strings.HasPrefix(line, "#") {
		return p.parseComment(line)
	}
	return p.parseSample(line)
}

func (p *parser) parseComment(line string) error {
	// "#", then HELP or TYPE, the metric name, and the rest; tokens are
	// separated by blanks or tabs.
	rest := strings.TrimLeft(line[1:], " \t")
	keyword, rest := nextToken(rest)
	if keyword != "HELP" && keyword != "TYPE" {
		return nil // a plain comment
	}
	name, rest := nextToken(rest)
	if name == "" {
		return nil // "# HELP" alone is a comment too
	}
	if !validMetricName(name) {
		return fmt.Errorf("invalid metric name %q", name)
	}
	fam := p.family(name)
	if fam != nil && len(fam.Samples) > 0 {
		return fmt.Errorf("%s %s after its samples", keyword, name)
	}
	if fam == nil {
		p.byName[name] = len(p.fams)
		p.fams = append(p.fams, ParsedFamily{Name: name})
		fam = &p.fams[len(p.fams)-1]
	}
	if keyword == "HELP" {
		if p.hasHelp == nil {
			p.hasHelp = map[string]bool{}
		}
		if p.hasHelp[name] {
			return fmt.Errorf("second HELP for %s", name)
		}
		p.hasHelp[name] = true
		help, err := unescapeHelp(rest)
		if err != nil {
			return err
		}
		fam.Help = help
		return nil
	}
	if fam.Type != "" {
		return fmt.Errorf("second TYPE for %s", name)
	}
	typ, extra := nextToken(rest)
	if extra != "" {
		return fmt.Errorf("TYPE %s needs exactly one type", name)
	}
	switch t := Type(typ); t {
	case Counter, Gauge, Histogram, Summary, Untyped:
		fam.Type = t
	default:
		return fmt.Errorf("unknown type %q", typ)
	}
	return nil
}

// nextToken splits s at its first blank or tab and drops the separators
// after the token.
func nextToken(s string) (token, rest string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

func unescapeHelp(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i == len(s) {
			return "", errors.New("HELP ends with a backslash")
		}
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		default:
			return "", fmt.Errorf(`invalid escape \%c in HELP`, s[i])
		}
	}
	return b.String(), nil
}

func (p *parser) parseSample(line string) error {
	name, labels, rest, err := parseSeries(line)
	if err != nil {
		return err
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 || len(fields) > 2 || !strings.HasPrefix(rest, " ") {
		return fmt.Errorf("%s: want a value and an optional timestamp", name)
	}
	v, err := parseValue(fields[0])
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return fmt.Errorf("%s: invalid timestamp %q", name, fields[1])
		}
	}
	fam := p.familyOf(name)
	if fam == nil {
		return fmt.Errorf("sample %s before its TYPE", name)
	}
	if fam.Type == "" {
		return fmt.Errorf("family %s has no TYPE", fam.Name)
	}
	if p.hasHelp == nil || !p.hasHelp[fam.Name] {
		return fmt.Errorf("family %s has no HELP", fam.Name)
	}
	// A family's samples must not be split by another family's.
	idx := p.byName[fam.Name]
	if len(fam.Samples) == 0 {
		if idx < p.lastSampled {
			return fmt.Errorf("family %s is declared before %s but sampled after it", fam.Name, p.fams[p.lastSampled].Name)
		}
		p.lastSampled = idx
	} else if p.current != idx {
		return fmt.Errorf("samples of %s are not contiguous", fam.Name)
	}
	p.current = idx
	series := seriesKey(name, labels)
	if _, dup := p.seen[series]; dup {
		return fmt.Errorf("duplicate sample %s%v", name, labels)
	}
	p.seen[series] = struct{}{}
	fam.Samples = append(fam.Samples, ParsedSample{Name: name, Labels: labels, Value: v})
	return nil
}

// seriesKey identifies a sample by its name and labels, whatever their
// order, so duplicates are found in constant time.
func seriesKey(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteString("," + k + "=" + strconv.Quote(labels[k]))
	}
	return b.String()
}

// familyOf finds the family a sample belongs to, histograms' suffixes included.
func (p *parser) familyOf(name string) *ParsedFamily {
	if f := p.family(name); f != nil && f.Type != Histogram && f.Type != Summary {
		return f
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if f := p.family(base); f != nil && (f.Type == Histogram || (f.Type == Summary && suffix != "_bucket")) {
			return f
		}
	}
	if f := p.family(name); f != nil && f.Type == Summary {
		return f // quantile samples
	}
	return nil
}

// parseSeries reads name{labels} and returns the rest of the line.
func parseSeries(line string) (name string, labels map[string]string, rest string, err error) {
	i := 0
	for i < len(line) && line[i] != '{' && line[i] != ' ' && line[i] != '\t' {
		i++
	}
	name = line[:i]
	if !validMetricName(name) {
		return "", nil, "", fmt.Errorf("invalid metric name %q", name)
	}
	labels = map[string]string{}
	if i == len(line) || line[i] != '{' {
		return name, labels, line[i:], nil
	}
	i++ // '{'
	for {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i < len(line) && line[i] == '}' {
			return name, labels, line[i+1:], nil
		}
		j := i
		for j < len(line) && line[j] != '=' {
			j++
		}
		ln := strings.TrimSpace(line[i:j])
		if j == len(line) || !validLabelName(ln) {
			return "", nil, "", fmt.Errorf("%s: invalid label name %q", name, ln)
		}
		if _, dup := labels[ln]; dup {
			return "", nil, "", fmt.Errorf("%s: label %s twice", name, ln)
		}
		j++ // '='
		for j < len(line) && line[j] == ' ' {
			j++
		}
		if j == len(line) || line[j] != '"' {
			return "", nil, "", fmt.Errorf("%s: label %s value must be quoted", name, ln)
		}
		val, n, err := unquoteLabel(line[j+1:])
		if err != nil {
			return "", nil, "", fmt.Errorf("%s: label %s: %w", name, ln, err)
		}
		labels[ln] = val
		i = j + 1 + n
		for i < len(line) && line[i] == ' ' {
			i++
		}
		switch {
		case i < len(line) && line[i] == ',':
			i++
		case i < len(line) && line[i] == '}':
		default:
			return "", nil, "", fmt.Errorf("%s: want , or } after label %s", name, ln)
		}
	}
}

// unquoteLabel reads an escaped label value up to its closing quote and
// returns it and the bytes consumed, quote included.
func unquoteLabel(s string) (string, int, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\n':
			return "", 0, errors.New("newline in label value")
		case '\\':
			i++
			if i == len(s) {
				return "", 0, errors.New("unterminated escape")
			}
			switch s[i] {
			case '\\':
				b.WriteByte('\\')
			case '"':
				b.WriteByte('"')
			case 'n':
				b.WriteByte('\n')
			default:
				return "", 0, fmt.Errorf(`invalid escape \%c`, s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated label value")
}

func parseValue(s string) (float64, error) {
	switch s {
	case "+Inf", "Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	// ParseFloat also takes "inf", "infinity", hex and underscores, which
	// Prometheus does not.
	for _, c := range s {
		if !(isDigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, fmt.Errorf("invalid value %q", s)
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid value %q", s)
	}
	return v, nil
}

// finish checks what needs the whole family: counters and histograms.
func (p *parser) finish(f *ParsedFamily) error {
	if f.Type == "" {
		return errors.New("no TYPE")
	}
	switch f.Type {
	case Counter:
		for _, s := range f.Samples {
			if s.Value < 0 || math.IsNaN(s.Value) {
				return fmt.Errorf("counter value %v", s.Value)
			}
		}
	case Histogram:
		return checkParsedHistogram(f)
	}
	return nil
}

type bucket struct{ le, count float64 }

func checkParsedHistogram(f *ParsedFamily) error {
	type series struct {
		buckets         []bucket
		sum, count      float64
		hasSum, hasCnt  bool
		labelsForErrors string
	}
	all := map[string]*series{}
	key := func(labels map[string]string) string {
		keys := make([]string, 0, len(labels))
		for k := range labels {
			if k != "le" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(k + "=" + strconv.Quote(labels[k]) + ",")
		}
		return b.String()
	}
	get := func(labels map[string]string) *series {
		k := key(labels)
		s, ok := all[k]
		if !ok {
			s = &series{labelsForErrors: "{" + k + "}"}
			all[k] = s
		}
		return s
	}
	for _, smp := range f.Samples {
		s := get(smp.Labels)
		switch smp.Name {
		case f.Name + "_bucket":
			le, ok := smp.Labels["le"]
			if !ok {
				return errors.New("bucket without le")
			}
			v, err := parseValue(le)
			if err != nil || math.IsNaN(v) {
				return fmt.Errorf("bucket le %q", le)
			}
			s.buckets = append(s.buckets, bucket{v, smp.Value})
		case f.Name + "_sum":
			s.sum, s.hasSum = smp.Value, true
		case f.Name + "_count":
			s.count, s.hasCnt = smp.Value, true
		default:
			return fmt.Errorf("sample %s in a histogram", smp.Name)
		}
		if smp.Name != f.Name+"_bucket" {
			if _, ok := smp.Labels["le"]; ok {
				return fmt.Errorf("%s has an le label", smp.Name)
			}
		}
	}
	for _, s := range all {
		if !s.hasSum || !s.hasCnt || len(s.buckets) == 0 {
			return fmt.Errorf("series %s needs buckets, _sum and _count", s.labelsForErrors)
		}
		for i, b := range s.buckets {
			if b.count < 0 || (i > 0 && (b.le <= s.buckets[i-1].le || b.count < s.buckets[i-1].count)) {
				return fmt.Errorf("series %s: buckets must be ascending and cumulative", s.labelsForErrors)
			}
		}
		last := s.buckets[len(s.buckets)-1]
		if !math.IsInf(last.le, 1) {
			return fmt.Errorf("series %s has no +Inf bucket", s.labelsForErrors)
		}
		if last.count != s.count {
			return fmt.Errorf("series %s: +Inf bucket %v != _count %v", s.labelsForErrors, last.count, s.count)
		}
	}
	return nil
}
