package caster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// flvCasterUnderTest runs an flv caster to output.
type flvCasterUnderTest struct {
	base   string // http://host:port
	logs   *logBuffer
	cancel context.CancelFunc
	wait   func()
}

func startFLVCaster(t *testing.T, output string) *flvCasterUnderTest {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := StartFLV(ctx, ln, output, testOptions(logs))
	if err != nil {
		cancel()
		ln.Close()
		t.Fatal(err)
	}
	c := &flvCasterUnderTest{base: "http://" + ln.Addr().String(), logs: logs, cancel: cancel, wait: wait}
	t.Cleanup(func() {
		cancel()
		wait()
		if t.Failed() {
			t.Logf("caster log:\n%s", logs.String())
		}
	})
	return c
}

// post sends body to path and returns the status and answer.
func (c *flvCasterUnderTest) post(t *testing.T, method, path string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if method != http.MethodPost && resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "POST" {
		t.Errorf("405 without Allow: POST")
	}
	return resp.StatusCode, string(b)
}

func TestFLVPostPublishesTheBody(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	c := startFLVCaster(t, tg.url("[app]/[stream]"))
	packets := mediaPackets(t, 2000)
	body := flvOf(t, packets)
	status, answer := c.post(t, http.MethodPost, "/live/livestream.flv", bytes.NewReader(body))
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, answer)
	}
	pub := tg.next("publish", time.Second)
	if pub.connect.App != "live" || pub.stream != "livestream" {
		t.Fatalf("published %s/%s", pub.connect.App, pub.stream)
	}
	msgs, ended := tg.collect(3 * time.Second)
	if !ended {
		t.Fatal("the publish did not end with the body")
	}
	if len(msgs) != len(packets) {
		t.Fatalf("target got %d messages, the body had %d tags", len(msgs), len(packets))
	}
	for i, m := range msgs {
		p := packets[i]
		if m.Type != uint8(p.Kind) || m.Timestamp != p.Timestamp || !bytes.Equal(m.Payload, p.Payload) {
			t.Fatalf("message %d: type %d at %d (%d bytes), want type %d at %d (%d bytes)",
				i, m.Type, m.Timestamp, len(m.Payload), p.Kind, p.Timestamp, len(p.Payload))
		}
	}
	waitLog(t, c.logs, `reason="the body ended"`)
}

