package dvr

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/format/mp4"
)

// recordedFLV returns the bytes of a finished 3 s FLV recording.
func recordedFLV(t *testing.T) []byte {
	t.Helper()
	files, _ := record(t, settings(t.TempDir(), "r.flv"), deliveries(t, streamSpec{durationMs: 3000, video: true, audio: "aac", meta: true}))
	return mustRead(t, files[0].Path)
}

func TestRecoverFLV(t *testing.T) {
	full := recordedFLV(t)
	// Tag boundaries of the full file, to know what each cut keeps.
	scan, err := scanFLV(bytes.NewReader(full), int64(len(full)))
	if err != nil || scan.valid != int64(len(full)) {
		t.Fatalf("full file: %+v %v", scan, err)
	}
	_, allTags := readFLV(t, writeTemp(t, full))
	tests := []struct {
		name string
		data []byte
	}{
		{"complete", full},
		{"torn in the last tag", full[:len(full)-7]},
		{"torn in a tag header", full[:len(full)/2+3]},
		{"zeros after the last write", append(full[:len(full)/3:len(full)/3], make([]byte, 4096)...)},
		{"only the header", full[:13]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tmp := filepath.Join(dir, "live", "cam.1.flv.tmp")
			writeFile(t, tmp, tc.data)
			other := filepath.Join(dir, "live", "notes.txt.tmp")
			writeFile(t, other, []byte("not ours"))

			got := Recover([]string{filepath.Join(dir, "[app]/[stream].[timestamp].flv")}, nil)
			final := filepath.Join(dir, "live", "cam.1.flv")
			if len(got) != 1 || got[0].Err != nil || got[0].Path != final || got[0].Kept+got[0].Dropped != int64(len(tc.data)) {
				t.Fatalf("recovered %+v", got)
			}
			if _, err := os.Stat(tmp); !os.IsNotExist(err) {
				t.Errorf(".tmp still there: %v", err)
			}
			if _, err := os.Stat(other); err != nil {
				t.Errorf("a file that is not a recording was touched: %v", err)
			}
			b := mustRead(t, final)
			if int64(len(b)) != got[0].Kept {
				t.Errorf("file has %d bytes, kept %d", len(b), got[0].Kept)
			}
			_, tags := readFLV(t, final)
			if len(tags) > 0 && !bytes.Equal(tags[len(tags)-1].Data, allTags[len(tags)-1].Data) {
				t.Error("the last tag kept differs from the recording's")
			}
			if len(tags) == 0 {
				return
			}
			meta := metaNumbers(t, tags[0])
			var first, last uint32
			for i, tag := range tags[1:] {
				if i == 0 {
					first = tag.Timestamp
				}
				last = max(last, tag.Timestamp)
			}
			if meta["filesize"] != float64(len(b)) || meta["duration"] != float64(last-first)/1000 {
				t.Errorf("onMetaData duration %v filesize %v, want %v and %d", meta["duration"], meta["filesize"],
					float64(last-first)/1000, len(b))
			}
		})
	}
}

func TestRecoverLeavesWhatItCannotFix(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "[stream].[timestamp].flv")
	garbage := filepath.Join(dir, "a.1.flv.tmp")
	writeFile(t, garbage, []byte("this is no FLV file"))
	taken := filepath.Join(dir, "b.1.flv.tmp")
	writeFile(t, taken, recordedFLV(t))
	writeFile(t, filepath.Join(dir, "b.1.flv"), []byte("precious"))

	got := Recover([]string{tmpl, tmpl}, nil) // the same template twice is scanned once
	if len(got) != 2 {
		t.Fatalf("recovered %+v", got)
	}
	for _, r := range got {
		if r.Err == nil || r.Path != "" {
			t.Errorf("%s: %+v, want an error and no rename", r.Tmp, r)
		}
		if _, err := os.Stat(r.Tmp); err != nil {
			t.Errorf("%s removed: %v", r.Tmp, err)
		}
	}
	if !errors.Is(got[0].Err, ErrNotFLV) || !errors.Is(got[1].Err, ErrFileExists) {
		t.Errorf("errors %v / %v", got[0].Err, got[1].Err)
	}
	if string(mustRead(t, filepath.Join(dir, "b.1.flv"))) != "precious" {
		t.Error("an existing file was replaced")
	}
}

