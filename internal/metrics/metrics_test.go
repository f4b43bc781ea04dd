package metrics

import (
	"bytes"
	"errors"
	"math"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

func TestWriteExactText(t *testing.T) {
	var s Set
	s.Gauge("srs_streams", "The number of streams.", 2)
	s.Counter("srs_send_bytes_total", "Bytes\\sent\nin total.", 1234567890123)
	s.Gauge("castd_stream_viewers", "Viewers.", 3, L("vhost", "a\"b"), L("app", `c\d`), L("stream", "e\nf"))
	s.Gauge("castd_stream_viewers", "ignored: the family exists", 0.5, L("vhost", "x"), L("app", "y"), L("stream", "z"))
	s.Histogram("castd_hook_latency_seconds", "Hook latency.", HistogramSample{
		Labels: []Label{L("event", "on_publish")}, Bounds: []float64{0.1, 1}, Counts: []uint64{1, 3}, Count: 4, Sum: 7.25,
	})
	var b bytes.Buffer
	n, err := s.WriteTo(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := `# HELP srs_streams The number of streams.
# TYPE srs_streams gauge
srs_streams 2
# HELP srs_send_bytes_total Bytes\\sent\nin total.
# TYPE srs_send_bytes_total counter
srs_send_bytes_total 1234567890123
# HELP castd_stream_viewers Viewers.
# TYPE castd_stream_viewers gauge
castd_stream_viewers{vhost="a\"b",app="c\\d",stream="e\nf"} 3
castd_stream_viewers{vhost="x",app="y",stream="z"} 0.5
# HELP castd_hook_latency_seconds Hook latency.
# TYPE castd_hook_latency_seconds histogram
castd_hook_latency_seconds_bucket{event="on_publish",le="0.1"} 1
castd_hook_latency_seconds_bucket{event="on_publish",le="1"} 3
castd_hook_latency_seconds_bucket{event="on_publish",le="+Inf"} 4
castd_hook_latency_seconds_sum{event="on_publish"} 7.25
castd_hook_latency_seconds_count{event="on_publish"} 4
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if n != int64(b.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d", n, b.Len())
	}
	// What was written parses back to the same values, escapes undone.
	fams, err := Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) != 4 || fams[1].Help != "Bytes\\sent\nin total." {
		t.Fatalf("families: %+v", fams)
	}
	if v, ok := fams[2].Get("castd_stream_viewers", map[string]string{"vhost": `a"b`, "app": `c\d`, "stream": "e\nf"}); !ok || v != 3 {
		t.Errorf("escaped labels did not round-trip: %v %v", v, ok)
	}
	if v, ok := fams[3].Get("castd_hook_latency_seconds_bucket", map[string]string{"event": "on_publish", "le": "+Inf"}); !ok || v != 4 {
		t.Errorf("+Inf bucket: %v %v", v, ok)
	}
	checkPromtool(t, want)
}

func TestWriteRefusesBadFamilies(t *testing.T) {
	cases := []struct {
		name string
		fams []Family
	}{
		{"metric name with dash", []Family{{Name: "a-b", Type: Gauge}}},
		{"metric name starting with digit", []Family{{Name: "1a", Type: Gauge}}},
		{"reserved label", []Family{{Name: "a", Type: Gauge, Samples: []Sample{{Labels: []Label{L("__x", "")}}}}}},
		{"label twice", []Family{{Name: "a", Type: Gauge, Samples: []Sample{{Labels: []Label{L("x", ""), L("x", "")}}}}}},
		{"family twice", []Family{{Name: "a", Type: Gauge}, {Name: "a", Type: Gauge}}},
		{"unknown type", []Family{{Name: "a", Type: "meter"}}},
		{"histogram bounds descending", []Family{{Name: "h", Type: Histogram, Histograms: []HistogramSample{{Bounds: []float64{2, 1}, Counts: []uint64{0, 0}}}}}},
		{"histogram counts not cumulative", []Family{{Name: "h", Type: Histogram, Histograms: []HistogramSample{{Bounds: []float64{1, 2}, Counts: []uint64{2, 1}, Count: 2}}}}},
		{"histogram le label", []Family{{Name: "h", Type: Histogram, Histograms: []HistogramSample{{Labels: []Label{L("le", "1")}}}}}},
		{"gauge with histogram", []Family{{Name: "g", Type: Gauge, Histograms: []HistogramSample{{}}}}},
	}
	for _, c := range cases {
		if _, err := Write(&bytes.Buffer{}, c.fams); err == nil {
			t.Errorf("%s: written without error", c.name)
		}
	}
}

func TestWriteError(t *testing.T) {
	var s Set
	for i := 0; i < 1000; i++ {
		s.Gauge("g", "help", float64(i), L("i", strings.Repeat("x", i)))
	}
	if _, err := s.WriteTo(failingWriter{}); err == nil {
		t.Fatal("a failing writer must give an error")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestFormatFloat(t *testing.T) {
	cases := map[float64]string{
		0: "0", 1: "1", -3: "-3", 0.25: "0.25", 1e20: "1e+20", 123456789012345: "123456789012345",
		math.Inf(1): "+Inf", math.Inf(-1): "-Inf", math.NaN(): "NaN", 1.5e-7: "1.5e-07",
	}
	for v, want := range cases {
		if got := formatFloat(v); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	head := "# HELP a help\n# TYPE a gauge\n"
	hist := "# HELP h help\n# TYPE h histogram\n"
	cases := []struct{ name, text string }{
		{"no TYPE", "# HELP a help\na 1\n"},
		{"no HELP", "# TYPE a gauge\na 1\n"},
		{"sample before its TYPE", "a 1\n# HELP a help\n# TYPE a gauge\n"},
		{"second TYPE", head + "# TYPE a gauge\na 1\n"},
		{"second HELP", head + "# HELP a again\na 1\n"},
		{"unknown type", "# HELP a help\n# TYPE a meter\na 1\n"},
		{"invalid name", head + "a-b 1\n"},
		{"missing value", head + "a\n"},
		{"bad value", head + "a one\n"},
		{"hex value", head + "a 0x10\n"},
		{"bad timestamp", head + "a 1 now\n"},
		{"too many fields", head + "a 1 2 3\n"},
		{"unquoted label", head + "a{x=1} 1\n"},
		{"unterminated label", head + "a{x=\"1} 1\n"},
		{"bad escape", head + "a{x=\"\\t\"} 1\n"},
		{"label twice", head + "a{x=\"1\",x=\"2\"} 1\n"},
		{"reserved label", head + "a{__name__=\"1\"} 1\n"},
		{"no comma", head + "a{x=\"1\" y=\"2\"} 1\n"},
		{"duplicate sample", head + "a{x=\"1\"} 1\na{x=\"1\"} 2\n"},
		{"duplicate sample, labels reordered", head + "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n"},
		{"sampled out of declaration order", "# HELP a h\n# TYPE a gauge\n# HELP b h\n# TYPE b gauge\nb 1\na 1\n"},
		{"no final newline", head + "a 1"},
		{"carriage return", head + "a 1\r\n"},
		{"not contiguous", head + "a{x=\"1\"} 1\n# HELP b help\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n"},
		{"TYPE after samples", head + "a 1\n# TYPE a gauge\n"},
		{"negative counter", "# HELP c help\n# TYPE c counter\nc -1\n"},
		{"histogram without +Inf", hist + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"},
		{"histogram +Inf != count", hist + "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n"},
		{"histogram not cumulative", hist + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"},
		{"histogram le descending", hist + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"},
		{"histogram no sum", hist + "h_bucket{le=\"+Inf\"} 1\nh_count 1\n"},
		{"histogram bucket without le", hist + "h_bucket 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"},
		{"histogram plain sample", hist + "h 1\n"},
	}
	for _, c := range cases {
		if fams, err := Parse(strings.NewReader(c.text)); err == nil {
			t.Errorf("%s: accepted: %+v", c.name, fams)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	text := `# a plain comment
# HELP a help with \\ and \n
# TYPE a gauge
a{x="1",y="q\"uote"} 1.5 1700000000000
a{ x = "2" } -Inf

# HELP h help
# TYPE h histogram
h_bucket{le="0.5"} 1
h_bucket{le="+Inf"} 2
h_sum 0.75
h_count 2
# HELP s help
# TYPE s summary
s{quantile="0.5"} 1
s_sum 1
s_count 1
`
	fams, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) != 3 || fams[0].Help != "help with \\ and \n" || len(fams[0].Samples) != 2 || fams[1].Type != Histogram {
		t.Fatalf("%+v", fams)
	}
	if v, ok := fams[0].Get("a", map[string]string{"x": "1", "y": `q"uote`}); !ok || v != 1.5 {
		t.Errorf("a: %v %v", v, ok)
	}
	// A name found inside "HELP" itself, and tabs between tokens.
	fams, err = Parse(strings.NewReader("# HELP H the\thelp\n#\tTYPE\tH\tgauge\nH 1\n"))
	if err != nil || fams[0].Help != "the\thelp" || fams[0].Type != Gauge {
		t.Errorf("name H: %+v %v", fams, err)
	}
}

func TestLiveHistogram(t *testing.T) {
	h := NewLiveHistogram([]float64{1, 0.1, math.NaN(), 1, 10})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, v := range []float64{0.05, 0.1, 0.5, 5, 50} {
				h.Observe(v)
			}
		}()
	}
	wg.Wait()
	s := h.Snapshot(L("event", "on_play"))
	// 0.05 and 0.1 are <= 0.1; 0.5 <= 1; 5 <= 10; 50 only in +Inf.
	if !equalFloats(s.Bounds, []float64{0.1, 1, 10}) || !equalUints(s.Counts, []uint64{8, 12, 16}) || s.Count != 20 {
		t.Fatalf("snapshot %+v", s)
	}
	if math.Abs(s.Sum-4*55.65) > 1e-9 {
		t.Errorf("sum %v", s.Sum)
	}
	v := NewHistogramVec("event", LatencyBounds)
	v.With("on_publish").Observe(0.02)
	v.With("on_connect").Observe(40)
	v.With("on_publish").Observe(0.2)
	var set Set
	for _, hs := range v.Snapshots() {
		set.Histogram("castd_hook_latency_seconds", "Hook latency.", hs)
	}
	var b bytes.Buffer
	if _, err := set.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	fams, err := Parse(&b)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if got, _ := fams[0].Get("castd_hook_latency_seconds_count", map[string]string{"event": "on_publish"}); got != 2 {
		t.Errorf("on_publish count %v", got)
	}
	if !strings.HasPrefix(text, "# HELP castd_hook_latency_seconds Hook latency.\n# TYPE castd_hook_latency_seconds histogram\ncastd_hook_latency_seconds_bucket{event=\"on_connect\"") {
		t.Errorf("histograms must be sorted by label value:\n%s", text)
	}
	checkPromtool(t, text)
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalUints(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkPromtool runs `promtool check metrics` when promtool is installed
// (metricstest does the same for other packages).
func checkPromtool(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed; the strict parser checked the text")
		return
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("# HELP a help\n# TYPE a gauge\na{x=\"1\"} 1\n")
	f.Add("# HELP h help\n# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.75\nh_count 2\n")
	f.Add("# HELP c c\n# TYPE c counter\nc{a=\"\\\"\\\\\\n\"} 1e3 123\n")
	f.Add("a 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		fams, err := Parse(strings.NewReader(text))
		if err != nil {
			return
		}
		// Whatever parses must survive being written and parsed again.
		var set Set
		for _, fam := range fams {
			if fam.Type != Gauge && fam.Type != Counter {
				continue
			}
			for _, s := range fam.Samples {
				var labels []Label
				for k, v := range s.Labels {
					labels = append(labels, L(k, v))
				}
				if fam.Type == Gauge {
					set.Gauge(fam.Name, fam.Help, s.Value, labels...)
				} else {
					set.Counter(fam.Name, fam.Help, s.Value, labels...)
				}
			}
		}
		var b bytes.Buffer
		if _, err := set.WriteTo(&b); err != nil {
			t.Fatalf("re-write: %v", err)
		}
		if _, err := Parse(&b); err != nil {
			t.Fatalf("re-parse of %q: %v", b.String(), err)
		}
	})
}
