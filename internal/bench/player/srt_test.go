package player

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/protocol/srt"
	"github.com/castd/castd/internal/remux"
)

// fakeSRTServer plays n stamped H.264 frames, 40 ms apart, to each caller
// and closes; stream ids with "busy" are refused with 1403.
func fakeSRTServer(t *testing.T, n int) string {
	ln, err := srt.Listen("udp", "127.0.0.1:0", srt.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			req, err := ln.Accept()
			if err != nil {
				return
			}
			if strings.Contains(req.StreamID(), "busy") {
				_ = req.Reject(srt.RejectPredefinedBase + 403)
				continue
			}
			c, err := req.Accept()
			if err != nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if err := sendStampedTS(t, c, n); err != nil {
					t.Errorf("send: %v", err)
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

func sendStampedTS(t *testing.T, c *srt.Conn, n int) error {
	tw, err := remux.NewTSWriter(nil, remux.TSOptions{})
	if err != nil {
		return err
	}
	write := func(kind av.Kind, ms uint32, body []byte) error {
		p, err := av.NewPacket(kind, ms, body)
		if err != nil {
			return err
		}
		ts, err := tw.AppendPacket(nil, p)
		if err != nil {
			return err
		}
		for len(ts) > 0 {
			k := min(len(ts), 7*mpegts.PacketSize)
			if _, err := c.WriteMessage(ts[:k]); err != nil {
				return err
			}
			ts = ts[k:]
		}
		return nil
	}
	if err := write(av.KindVideo, 0, avcSeqHeader); err != nil {
		return err
	}
	if err := write(av.KindAudio, 0, []byte{0xaf, 0, 0x12, 0x10}); err != nil {
		return err
	}
	for i := range n {
		ms := uint32(i * 40)
		if err := write(av.KindVideo, ms, frame(t, i%25 == 0, 200, time.Now(), uint64(i))); err != nil {
			return err
		}
		if err := write(av.KindAudio, ms, []byte{0xaf, 1, 1, 2, 3}); err != nil {
			return err
		}
		time.Sleep(40 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let TSBPD deliver the tail before closing
	return nil
}

// TestSRTPlayer: the player reads frames and stamps from the TS as it
// comes, measures latency, and reports how the stream ended.
func TestSRTPlayer(t *testing.T) {
	addr := fakeSRTServer(t, 25)
	m := &Metrics{}
	rec := NewRecorder(m)
	p, err := New(fmt.Sprintf("srt://%s?streamid=#!::r=live/s,m=request&latency=120", addr), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec.Connecting(time.Now())
	err = p.Play(context.Background(), rec)
	res := rec.Finish(time.Now(), err)
	// The frame in flight when the stream ends has no successor to
	// complete it; every other one is counted and stamped.
	if !res.WasUp || res.Frames < 24 || res.Stamps != res.Frames || res.Audio < 24 || res.Kind != failure.EOF {
		t.Fatalf("result %+v", res)
	}
	// Latency: SRT's 120 ms, one frame interval, and scheduling.
	if l := m.Latency.Snapshot().Summary(1e-3); l.Count != res.Stamps || l.P50 < 100 || l.P50 > 1000 {
		t.Errorf("latency %+v", l)
	}
}

func TestSRTPlayerFailures(t *testing.T) {
	addr := fakeSRTServer(t, 1)
	for _, tt := range []struct {
		url  string
		kind failure.Kind
	}{
		{"srt://" + addr + "?streamid=#!::r=live/busy", failure.Rejected},
		{"srt://127.0.0.1:1?streamid=live/s", failure.Timeout}, // nobody answers
	} {
		p, err := New(tt.url, Options{ConnectTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		rec := NewRecorder(&Metrics{})
		rec.Connecting(time.Now())
		res := rec.Finish(time.Now(), p.Play(context.Background(), rec))
		if res.WasUp || res.Kind != tt.kind {
			t.Errorf("%s: %+v, want %s", tt.url, res, tt.kind)
		}
	}
	for _, url := range []string{"srt://h:10080", "srt://h:10080?streamid=x&foo=1", "srt://h?streamid=x"} {
		if _, err := New(url, Options{}); err == nil {
			t.Errorf("%s: no error", url)
		}
	}
}