// TestFLVPostIsLive: a chunked body is published tag by tag as it comes,
// with the path's multi-level app and a script tag passed through.
func TestFLVPostIsLive(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	c := startFLVCaster(t, tg.url("[app]/[stream]"))
	pr, pw := io.Pipe()
	defer pw.Close()
	result := make(chan int, 1)
	go func() {
		status, _ := c.post(t, http.MethodPost, "/a/b/cam.flv", pr)
		result <- status
	}()
	var b bytes.Buffer
	fw, _ := flv.NewWriter(&b, flv.Header{HasVideo: true})
	flush := func() {
		if _, err := pw.Write(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		b.Reset()
	}
	meta := []byte{0x02, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 0x05}
	fw.WriteTag(flv.Tag{Type: flv.TagScript, Data: meta})
	fw.WriteTag(flv.Tag{Type: flv.TagVideo, Data: avcSequenceHeader()})
	fw.WriteTag(flv.Tag{Type: 15, Data: []byte{1, 2, 3}}) // not media: skipped
	flush()
	pub := tg.next("publish", 3*time.Second)
	if pub.connect.App != "a/b" || pub.stream != "cam" {
		t.Fatalf("published %s/%s, want a/b and cam", pub.connect.App, pub.stream)
	}
	for _, want := range []uint8{rtmp.TypeDataAMF0, rtmp.TypeVideo} {
		if e := tg.next("media", 3*time.Second); e.msg.Type != want {
			t.Fatalf("got type %d, want %d", e.msg.Type, want)
		}
	}
	for i := range 3 {
		fw.WriteTag(flv.Tag{Type: flv.TagVideo, Timestamp: uint32(i * 40), Data: avcFrame(i == 0, 100, i)})
		flush()
		e := tg.next("media", 3*time.Second)
		if e.msg.Type != rtmp.TypeVideo || e.msg.Timestamp != uint32(i*40) {
			t.Fatalf("tag %d arrived as type %d at %d", i, e.msg.Type, e.msg.Timestamp)
		}
	}
	pw.Close()
	if s := <-result; s != http.StatusOK {
		t.Fatalf("status %d", s)
	}
	waitLog(t, c.logs, "skipped=1")
}

func TestFLVPostRefusesBadRequests(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	c := startFLVCaster(t, tg.url("[app]/[stream]"))
	good := flvOf(t, mediaPackets(t, 100))
	cases := []struct {
		name, method, path string
		body               []byte
		want               int
	}{
		{"get", http.MethodGet, "/live/x.flv", nil, http.StatusMethodNotAllowed},
		{"put", http.MethodPut, "/live/x.flv", good, http.StatusMethodNotAllowed},
		{"not flv", http.MethodPost, "/live/x.mp4", good, http.StatusNotFound},
		{"root", http.MethodPost, "/", good, http.StatusNotFound},
		{"no app", http.MethodPost, "/x.flv", good, http.StatusBadRequest},
		{"empty stream", http.MethodPost, "/live/.flv", good, http.StatusBadRequest},
		{"dot dot", http.MethodPost, "/live/../x.flv", good, http.StatusBadRequest},
		{"query in name", http.MethodPost, "/live/a%3Fvhost=b.flv", good, http.StatusBadRequest},
		{"template in name", http.MethodPost, "/live/%5Bapp%5D.flv", good, http.StatusBadRequest},
		{"empty body", http.MethodPost, "/live/x.flv", nil, http.StatusBadRequest},
		{"not an flv body", http.MethodPost, "/live/x.flv", []byte("GET / HTTP/1.1\r\n\r\n"), http.StatusBadRequest},
		{"short header", http.MethodPost, "/live/x.flv", []byte("FLV\x01\x05"), http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != nil {
				body = bytes.NewReader(tc.body)
			}
			status, answer := c.post(t, tc.method, tc.path, body)
			if status != tc.want {
				t.Errorf("status %d (%s), want %d", status, strings.TrimSpace(answer), tc.want)
			}
			if !strings.HasPrefix(answer, "caster") {
				t.Errorf("the answer %q does not say what is wrong", answer)
			}
		})
	}
	select {
	case e := <-tg.events:
		t.Errorf("a refused request reached the target: %+v", e)
	default:
	}
}

// TestFLVPostBadTagsEndThePublish: a body that breaks after the header
// ends the publish with 400, after the tags before the damage.
func TestFLVPostBadTagsEndThePublish(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	c := startFLVCaster(t, tg.url("[app]/[stream]"))
	body := flvOf(t, mediaPackets(t, 200))
	body = append(body, 9, 0xff, 0xff, 0xff) // a video tag header claiming 16 MB, cut short
	status, answer := c.post(t, http.MethodPost, "/live/broken.flv", bytes.NewReader(body))
	if status != http.StatusBadRequest || !strings.Contains(answer, "flv:") {
		t.Fatalf("status %d: %s", status, answer)
	}
	tg.next("publish", time.Second)
	msgs, ended := tg.collect(2 * time.Second)
	if !ended || len(msgs) == 0 {
		t.Fatalf("target got %d messages, ended %v", len(msgs), ended)
	}
}

