package caster

import (
	"bufio"
	"bytes"
	"errors"
	"strconv"
	"testing"

	"github.com/castd/castd/internal/av"
)

func FuzzRTSPRequest(f *testing.F) {
	f.Add([]byte("OPTIONS rtsp://127.0.0.1:554/live/s RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf61.7.100\r\n\r\n"))
	f.Add([]byte("ANNOUNCE rtsp://127.0.0.1/live/s RTSP/1.0\r\nContent-Type: application/sdp\r\nCSeq: 2\r\nContent-Length: " +
		"12\r\n\r\nv=0\r\ns=x\r\n\r\n"))
	f.Add([]byte("SETUP rtsp://h/live/s/streamid=0 RTSP/1.0\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\nCSeq: 3\r\n\r\n"))
	f.Add([]byte("RECORD rtsp://h/live/s RTSP/1.0\nRange: npt=0.000-\nCSeq: 5\nSession: abc\n \tfolded\n\n"))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(b), 4096)
		for range 4 {
			req, err := readRTSPRequest(r)
			var re *rtspError
			if errors.As(err, &re) {
				if re.status < 400 || rtspStatusText(re.status) == "Error" {
					t.Fatalf("status %d for %v", re.status, err)
				}
				return
			}
			if err != nil {
				return
			}
			if req.cseq == "" || len(req.body) > maxRTSPBody || len(req.headers) > maxRTSPHeaders {
				t.Fatalf("accepted %+v", req)
			}
			// What the handlers parse of a request must not fail badly.
			_, _ = parseRTSPTransport(req.headers.Get("Transport"))
			_, _, _ = parseRTSPPath(req.url)
		}
	})
}

func FuzzSDP(f *testing.F) {
	f.Add([]byte(ffmpegSDP))
	f.Add([]byte(testSDP))
	f.Add([]byte("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n" +
		"a=fmtp:96 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwA8lZgJ; sprop-sps=QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZZZUpOQICAgA==; sprop-pps=RAHgdrAmQA==\r\n" +
		"a=control:trackID=1\r\n"))
	f.Add([]byte("v=0\nm=audio 0 RTP/AVP 97\na=rtpmap:97 mpeg4-generic/48000/2\na=fmtp:97 streamtype=5;mode=AAC-lbr;sizelength=6;indexlength=2;indexdeltalength=2;config=1190\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSDP(b)
		if err != nil {
			return
		}
		if len(s.media) > maxSDPMedia {
			t.Fatalf("%d media", len(s.media))
		}
		for _, m := range s.media {
			tr, err := newRTSPTrack(m)
			if err != nil {
				continue
			}
			if tr.codec == av.CodecAAC && tr.aac.sizeLength == 0 {
				t.Fatal("an AAC track without AU sizes")
			}
			_ = reorderDepthGuess(tr.codec, tr.paramSets)
		}
	})
}

func FuzzAACAUHeaders(f *testing.F) {
	f.Add(uint8(13), uint8(3), uint8(3), []byte{0, 32, 0, 3 << 3, 0, 2 << 3, 'a', 'b', 'c', 'd', 'e'})
	f.Add(uint8(13), uint8(3), uint8(3), []byte{0, 16, 300 >> 5, 300 << 3 & 0xff, 1, 2, 3, 4})
	f.Add(uint8(6), uint8(2), uint8(2), []byte{0, 8, 2 << 2, 'x', 'y'})
	f.Add(uint8(13), uint8(3), uint8(3), []byte{0, 16, 0xff, 0xf8})
	f.Fuzz(func(t *testing.T, size, index, delta uint8, payload []byte) {
		format, err := parseAACFormat(map[string]string{
			"sizelength": strconv.Itoa(int(size) % 34), "indexlength": strconv.Itoa(int(index) % 34), "indexdeltalength": strconv.Itoa(int(delta) % 34)})
		if err != nil {
			return
		}
		u, err := format.split(payload)
		if err == nil {
			total := 0
			for _, au := range u.units {
				total += len(au)
				if len(au) > maxAACFrame {
					t.Fatalf("an AU of %d bytes", len(au))
				}
			}
			if total > len(payload) || len(u.units) > maxAUsPerPacket {
				t.Fatalf("%d AUs of %d bytes from %d", len(u.units), total, len(payload))
			}
		}
		// Twice through the depacketizer: the second continues a fragment.
		d := &aacDepacketizer{format: format}
		var out []aacFrame
		out, _ = d.push(out, payload, 1, false, false, 1024)
		out, _ = d.push(out, payload, 1, true, false, 1024)
		for _, fr := range out {
			if len(fr.data) > maxAACFrame {
				t.Fatalf("a frame of %d bytes", len(fr.data))
			}
		}
	})
}

func FuzzInterleaved(f *testing.F) {
	f.Add([]byte{'$', 0, 0, 3, 0x80, 0x60, 0x00, '$', 1, 0, 0})
	f.Add([]byte{'$', 2, 0xff, 0xff})
	f.Add([]byte("$\x00\x00\x05hello$\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		buf := make([]byte, 1<<16)
		for {
			ch, p, err := readInterleaved(r, buf)
			if err != nil {
				return
			}
			if ch < 0 || ch > 255 || len(p) > 0xffff {
				t.Fatalf("channel %d, %d bytes", ch, len(p))
			}
		}
	})
}

// FuzzRTPVideo feeds payloads to the H.264 and H.265 depacketizers.
func FuzzRTPVideo(f *testing.F) {
	for _, p := range rtpH264([][]byte{x264SPSBaseline, x264PPS, slice(0x65, 3000, 1)}, 1000) {
		f.Add(false, p)
	}
	f.Add(true, []byte{h265AP << 1, 1, 0, 3, 0x40, 1, 0xc, 0, 3, 0x42, 1, 1})
	f.Add(true, []byte{h265FU << 1, 1, 0x80 | 19, 1, 2, 3})
	f.Fuzz(func(t *testing.T, h265 bool, payload []byte) {
		codec := av.CodecH264
		if h265 {
			codec = av.CodecH265
		}
		d := newNALUDepacketizer(codec)
		var out []videoAU
		for i := range 3 { // the same payload as start, middle and end of a unit
			out, _ = d.push(out, payload, 90000, i == 2, false)
		}
		for _, au := range out {
			if len(au.nalus) == 0 || len(au.nalus) > maxVideoFrameNALUs {
				t.Fatalf("a unit of %d NAL units", len(au.nalus))
			}
		}
	})
}
