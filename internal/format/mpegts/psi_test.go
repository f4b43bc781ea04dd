package mpegts

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestCRC32MPEG2(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0xffffffff},
		{"123456789", 0x0376e6e7}, // the CRC-32/MPEG-2 check value
	}
	for _, tt := range tests {
		if got := crc32MPEG2([]byte(tt.in)); got != tt.want {
			t.Errorf("crc32MPEG2(%q) = %08x, want %08x", tt.in, got, tt.want)
		}
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendPAT(t *testing.T) {
	// Program 1 on PMT PID 0x1001, transport stream 1, as SRS writes it.
	want := mustHex(t, "00b00d0001c100000001f0012e701905")
	got := appendPAT(nil, 1, 1, 0x1001)
	if !bytes.Equal(got, want) {
		t.Fatalf("PAT\n got %x\nwant %x", got, want)
	}
	s, err := parseSection(got)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := parsePAT(s.body)
	if err != nil || len(entries) != 1 || entries[0] != (patEntry{1, 0x1001}) || s.idExtension != 1 || !s.current {
		t.Fatalf("parsed PAT %+v entries %+v err %v", s, entries, err)
	}
}

func TestAppendPMT(t *testing.T) {
	streams := []Stream{
		{PID: 0x100, Type: StreamTypeH264},
		{PID: 0x101, Type: StreamTypeAAC},
		{PID: 0x102, Type: StreamTypePrivateData, Descriptors: []byte{0x05, 0x04, 'O', 'p', 'u', 's'}},
	}
	got, err := appendPMT(nil, 1, 3, 0x100, streams)
	if err != nil {
		t.Fatal(err)
	}
	// Header, PCR PID, no program info, then the three entries; the CRC
	// is checked by parseSection below.
	prefix := mustHex(t, "02b0220001c70000e100f000"+"1be100f000"+"0fe101f000"+"06e102f00605044f707573")
	if !bytes.HasPrefix(got, prefix) || len(got) != len(prefix)+4 {
		t.Fatalf("PMT\n got %x\nwant %x + CRC", got, prefix)
	}
	s, err := parseSection(got)
	if err != nil {
		t.Fatal(err)
	}
	pcr, parsed, err := parsePMT(s.body)
	if err != nil || pcr != 0x100 || s.version != 3 || len(parsed) != 3 {
		t.Fatalf("parsed PMT pcr %x version %d streams %+v err %v", pcr, s.version, parsed, err)
	}
	for i := range streams {
		if parsed[i].PID != streams[i].PID || parsed[i].Type != streams[i].Type || !bytes.Equal(parsed[i].Descriptors, streams[i].Descriptors) {
			t.Errorf("stream %d: %+v, want %+v", i, parsed[i], streams[i])
		}
	}
}

func TestParseSectionErrors(t *testing.T) {
	good := appendPAT(nil, 1, 1, 0x1001)
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-1] ^= 1
	short := good[:8]
	shortForm := bytes.Clone(good)
	shortForm[1] &^= 0x80
	for name, b := range map[string][]byte{"bad CRC": badCRC, "short": short, "short form": shortForm} {
		if _, err := parseSection(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := parsePAT([]byte{0, 1, 0xe0}); err == nil {
		t.Error("PAT body of 3 bytes: no error")
	}
	for name, body := range map[string][]byte{
		"too short":            {0xe1, 0x00},
		"program info overrun": {0xe1, 0x00, 0xf0, 0x05, 0x00},
		"entry cut":            {0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1},
		"ES info overrun":      {0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x09, 0x00},
	} {
		if _, _, err := parsePMT(body); err == nil {
			t.Errorf("PMT %s: no error", name)
		}
	}
}
