package srt

import (
	"errors"
	"strings"
	"testing"
)

func TestStreamIDExtensionMatchesLibsrt(t *testing.T) {
	// The SID block of libsrt's conclusion: each 4-byte group reversed.
	want := libsrtConclusionRequest[headerSize+hsCIFSize+4+hsExtSize:]
	got := appendStringExt(nil, extSID, "#!::r=live/x,m=publish")
	hexDiff(t, "SID block", got, want)
	s, err := decodeStringExt(want[4:])
	if err != nil || s != "#!::r=live/x,m=publish" {
		t.Errorf("decode: %q, %v", s, err)
	}
}

func TestStringExtension(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
		wantErr bool
	}{
		{"empty", nil, "", false},
		{"one word", []byte("dcba"), "abcd", false},
		{"padded", []byte{0, 0, 'b', 'a'}, "ab", false},
		{"two words", []byte("dcba\x00\x00fe"), "abcdef", false},
		{"not whole words", []byte("abc"), "", true},
		{"too long", []byte(strings.Repeat("abcd", 129)), "", true},
		{"longest", []byte(strings.Repeat("dcba", 128)), strings.Repeat("abcd", 128), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeStringExt(tc.content)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if !tc.wantErr {
				enc := appendStringExt(nil, extSID, got)
				back, err := decodeStringExt(enc[4:])
				if err != nil || back != got {
					t.Errorf("round trip %q, %v", back, err)
				}
			}
		})
	}
}

func TestParseExtensions(t *testing.T) {
	ext, err := parseExtensions(libsrtConclusionRequest[headerSize+hsCIFSize:])
	if err != nil {
		t.Fatal(err)
	}
	wantHS := hsExtension{version: 0x010501, flags: 0xbf, recvDelay: 200, sendDelay: 200}
	if ext.hs == nil || *ext.hs != wantHS || ext.hsType != extHSREQ {
		t.Errorf("HSREQ %+v type %d, want %+v", ext.hs, ext.hsType, wantHS)
	}
	if !ext.hasSID || ext.streamID != "#!::r=live/x,m=publish" {
		t.Errorf("SID %q %v", ext.streamID, ext.hasSID)
	}

	hs := wantHS.appendTo(nil)
	for _, tc := range []struct {
		name    string
		b       []byte
		check   func(extensions) bool
		wantErr bool
	}{
		{"unknown type skipped", appendExtension(appendExtension(nil, 99, []byte{1, 2, 3, 4}), extHSRSP, hs),
			func(e extensions) bool { return e.hs != nil && e.hsType == extHSRSP }, false},
		{"congestion", appendStringExt(nil, extCongestion, "live"), func(e extensions) bool { return e.congestion == "live" }, false},
		{"filter", appendExtension(nil, extFilter, appendStringExt(nil, 0, "fec,cols:10")[4:]), func(e extensions) bool { return e.hasFilter }, false},
		{"group", appendExtension(nil, extGroup, make([]byte, 8)), func(e extensions) bool { return e.hasGroup }, false},
		{"km", appendExtension(nil, extKMREQ, make([]byte, 8)), func(e extensions) bool { return len(e.km) == 8 && e.kmType == extKMREQ }, false},
		{"truncated block header", []byte{0, 1}, nil, true},
		{"length past the end", []byte{0, 1, 0, 4, 0, 0, 0, 0}, nil, true},
		{"short HSREQ", appendExtension(nil, extHSREQ, make([]byte, 8)), nil, true},
		{"SID of odd length", append([]byte{0, 5, 0, 129}, make([]byte, 516)...), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := parseExtensions(tc.b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, errBadExtension) {
				t.Errorf("error %v is not errBadExtension", err)
			}
			if tc.check != nil && !tc.check(e) {
				t.Errorf("unexpected result %+v", e)
			}
		})
	}
}
