package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lossyRelay forwards UDP between one caller and a server, dropping each
// datagram with probability loss in both directions: a bad network between
// an SRT encoder and castd.
type lossyRelay struct {
	front   *net.UDPConn // the caller sends here
	back    *net.UDPConn // connected to the server
	loss    float64
	rng     *rand.Rand
	rngMu   sync.Mutex
	caller  atomic.Pointer[net.UDPAddr]
	dropped [2]atomic.Int64 // to the server, to the caller
	passed  [2]atomic.Int64
	wg      sync.WaitGroup
}

func startLossyRelay(t *testing.T, serverPort int, loss float64, seed uint64) *lossyRelay {
	t.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: serverPort})
	if err != nil {
		t.Fatal(err)
	}
	r := &lossyRelay{front: front, back: back, loss: loss, rng: rand.New(rand.NewPCG(seed, seed))}
	r.wg.Add(2)
	go r.run(0)
	go r.run(1)
	t.Cleanup(func() {
		front.Close()
		back.Close()
		r.wg.Wait()
	})
	return r
}

func (r *lossyRelay) port() int { return r.front.LocalAddr().(*net.UDPAddr).Port }

func (r *lossyRelay) drop() bool {
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	return r.rng.Float64() < r.loss
}

// run forwards one direction: 0 caller → server, 1 server → caller.
func (r *lossyRelay) run(dir int) {
	defer r.wg.Done()
	buf := make([]byte, 2048)
	for {
		var n int
		var err error
		if dir == 0 {
			var from *net.UDPAddr
			n, from, err = r.front.ReadFromUDP(buf)
			if err == nil {
				r.caller.Store(from)
			}
		} else {
			n, err = r.back.Read(buf)
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue // ICMP errors and the like
		}
		if r.drop() {
			r.dropped[dir].Add(1)
			continue
		}
		r.passed[dir].Add(1)
		if dir == 0 {
			_, _ = r.back.Write(buf[:n])
		} else if to := r.caller.Load(); to != nil {
			_, _ = r.front.WriteToUDP(buf[:n], to)
		}
	}
}

// TestSRTLossyLink: two ffmpeg encoders publish over SRT (latency 200 ms)
// to one castd, through links that drop 5% and 10% of the datagrams both
// ways. Retransmission must repair everything: the HTTP-FLV playback of
// each decodes without a single error for the whole stream, the transport
// stream castd demuxed had no continuity error, and castd's SRT counters
// show the losses and the retransmissions that repaired them. 30 s of
// stream, both rates at once.
func TestSRTLossyLink(t *testing.T) {
	const streamSeconds = 30
	ffmpeg := requireTool(t, "ffmpeg")
	c := startCastd(t, srtConf("", ""))
	rates := []float64{0.05, 0.10}
	var wg sync.WaitGroup
	results := make([]lossResult, len(rates))
	for i, loss := range rates {
		stream := fmt.Sprintf("loss%.0f", loss*100)
		relay := startLossyRelay(t, c.srt, loss, uint64(i+1))
		// linger: ffmpeg waits for its last packets to be acknowledged before
		// it closes (libsrt's live-mode default closes at once, and what was
		// lost just before could not be repaired).
		pub := ffmpegPublishTS(t, srtURLAt(relay.port(), "#!::r=live/"+stream+",m=publish", "latency=200000", "linger=2"),
			streamSeconds*time.Second)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = watchLossyStream(c, ffmpeg, stream, pub, streamSeconds)
			results[i].relay = relay
		}()
	}
	wg.Wait()
	c.waitLog(t, "srt: publish end", 5*time.Second)
	time.Sleep(100 * time.Millisecond) // the second publish end line
	logs := c.logs.String()
	for i, r := range results {
		t.Run(fmt.Sprintf("%.0f%%", rates[i]*100), func(t *testing.T) {
			if r.err != "" {
				t.Fatal(r.err)
			}
			tr := r.last.Transport
			t.Logf("relay dropped %d/%d to castd and %d/%d to ffmpeg; castd counters %+v",
				r.relay.dropped[0].Load(), r.relay.dropped[0].Load()+r.relay.passed[0].Load(),
				r.relay.dropped[1].Load(), r.relay.dropped[1].Load()+r.relay.passed[1].Load(), tr)
			if err := r.publisher; err != nil {
				t.Errorf("ffmpeg publisher: %v", err)
			}
			if r.decodeErr != "" {
				t.Errorf("decoding the HTTP-FLV playback: %s", r.decodeErr)
			}
			end := lineWith(logs, "srt: publish end stream=/live/"+r.stream+" ")
			if !strings.Contains(end, "ts_continuity_errors=0") || !strings.Contains(end, "srt.rcv_retrans=") {
				t.Errorf("publish end: %q, want no continuity error and the SRT counters", end)
			}
			if tr == nil || tr.PktRcvLoss == 0 || tr.PktRcvRetrans == 0 || tr.PktRetrans != 0 {
				t.Fatalf("castd's SRT counters show no loss repaired: %+v", tr)
			}
			if tr.PktRcvDrop != 0 {
				t.Errorf("castd gave up on %d packets", tr.PktRcvDrop)
			}
		})
	}
}

type lossResult struct {
	stream    string
	relay     *lossyRelay
	last      srtClient // the publisher's counters, last seen in the API
	publisher error
	decodeErr string
	err       string
}

// watchLossyStream decodes a stream's HTTP-FLV playback with ffmpeg until
// it ends, reading its publisher's counters from the API meanwhile.
func watchLossyStream(c *castd, ffmpeg, stream string, pub *proc, streamSeconds int) lossResult {
	r := lossResult{stream: stream}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if cl, ok := findSRTPublisher(c, stream); ok && cl.Transport != nil && cl.Transport.PktRecv > 100 {
			break
		}
		if time.Now().After(deadline) {
			r.err = "the stream " + stream + " never published"
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(streamSeconds+10)*time.Second)
	defer cancel()
	dec := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-v", "error", "-i", c.httpURL("live/"+stream+".flv"), "-f", "null", "-")
	var decErr syncBuffer
	dec.Stderr = &decErr
	if err := dec.Start(); err != nil {
		r.err = err.Error()
		return r
	}
	// The counters while the stream runs: the client leaves the API at its end.
	for !pub.Exited() {
		if cl, ok := findSRTPublisher(c, stream); ok {
			r.last = cl
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.publisher = pub.Wait()
	if err := dec.Wait(); err != nil || strings.TrimSpace(decErr.String()) != "" {
		r.decodeErr = fmt.Sprintf("%v: %s", err, decErr.String())
	}
	return r
}

// findSRTPublisher returns the SRT publisher of stream from the API, if any.
func findSRTPublisher(c *castd, stream string) (srtClient, bool) {
	var r struct{ Clients []srtClient }
	if !tryGetJSON(c.apiURL("api/v1/clients/?count=100"), &r) {
		return srtClient{}, false
	}
	for _, cl := range r.Clients {
		if cl.Type == "srt-publish" && cl.Name == stream {
			return cl, true
		}
	}
	return srtClient{}, false
}

func lineWith(logs, s string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
