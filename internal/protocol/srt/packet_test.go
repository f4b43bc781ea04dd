package srt

import (
	"errors"
	"reflect"
	"testing"
)

func TestSeqArithmetic(t *testing.T) {
	for _, tc := range []struct {
		a, b uint32
		diff int32
	}{
		{0, 0, 0},
		{5, 9, 4},
		{9, 5, -4},
		{seqMask, 0, 1},
		{0, seqMask, -1},
		{seqMask - 9, 10, 20},
		{10, seqMask - 9, -20},
	} {
		if got := seqDiff(tc.a, tc.b); got != tc.diff {
			t.Errorf("seqDiff(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.diff)
		}
		if got := seqAdd(tc.a, int(tc.diff)); got != tc.b {
			t.Errorf("seqAdd(%d, %d) = %d, want %d", tc.a, tc.diff, got, tc.b)
		}
	}
	if seqNext(seqMask) != 0 || !seqLess(seqMask, 0) || seqLess(0, seqMask) {
		t.Error("wrap-around comparisons wrong")
	}
	if msgNoNext(msgNoMask) != 1 || msgNoNext(1) != 2 {
		t.Error("message numbers must skip 0 on wrap-around")
	}
}

func TestDataHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    dataHeader
		wire string
	}{
		{"solo even-key retransmitted", dataHeader{seq: 0x1234, position: ppSolo, key: keyEven, retransmitted: true, msgNo: 5, timestamp: 0x01020304, dstID: 0x0A0B0C0D},
			"00001234 cc000005 01020304 0a0b0c0d"},
		{"first in-order odd-key", dataHeader{seq: seqMask, position: ppFirst, inOrder: true, key: keyOdd, msgNo: msgNoMask, timestamp: 0xFFFFFFFF, dstID: 1},
			"7fffffff b3ffffff ffffffff 00000001"},
		{"middle plain", dataHeader{seq: 1, position: ppMiddle, msgNo: 1}, "00000001 00000001 00000000 00000000"},
		{"last", dataHeader{seq: 2, position: ppLast, msgNo: 2}, "00000002 40000002 00000000 00000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, headerSize)
			tc.h.marshal(b)
			hexDiff(t, "marshal", b, mustHex(tc.wire))
			got, err := parseDataHeader(mustHex(tc.wire))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.h {
				t.Errorf("parse: %+v, want %+v", got, tc.h)
			}
		})
	}
	if _, err := parseDataHeader(mustHex("00000001 00000001 00000000")); !errors.Is(err, errShortPacket) {
		t.Errorf("short header: %v", err)
	}
	if _, err := parseDataHeader(mustHex("80000001 00000001 00000000 00000000")); !errors.Is(err, errNotData) {
		t.Errorf("control as data: %v", err)
	}
}

func TestControlPackets(t *testing.T) {
	fullACK := ackCIF{lastAck: 0x100, rtt: 100000, rttVar: 50000, availBuf: 8192, pktRecvRate: 400, linkCap: 10000, recvRate: 526400, size: ackFullSize}
	for _, tc := range []struct {
		name string
		h    controlHeader
		cif  []byte
		wire string
	}{
		{"keepalive", controlHeader{typ: ctrlKeepalive, timestamp: 0x10, dstID: 0x22}, nil,
			"80010000 00000000 00000010 00000022 00000000"},
		{"shutdown", controlHeader{typ: ctrlShutdown, timestamp: 0x10, dstID: 0x22}, nil,
			"80050000 00000000 00000010 00000022 00000000"},
		{"ackack", controlHeader{typ: ctrlACKACK, info: 7, timestamp: 0x10, dstID: 0x22}, nil,
			"80060000 00000007 00000010 00000022 00000000"},
		{"full ack", controlHeader{typ: ctrlACK, info: 7, timestamp: 0x10, dstID: 0x22}, fullACK.appendTo(nil),
			"80020000 00000007 00000010 00000022 00000100 000186a0 0000c350 00002000 00000190 00002710 00080840"},
		{"light ack", controlHeader{typ: ctrlACK, timestamp: 0x10, dstID: 0x22}, (&ackCIF{lastAck: 0x100, size: ackLightSize}).appendTo(nil),
			"80020000 00000000 00000010 00000022 00000100"},
		{"nak", controlHeader{typ: ctrlNAK, timestamp: 0x10, dstID: 0x22}, appendLossRange(appendLossRange(nil, 5, 5), 10, 12),
			"80030000 00000000 00000010 00000022 00000005 8000000a 0000000c"},
		{"dropreq", controlHeader{typ: ctrlDropReq, info: 9, timestamp: 0x10, dstID: 0x22}, dropReqCIF{first: 40, last: 42}.appendTo(nil),
			"80070000 00000009 00000010 00000022 00000028 0000002a"},
		{"kmreq", controlHeader{typ: ctrlUser, subtype: extKMREQ, timestamp: 0x10, dstID: 0x22}, []byte{1, 2, 3, 4},
			"ffff0003 00000000 00000010 00000022 01020304"},
		{"peer error", controlHeader{typ: ctrlPeerError, info: 4000, timestamp: 0x10, dstID: 0x22}, nil,
			"80080000 00000fa0 00000010 00000022 00000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := appendControl(nil, tc.h, tc.cif)
			hexDiff(t, "append", b, mustHex(tc.wire))
			got, err := parseControlHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.h {
				t.Errorf("parse: %+v, want %+v", got, tc.h)
			}
		})
	}

	a, err := parseACK(fullACK.appendTo(nil))
	if err != nil || a != fullACK {
		t.Errorf("full ack round trip: %+v, %v", a, err)
	}
	small := fullACK
	small.size = ackSmallSize
	a, err = parseACK(small.appendTo(nil))
	want := ackCIF{lastAck: 0x100, rtt: 100000, rttVar: 50000, availBuf: 8192, size: ackSmallSize}
	if err != nil || a != want {
		t.Errorf("small ack: %+v, %v", a, err)
	}
	if _, err := parseACK([]byte{1, 2}); err == nil {
		t.Error("2-byte ack accepted")
	}
	if _, err := parseDropReq(mustHex("00000028")); err == nil {
		t.Error("short dropreq accepted")
	}
	if _, err := parseDropReq(mustHex("0000002a 00000028")); err == nil {
		t.Error("reversed dropreq accepted")
	}
	if _, err := parseControlHeader(mustHex("00000001 00000000 00000000 00000000")); !errors.Is(err, errNotControl) {
		t.Errorf("data as control: %v", err)
	}
}