func TestRecoverMP4(t *testing.T) {
	ds := deliveries(t, streamSpec{durationMs: 7000, video: true, audio: "aac", meta: true})
	for _, fragmented := range []bool{true, false} {
		name := map[bool]string{true: "fragmented", false: "progressive"}[fragmented]
		t.Run(name, func(t *testing.T) {
			set := settings(t.TempDir(), "r.mp4")
			set.FragmentedMP4 = fragmented
			files, _ := record(t, set, ds)
			full := mustRead(t, files[0].Path)

			dir := t.TempDir()
			tmp := filepath.Join(dir, "cam.mp4.tmp")
			writeFile(t, tmp, full[:len(full)*2/3]) // the process died two thirds in
			got := Recover([]string{filepath.Join(dir, "[stream].mp4")}, nil)
			if len(got) != 1 {
				t.Fatalf("recovered %+v", got)
			}
			if !fragmented {
				if !errors.Is(got[0].Err, mp4.ErrNotRecoverable) || got[0].Path != "" {
					t.Errorf("progressive: %+v, want ErrNotRecoverable", got[0])
				}
				if _, err := os.Stat(tmp); err != nil {
					t.Errorf("the .tmp must stay for manual repair: %v", err)
				}
				return
			}
			if got[0].Err != nil || got[0].Dropped == 0 {
				t.Fatalf("fragmented: %+v", got[0])
			}
			f := parseMP4(t, filepath.Join(dir, "cam.mp4"))
			video := trackSamples(t, f, 1)
			// 2 s fragments: two thirds of the data keep at least 2 of them.
			if len(video) < 100 || len(video) >= 175 || !video[0].Sync {
				t.Errorf("%d video samples kept of 175", len(video))
			}
		})
	}
}

func TestRecoverPattern(t *testing.T) {
	tests := []struct {
		tmpl, root string
		match      []string
		noMatch    []string
	}{
		{"objs/nginx/html/[app]/[stream].[timestamp].flv", "objs/nginx/html",
			[]string{"objs/nginx/html/live/cam.123.flv.tmp", "objs/nginx/html/a/b/cam.1.flv.tmp"},
			[]string{"objs/nginx/html/live/cam.123.flv", "objs/nginx/html/live/cam.123.mp4.tmp", "objs/nginx/html/cam.flv.tmp"}},
		{"/data/rec-[stream].mp4", "/data", []string{"/data/rec-x.mp4.tmp"}, []string{"/data/x.mp4.tmp", "/data/rec-.mp4.tmp"}},
		{"[app]/fixed.flv", ".", []string{"live/fixed.flv.tmp"}, []string{"fixed.flv.tmp"}},
		{"/var/rec/fixed.flv", "/var/rec", []string{"/var/rec/fixed.flv.tmp"}, []string{"/var/rec/fixedXflv.tmp"}},
	}
	for _, tc := range tests {
		root, re := recoverPattern(filepath.FromSlash(tc.tmpl))
		if filepath.ToSlash(root) != tc.root {
			t.Errorf("%s: root %q, want %q", tc.tmpl, root, tc.root)
		}
		for _, m := range tc.match {
			if !re.MatchString(m) {
				t.Errorf("%s: %q should match", tc.tmpl, m)
			}
		}
		for _, m := range tc.noMatch {
			if re.MatchString(m) {
				t.Errorf("%s: %q should not match", tc.tmpl, m)
			}
		}
	}
}

// FuzzScanFLV: scanning never fails on a file that starts as FLV, and
// what it keeps is always a well-formed FLV with the tags it counted.
func FuzzScanFLV(f *testing.F) {
	files, _ := record(f, settings(f.TempDir(), "r.flv"), deliveries(f, streamSpec{durationMs: 300, video: true, audio: "aac", meta: true}))
	full := mustRead(f, files[0].Path)
	f.Add(full)
	f.Add(full[:len(full)-5])
	f.Add(full[:40])
	f.Add(append(full[:100:100], make([]byte, 64)...))
	f.Add([]byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"))
	f.Add([]byte("FLV\x01\x05\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scanFLV(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if s.valid > int64(len(data)) || s.valid < flv.HeaderSize+flv.PreviousTagSizeSize {
			t.Fatalf("valid %d of %d", s.valid, len(data))
		}
		_, tags, err := flv.ReadAll(bytes.NewReader(data[:s.valid]))
		if err != nil || len(tags) != s.tags {
			t.Fatalf("kept prefix: %d tags, scan counted %d: %v", len(tags), s.tags, err)
		}
	})
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeTemp(t testing.TB, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.flv")
	writeFile(t, p, b)
	return p
}
