package srt

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

// Handshakes captured from libsrt 1.5.1 (srt-live-transmit) on loopback:
// its caller's induction and conclusion (streamid "#!::r=live/x,m=publish",
// latency 200 ms) and its listener's answers to a caller with socket ID
// 0x55667788 and ISN 12345 (listener latency 300 ms).
var (
	libsrtInductionRequest = mustHex(`
		80000000 00000000 000000e5 00000000
		00000004 00000002 54a14f12 000005dc
		00002000 00000001 36f5c0f6 00000000
		0100007f 00000000 00000000 00000000`)
	libsrtConclusionRequest = mustHex(`
		80000000 00000000 000002c6 00000000
		00000005 00000005 54a14f12 000005dc
		00002000 ffffffff 36f5c0f6 cafebabe
		0100007f 00000000 00000000 00000000
		00010003 00010501 000000bf 00c800c8
		00050006 3a3a2123 696c3d72 782f6576
		703d6d2c 696c6275 00006873`)
	libsrtInductionResponse = mustHex(`
		80000000 00000000 000764e2 55667788
		00000005 00004a17 00003039 000005dc
		00002000 00000001 55667788 0e8a6c1b
		00000000 00000000 00000000 00000000`)
	libsrtConclusionResponse = mustHex(`
		80000000 00000000 0000020b 55667788
		00000005 00000001 00003039 000005dc
		00002000 ffffffff 1079830a 3cf738b7
		0100007f 00000000 00000000 00000000
		00020003 00010501 000000bf 012c012c`)
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

func hexDiff(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if string(got) != string(want) {
		t.Errorf("%s:\n got % x\nwant % x", what, got, want)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