func TestLossListDecoding(t *testing.T) {
	type r struct{ from, to uint32 }
	for _, tc := range []struct {
		name    string
		wire    string
		want    []r
		wantErr bool
	}{
		{"singles", "00000001 00000003", []r{{1, 1}, {3, 3}}, false},
		{"range", "80000005 00000009", []r{{5, 9}}, false},
		{"mixed", "00000001 80000005 00000009 0000000b", []r{{1, 1}, {5, 9}, {11, 11}}, false},
		{"range across wrap-around", "fffffffe 00000001", []r{{seqMask - 1, 1}}, false},
		{"empty", "", nil, false},
		{"range without end", "80000005", nil, true},
		{"end with range bit", "80000005 80000009", nil, true},
		{"reversed range", "80000009 00000005", nil, true},
		{"huge range", "80000000 00200000", nil, true},
		{"not whole words", "000001", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []r
			err := parseLossList(mustHex(tc.wire), func(from, to uint32) { got = append(got, r{from, to}) })
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ranges %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHandshakeLibsrtVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkt  []byte
		want handshake
	}{
		{"caller induction", libsrtInductionRequest, handshake{version: 4, extension: udtDgram, isn: 0x54a14f12, mtu: 1500, flowWindow: 8192,
			reqType: hsInduction, socketID: 0x36f5c0f6, peerIP: encodePeerIP(mustAddr("127.0.0.1"))}},
		{"caller conclusion", libsrtConclusionRequest, handshake{version: 5, extension: hsExtFlagHSREQ | hsExtFlagConfig, isn: 0x54a14f12, mtu: 1500,
			flowWindow: 8192, reqType: hsConclusion, socketID: 0x36f5c0f6, cookie: 0xcafebabe, peerIP: encodePeerIP(mustAddr("127.0.0.1"))}},
		{"listener induction", libsrtInductionResponse, handshake{version: 5, extension: srtMagic, isn: 12345, mtu: 1500, flowWindow: 8192,
			reqType: hsInduction, socketID: 0x55667788, cookie: 0x0e8a6c1b}},
		{"listener conclusion", libsrtConclusionResponse, handshake{version: 5, extension: hsExtFlagHSREQ, isn: 12345, mtu: 1500, flowWindow: 8192,
			reqType: hsConclusion, socketID: 0x1079830a, cookie: 0x3cf738b7, peerIP: encodePeerIP(mustAddr("127.0.0.1"))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseControlHeader(tc.pkt)
			if err != nil || h.typ != ctrlHandshake {
				t.Fatalf("header %+v, %v", h, err)
			}
			hs, err := parseHandshake(tc.pkt[headerSize:])
			if err != nil {
				t.Fatal(err)
			}
			ext := hs.ext
			hs.ext, tc.want.ext = nil, nil
			if !reflect.DeepEqual(hs, tc.want) {
				t.Errorf("parse:\n got %+v\nwant %+v", hs, tc.want)
			}
			// The CIF writes back byte for byte.
			hexDiff(t, "re-encode", append(hs.appendTo(nil), ext...), tc.pkt[headerSize:])
		})
	}
	if _, err := parseHandshake(libsrtInductionRequest[headerSize : headerSize+47]); !errors.Is(err, errBadHandshake) {
		t.Errorf("47-byte CIF: %v", err)
	}
}
