// Package metrics writes Prometheus' text exposition format (0.0.4): HELP
// and TYPE lines, counters, gauges and histograms with escaped label values.
// It also parses that format strictly, so tests can check what castd serves
// without an outside tool, and keeps lock-free histograms for latencies.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ContentType is the media type of the text format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Type is a metric family's type.
type Type string

// The types castd writes.
const (
	Counter   Type = "counter"
	Gauge     Type = "gauge"
	Histogram Type = "histogram"
	Untyped   Type = "untyped" // only met when parsing
	Summary   Type = "summary" // only met when parsing
)

// Label is one name="value" pair.
type Label struct{ Name, Value string }

// L builds a label.
func L(name, value string) Label { return Label{name, value} }

// Sample is one counter or gauge value.
type Sample struct {
	Labels []Label
	Value  float64
}

// HistogramSample is one histogram: cumulative counts per upper bound. The
// +Inf bucket is written from Count.
type HistogramSample struct {
	Labels []Label
	Bounds []float64 // ascending upper bounds, +Inf excluded
	Counts []uint64  // cumulative: Counts[i] observations were <= Bounds[i]
	Count  uint64
	Sum    float64
}

// Family is a metric with its help, type and samples.
type Family struct {
	Name       string
	Help       string
	Type       Type
	Samples    []Sample          // counters and gauges
	Histograms []HistogramSample // histograms
}

// Set collects families in the order they are first added; adding to an
// existing name appends a sample to it.
type Set struct {
	fams  []*Family
	index map[string]*Family
}

func (s *Set) family(name, help string, t Type) *Family {
	if s.index == nil {
		s.index = map[string]*Family{}
	}
	f, ok := s.index[name]
	if !ok {
		f = &Family{Name: name, Help: help, Type: t}
		s.index[name] = f
		s.fams = append(s.fams, f)
	}
	return f
}

// Family declares a family without adding a sample, so its HELP and TYPE
// show even when it has no series yet.
func (s *Set) Family(name, help string, t Type) { s.family(name, help, t) }

// Gauge adds a gauge sample.
func (s *Set) Gauge(name, help string, v float64, labels ...Label) {
	f := s.family(name, help, Gauge)
	f.Samples = append(f.Samples, Sample{Labels: labels, Value: v})
}

// Counter adds a counter sample.
func (s *Set) Counter(name, help string, v float64, labels ...Label) {
	f := s.family(name, help, Counter)
	f.Samples = append(f.Samples, Sample{Labels: labels, Value: v})
}

// Histogram adds a histogram.
func (s *Set) Histogram(name, help string, h HistogramSample) {
	f := s.family(name, help, Histogram)
	f.Histograms = append(f.Histograms, h)
}

// Families returns what was added.
func (s *Set) Families() []Family {
	out := make([]Family, len(s.fams))
	for i, f := range s.fams {
		out[i] = *f
	}
	return out
}

// WriteTo writes every family in the text format.
func (s *Set) WriteTo(w io.Writer) (int64, error) {
	return Write(w, s.Families())
}

// Write writes families in the text format. It refuses invalid metric or
// label names, a family twice, and a type that does not match its samples,
// so a bug shows as an error rather than as a scrape Prometheus rejects.
func Write(w io.Writer, fams []Family) (int64, error) {
	cw := &countWriter{w: bufio.NewWriter(w)}
	seen := map[string]bool{}
	for _, f := range fams {
		if err := checkFamily(f, seen); err != nil {
			return cw.n, err
		}
		cw.printf("# HELP %s %s\n", f.Name, escapeHelp(f.Help))
		cw.printf("# TYPE %s %s\n", f.Name, f.Type)
		for _, s := range f.Samples {
			writeSample(cw, f.Name, s.Labels, "", s.Value)
		}
		for _, h := range f.Histograms {
			for i, b := range h.Bounds {
				writeSample(cw, f.Name+"_bucket", h.Labels, formatFloat(b), float64(h.Counts[i]))
			}
			writeSample(cw, f.Name+"_bucket", h.Labels, "+Inf", float64(h.Count))
			writeSample(cw, f.Name+"_sum", h.Labels, "", h.Sum)
			writeSample(cw, f.Name+"_count", h.Labels, "", float64(h.Count))
		}
	}
	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	if cw.err != nil {
		return cw.n, fmt.Errorf("metrics: write: %w", cw.err)
	}
	return cw.n, nil
}