// TestFLVPostRejections: the target's answer to the publish becomes the
// HTTP status.
func TestFLVPostRejections(t *testing.T) {
	leakCheck(t)
	body := flvOf(t, mediaPackets(t, 100))
	for _, tc := range []struct {
		name   string
		reject [2]string
		want   int
	}{
		{"busy", [2]string{rtmp.CodePublishBadName, rtmp.DescStreamBusy}, http.StatusConflict},
		{"denied", [2]string{rtmp.CodePublishBadName, "on_publish denied"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTarget(t)
			tg.reject = tc.reject
			c := startFLVCaster(t, tg.url("[app]/[stream]"))
			status, answer := c.post(t, http.MethodPost, "/live/x.flv", bytes.NewReader(body))
			if status != tc.want || !strings.Contains(answer, tc.reject[1]) {
				t.Errorf("status %d (%s), want %d with %q", status, answer, tc.want, tc.reject[1])
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		c := startFLVCaster(t, fmt.Sprintf("rtmp://%s/[app]/[stream]", addr))
		if status, answer := c.post(t, http.MethodPost, "/live/x.flv", bytes.NewReader(body)); status != http.StatusBadGateway {
			t.Errorf("status %d (%s), want 502", status, answer)
		}
	})
}

// TestFLVPostEnds: a silent client and a kicked publish end the request;
// so does the caster's context.
func TestFLVPostEnds(t *testing.T) {
	leakCheck(t)
	header := flvOf(t, mediaPackets(t, 100))
	stalled := func(t *testing.T, c *flvCasterUnderTest) (chan int, *io.PipeWriter) {
		pr, pw := io.Pipe()
		result := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, c.base+"/live/x.flv", pr)
			resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
			if err != nil {
				result <- 0
				return
			}
			resp.Body.Close()
			result <- resp.StatusCode
		}()
		if _, err := pw.Write(header); err != nil {
			t.Fatal(err)
		}
		return result, pw
	}
	expect := func(t *testing.T, result chan int, want int) {
		t.Helper()
		select {
		case s := <-result:
			if s != want {
				t.Errorf("status %d, want %d", s, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the request did not end")
		}
	}
	t.Run("idle", func(t *testing.T) {
		tg := newTarget(t)
		c := startFLVCaster(t, tg.url("[app]/[stream]"))
		result, pw := stalled(t, c)
		defer pw.Close()
		tg.next("publish", 3*time.Second)
		expect(t, result, http.StatusRequestTimeout)
		tg.next("end", time.Second)
		waitLog(t, c.logs, "input idle: no data for 400ms")
	})
	t.Run("kicked", func(t *testing.T) {
		tg := newTarget(t)
		c := startFLVCaster(t, tg.url("[app]/[stream]"))
		result, pw := stalled(t, c)
		defer pw.Close()
		tg.next("publish", 3*time.Second)
		tg.kick()
		time.Sleep(50 * time.Millisecond)
		pw.Write(flvTagBytes(flv.TagVideo, 200, avcFrame(false, 100, 1)))
		expect(t, result, http.StatusBadGateway)
		waitLog(t, c.logs, "the output closed the publish")
	})
	t.Run("shutdown", func(t *testing.T) {
		tg := newTarget(t)
		c := startFLVCaster(t, tg.url("[app]/[stream]"))
		result, pw := stalled(t, c)
		defer pw.Close()
		tg.next("publish", 3*time.Second)
		c.cancel()
		done := make(chan struct{})
		go func() { c.wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("wait did not return")
		}
		tg.next("end", time.Second)
		pw.Close()
		select { // the connection was closed: any answer, or none
		case <-result:
		case <-time.After(3 * time.Second):
			t.Fatal("the client never saw the connection close")
		}
	})
}

// flvTagBytes is one tag and its PreviousTagSize, to continue a body.
func flvTagBytes(typ uint8, ts uint32, data []byte) []byte {
	b := make([]byte, flv.TagHeaderSize, flv.TagHeaderSize+len(data)+4)
	flv.PutTagHeader(b, typ, len(data), ts)
	b = append(b, data...)
	size := make([]byte, 4)
	flv.PutPreviousTagSize(size, uint32(flv.TagHeaderSize+len(data)))
	return append(b, size...)
}
