// Package metricstest checks Prometheus text served by castd in tests: the
// strict parser always, and `promtool check metrics` too when it is installed.
package metricstest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/castd/castd/internal/metrics"
)

// Check fails t unless text is valid exposition format, and returns its
// families by name.
func Check(t testing.TB, text string) map[string]metrics.ParsedFamily {
	t.Helper()
	fams, err := metrics.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatalf("invalid exposition format: %v\n%s", err, text)
	}
	if bin, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(bin, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		// promtool exits 1 for lint advice too (e.g. a counter without
		// _total); only its parse errors matter here.
		if out, err := cmd.CombinedOutput(); err != nil && strings.Contains(string(out), "error while linting") {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
	out := make(map[string]metrics.ParsedFamily, len(fams))
	for _, f := range fams {
		out[f.Name] = f
	}
	return out
}

// Value returns the sample called name (a family, or a histogram's
// _bucket, _sum or _count) with exactly these labels.
func Value(t testing.TB, fams map[string]metrics.ParsedFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, cut := strings.CutSuffix(name, suffix); !ok && cut {
			f, ok = fams[base]
		}
	}
	if !ok {
		t.Fatalf("no family %s", name)
	}
	v, ok := f.Get(name, labels)
	if !ok {
		t.Fatalf("%s has no sample with labels %v: %+v", name, labels, f.Samples)
	}
	return v
}
