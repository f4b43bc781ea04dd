package dvr

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/format/mp4"
	"github.com/castd/castd/internal/hub"
)

// fuzzStream encodes deliveries for FuzzRecorder: per packet, its kind
// (8, 9 or 18), a timestamp step in ms (signed: streams go backwards), a
// one-byte payload length and the payload.
func fuzzStream(ds []hub.Delivery) []byte {
	var out []byte
	prev := uint32(testStreamBaseTime)
	for _, d := range ds {
		p := d.Packet
		if len(p.Payload) > 255 {
			continue
		}
		out = append(out, byte(p.Kind), byte(int8(int64(d.Timestamp)-int64(prev))), byte(len(p.Payload)))
		out = append(out, p.Payload...)
		prev = d.Timestamp
	}
	return out
}

// parseFuzzStream decodes fuzzStream's format, skipping the packets
// av.NewPacket refuses, as the RTMP reader does.
func parseFuzzStream(b []byte) []hub.Delivery {
	var ds []hub.Delivery
	ts := uint32(testStreamBaseTime)
	for len(b) >= 3 {
		kind, step, n := av.Kind(b[0]), int8(b[1]), int(b[2])
		b = b[3:]
		if n > len(b) {
			break
		}
		payload := b[:n:n]
		b = b[n:]
		ts = uint32(int64(ts)+int64(step)) & av.TimestampMask
		if p, err := av.NewPacket(kind, ts, payload); err == nil {
			ds = append(ds, hub.Delivery{Packet: p, Timestamp: ts})
		}
	}
	return ds
}

// FuzzRecorder records arbitrary packets (broken sequence headers, codec
// changes, timestamps that jump and go back) to FLV and MP4 with the
// segment plan: the recorder never panics, and every file it reports is
// on disk, renamed, of the reported size, and parses as FLV or MP4.
func FuzzRecorder(f *testing.F) {
	f.Add(fuzzStream(deliveries(f, streamSpec{durationMs: 1500, gopMs: 400, video: true, audio: "aac", meta: true})))
	f.Add(fuzzStream(deliveries(f, streamSpec{durationMs: 1000, video: true, audio: "mp3"})))
	f.Add(fuzzStream(deliveries(f, streamSpec{durationMs: 800, audio: "aac"})))
	changed := deliveries(f, streamSpec{durationMs: 600, video: true, audio: "aac", meta: true})
	changed = append(changed, hub.Delivery{Packet: mustPacket(f, av.KindAudio, testStreamBaseTime+600, aacStereoHeader), Timestamp: testStreamBaseTime + 600})
	f.Add(fuzzStream(changed))
	f.Fuzz(func(t *testing.T, data []byte) {
		ds := parseFuzzStream(data)
		for _, ext := range []string{"flv", "mp4"} {
			dir := t.TempDir()
			set := Settings{Plan: PlanSegment, Path: filepath.Join(dir, "[stream].[timestamp]."+ext), Duration: time.Second, WaitKeyframe: true}
			var files []File
			r := NewRecorder(Stream{Vhost: "v", App: "live", Name: "cam"}, set, Options{
				OnFile: func(f File) { files = append(files, f) },
				Now:    steppingClock(),
			})
			if err := r.Run(context.Background(), &sliceSource{ds: ds}); err != nil {
				t.Fatal(err)
			}
			for _, file := range files {
				checkRecording(t, file)
			}
			if names := listFiles(t, dir); len(names) != len(files) || hasTmp(names) {
				t.Fatalf("files on disk %v, reported %d", names, len(files))
			}
		}
	})
}

// checkRecording checks that a reported file is complete and parses.
func checkRecording(t *testing.T, file File) {
	t.Helper()
	b, err := os.ReadFile(file.Path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != file.Size {
		t.Fatalf("%s: %d bytes, reported %d", file.Path, len(b), file.Size)
	}
	if file.Format == FormatMP4 {
		if _, err := mp4.ParseFile(b); err != nil {
			t.Fatalf("%s does not parse: %v", file.Path, err)
		}
		return
	}
	if _, _, err := flv.ReadFile(file.Path); err != nil {
		t.Fatalf("%s does not parse: %v", file.Path, err)
	}
}

// FuzzRepairFLV: recovering any .tmp file either fails cleanly or leaves
// an FLV that reads to its end, whose onMetaData (when castd's recorder
// wrote it) gives the file's real size.
func FuzzRepairFLV(f *testing.F) {
	files, _ := record(f, settings(f.TempDir(), "r.flv"), deliveries(f, streamSpec{durationMs: 300, video: true, audio: "aac", meta: true}))
	full := mustRead(f, files[0].Path)
	f.Add(full)
	f.Add(full[:len(full)*2/3])
	f.Add(full[:60])
	files, _ = record(f, settings(f.TempDir(), "r.flv"), deliveries(f, streamSpec{durationMs: 300, video: true}))
	f.Add(mustRead(f, files[0].Path))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "r.flv.tmp")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		kept, dropped, err := repairFLV(path)
		if err != nil {
			if errors.Is(err, ErrNotFLV) {
				return
			}
			t.Fatalf("repair: %v", err)
		}
		if kept+dropped != int64(len(data)) {
			t.Fatalf("kept %d + dropped %d of %d bytes", kept, dropped, len(data))
		}
		_, tags, err := flv.ReadFile(path)
		if err != nil {
			t.Fatalf("repaired file: %v", err)
		}
		if len(tags) == 0 || tags[0].Type != flv.TagScript || len(tags[0].Data) > maxMetaSize {
			return
		}
		offsets, err := flv.MetadataNumberOffsets(tags[0].Data, metaFilesize)
		off, ok := offsets[metaFilesize]
		if err != nil || !ok {
			return
		}
		if size := math.Float64frombits(binary.BigEndian.Uint64(tags[0].Data[off:])); size != float64(kept) {
			t.Fatalf("onMetaData filesize %v, file has %d bytes", size, kept)
		}
	})
}
