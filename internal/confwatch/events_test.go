package confwatch

import (
	"encoding/binary"
	"testing"
)

// rawEvent encodes one struct inotify_event as the kernel writes it, with
// the name NUL-padded to pad bytes.
func rawEvent(wd int32, mask uint32, name string, pad int) []byte {
	b := make([]byte, eventHeaderSize+pad)
	binary.NativeEndian.PutUint32(b[0:], uint32(wd))
	binary.NativeEndian.PutUint32(b[4:], mask)
	binary.NativeEndian.PutUint32(b[12:], uint32(pad))
	copy(b[eventHeaderSize:], name)
	return b
}

func TestParseEvents(t *testing.T) {
	two := append(rawEvent(1, 0x2, "castd.conf", 16), rawEvent(2, 0x400, "", 0)...)
	tests := []struct {
		name    string
		buf     []byte
		want    []event
		wantErr bool
	}{
		{"empty", nil, nil, false},
		{"one with padding", rawEvent(1, 0x8, "castd.conf", 16), []event{{1, 0x8, "castd.conf"}}, false},
		{"two, second without name", two, []event{{1, 0x2, "castd.conf"}, {2, 0x400, ""}}, false},
		{"overflow event", rawEvent(-1, 0x4000, "", 0), []event{{-1, 0x4000, ""}}, false},
		{"short header", rawEvent(1, 0x2, "", 0)[:10], nil, true},
		{"name past the end", rawEvent(1, 0x2, "castd.conf", 16)[:20], nil, true},
		{"trailing garbage", append(rawEvent(1, 0x2, "a", 4), 1, 2, 3), []event{{1, 0x2, "a"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEvents(tt.buf)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("events %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("event %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
	huge := rawEvent(1, 0x2, "", 0)
	binary.NativeEndian.PutUint32(huge[12:], 1<<31)
	if _, err := parseEvents(huge); err == nil {
		t.Error("a 2 GiB name length was accepted")
	}
}

func FuzzParseEvents(f *testing.F) {
	f.Add(rawEvent(1, 0x8, "castd.conf", 16))
	f.Add(append(rawEvent(1, 0x2, "castd.conf", 16), rawEvent(2, 0x400, "", 0)...))
	f.Add(rawEvent(-1, 0x4000, "", 0))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, buf []byte) {
		events, err := parseEvents(buf)
		total := 0
		for _, e := range events {
			if len(e.name) > maxNameLen {
				t.Fatalf("name of %d bytes", len(e.name))
			}
			total += eventHeaderSize
		}
		if err == nil && total > len(buf) {
			t.Fatalf("%d events from %d bytes", len(events), len(buf))
		}
	})
}