func checkFamily(f Family, seen map[string]bool) error {
	if !validMetricName(f.Name) {
		return fmt.Errorf("metrics: invalid metric name %q", f.Name)
	}
	if seen[f.Name] {
		return fmt.Errorf("metrics: family %s written twice", f.Name)
	}
	seen[f.Name] = true
	switch f.Type {
	case Counter, Gauge:
		if len(f.Histograms) > 0 {
			return fmt.Errorf("metrics: %s is a %s but has histograms", f.Name, f.Type)
		}
	case Histogram:
		if len(f.Samples) > 0 {
			return fmt.Errorf("metrics: %s is a histogram but has plain samples", f.Name)
		}
		for _, h := range f.Histograms {
			if err := checkHistogram(f.Name, h); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("metrics: %s has unsupported type %q", f.Name, f.Type)
	}
	for _, s := range f.Samples {
		if err := checkLabels(f.Name, s.Labels); err != nil {
			return err
		}
	}
	return nil
}

func checkHistogram(name string, h HistogramSample) error {
	if len(h.Bounds) != len(h.Counts) {
		return fmt.Errorf("metrics: histogram %s has %d bounds and %d counts", name, len(h.Bounds), len(h.Counts))
	}
	for i := range h.Bounds {
		if math.IsNaN(h.Bounds[i]) || math.IsInf(h.Bounds[i], 0) || (i > 0 && h.Bounds[i] <= h.Bounds[i-1]) {
			return fmt.Errorf("metrics: histogram %s bounds must be finite and ascending", name)
		}
		if (i > 0 && h.Counts[i] < h.Counts[i-1]) || h.Counts[i] > h.Count {
			return fmt.Errorf("metrics: histogram %s counts must be cumulative", name)
		}
	}
	for _, l := range h.Labels {
		if l.Name == "le" {
			return fmt.Errorf("metrics: histogram %s must not carry an le label", name)
		}
	}
	return checkLabels(name, h.Labels)
}

func checkLabels(metric string, labels []Label) error {
	names := map[string]bool{}
	for _, l := range labels {
		if !validLabelName(l.Name) {
			return fmt.Errorf("metrics: %s: invalid label name %q", metric, l.Name)
		}
		if names[l.Name] {
			return fmt.Errorf("metrics: %s: label %s twice", metric, l.Name)
		}
		names[l.Name] = true
	}
	return nil
}

func writeSample(cw *countWriter, name string, labels []Label, le string, v float64) {
	cw.writeString(name)
	if len(labels) > 0 || le != "" {
		cw.writeString("{")
		for i, l := range labels {
			if i > 0 {
				cw.writeString(",")
			}
			cw.writeString(l.Name + `="` + escapeLabelValue(l.Value) + `"`)
		}
		if le != "" {
			if len(labels) > 0 {
				cw.writeString(",")
			}
			cw.writeString(`le="` + le + `"`)
		}
		cw.writeString("}")
	}
	cw.writeString(" " + formatFloat(v) + "\n")
}

// formatFloat writes whole numbers without an exponent (byte counters read
// better that way) and everything else as Go's shortest representation.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string       { return helpEscaper.Replace(s) }
func escapeLabelValue(s string) string { return valueEscaper.Replace(s) }

func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c == ':' || isLetter(c) || (i > 0 && isDigit(c))) {
			return false
		}
	}
	return true
}

func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i, c := range s {
		if !(c == '_' || isLetter(c) || (i > 0 && isDigit(c))) {
			return false
		}
	}
	return true
}

func isLetter(c rune) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c rune) bool  { return c >= '0' && c <= '9' }

// countWriter keeps the first error and the bytes written.
type countWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (c *countWriter) writeString(s string) {
	if c.err != nil {
		return
	}
	n, err := c.w.WriteString(s)
	c.n += int64(n)
	c.err = err
}

func (c *countWriter) printf(format string, args ...any) {
	c.writeString(fmt.Sprintf(format, args...))
}
