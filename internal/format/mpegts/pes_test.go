package mpegts

import (
	"bytes"
	"testing"
)

func TestTimestampEncoding(t *testing.T) {
	tests := []struct {
		prefix uint8
		ts     int64
		want   string
	}{
		{prefixPTSOnly, 0, "2100010001"},
		{prefixPTSOnly, 90000, "210005bf21"},
		{prefixPTS, 1<<33 - 1, "3fffffffff"},
		{prefixDTS, 1 << 32, "1900010001"},
		{prefixPTSOnly, 1<<33 + 5, "210001000b"}, // wraps at 33 bits
	}
	for _, tt := range tests {
		var b [5]byte
		putTimestamp(b[:], tt.prefix, tt.ts)
		if want := mustHex(t, tt.want); !bytes.Equal(b[:], want) {
			t.Errorf("putTimestamp(%d, %d) = %x, want %x", tt.prefix, tt.ts, b, want)
		}
		if got := readTimestamp(b[:]); got != tt.ts&timestampMask {
			t.Errorf("readTimestamp(%x) = %d, want %d", b, got, tt.ts&timestampMask)
		}
	}
}

func TestPCREncoding(t *testing.T) {
	for _, base := range []int64{0, 1, 90000, 1<<33 - 1, 0x123456789} {
		var b [pcrSize]byte
		putPCR(b[:], base)
		if b[4]&0x7e != 0x7e || b[4]&0x01 != 0 || b[5] != 0 {
			t.Errorf("PCR %d: reserved bits or extension wrong: %x", base, b)
		}
		if got := readPCR(b[:]); got != base&timestampMask {
			t.Errorf("PCR %d read back as %d", base, got)
		}
	}
}

func TestPESHeader(t *testing.T) {
	tests := []struct {
		name     string
		streamID uint8
		f        Frame
		dataLen  int
		want     string
	}{
		{"audio PTS only", 0xc0, Frame{PTS: 90000, DTS: 90000}, 100, "000001c0006c84800521" + "0005bf21"},
		{"video PTS and DTS", 0xe0, Frame{PTS: 3600, DTS: 0, HasDTS: true}, 10, "000001e0001784c00a3100011c21" + "1100010001"},
		{"DTS equal to PTS is left out", 0xe0, Frame{PTS: 0, DTS: 0, HasDTS: true}, 0, "000001e0000884800521" + "00010001"},
		{"no PTS", 0xbd, Frame{PTS: NoPTS}, 4, "000001bd0007840000"},
		{"long video gets length 0", 0xe0, Frame{PTS: 0}, 70000, "000001e0000084800521" + "00010001"},
	}
	for _, tt := range tests {
		var hdr [maxPESHeaderSize]byte
		n := putPESHeader(&hdr, tt.streamID, &tt.f, tt.dataLen)
		if want := mustHex(t, tt.want); !bytes.Equal(hdr[:n], want) {
			t.Errorf("%s: header %x, want %x", tt.name, hdr[:n], want)
		}
		h, err := parsePESHeader(hdr[:n])
		if err != nil {
			t.Errorf("%s: parse: %v", tt.name, err)
			continue
		}
		wantDTS := tt.f.PTS
		if tt.f.HasDTS {
			wantDTS = tt.f.DTS
		}
		if h.headerSize != n || h.streamID != tt.streamID || h.pts != tt.f.PTS || h.dts != wantDTS {
			t.Errorf("%s: parsed %+v", tt.name, h)
		}
	}
}

func TestParsePESHeaderErrors(t *testing.T) {
	for name, b := range map[string]string{
		"short":             "000001e000",
		"no start code":     "000002e0000084800521000100",
		"no '10' marker":    "000001e0000004800521000100",
		"header cut":        "000001e00000848005210001",
		"PTS does not fit":  "000001e0000084800221000100",
		"DTS does not fit":  "000001e00000c4c0053100010001",
		"flags value 1":     "000001e000008440053100010001",
		"length below head": "000001e0000384800521000100010001",
	} {
		if _, err := parsePESHeader(mustHex(t, b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Streams without the optional header start their payload at byte 6.
	h, err := parsePESHeader(mustHex(t, "000001be0002ffff"))
	if err != nil || h.headerSize != 6 || h.pts != NoPTS {
		t.Errorf("padding stream: %+v %v", h, err)
	}
}
