package srtserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/protocol/srt"
	"github.com/castd/castd/internal/remux"
	"github.com/castd/castd/internal/stats"
)

// fixture is an SRT server on a loopback port with its own hub.
type fixture struct {
	hub    *hub.Hub
	stats  *stats.Registry
	srv    *Server
	addr   string
	cancel context.CancelFunc
	done   chan struct{}
}

func defaultVhost() Vhost {
	return Vhost{Name: hub.DefaultVhost, Enabled: true, SRT: true, ToRTMP: true, Stream: hub.DefaultStreamOptions()}
}

// startServer serves vhosts on a new listener; cleanup stops everything
// and checks that no goroutine is left.
func startServer(t *testing.T, vhosts ...Vhost) *fixture {
	t.Helper()
	baseline := runtime.NumGoroutine()
	f := &fixture{hub: hub.New(hub.Options{IdleTimeout: time.Second}), stats: stats.New(nil), done: make(chan struct{})}
	log := slog.New(slog.DiscardHandler)
	f.srv = &Server{Hub: f.hub, Stats: f.stats, Hooks: hooks.New(hooks.Options{Timeout: 2 * time.Second}), Log: log,
		Vhost: func(name string) (Vhost, bool) {
			for _, v := range vhosts {
				if v.Name == name {
					return v, true
				}
			}
			for _, v := range vhosts {
				if v.Name == hub.DefaultVhost {
					return v, true
				}
			}
			return Vhost{}, false
		}}
	ln, err := srt.Listen("udp", "127.0.0.1:0", srt.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go func() {
		defer close(f.done)
		if err := f.srv.Serve(ctx, ln, Settings{Host: "127.0.0.1"}); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		f.cancel()
		<-f.done
		f.srv.Wait()
		f.srv.Hooks.Close()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > baseline {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutine leak: %d, %d before\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	return f
}

func (f *fixture) dial(t *testing.T, streamID string, opts ...func(*srt.Options)) (*srt.Conn, error) {
	t.Helper()
	o := srt.DefaultOptions()
	o.StreamID = streamID
	for _, fn := range opts {
		fn(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := srt.Dial(ctx, "udp", f.addr, o)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// tsSource makes H.264+AAC transport stream GOPs, as an encoder would.
type tsSource struct {
	tw *remux.TSWriter
	ms uint32
}

var (
	srcSPS = []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9}
	srcPPS = []byte{0x68, 0xeb, 0xe3, 0xcb}
)

func newTSSource(t testing.TB) *tsSource {
	tw, err := remux.NewTSWriter(nil, remux.TSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &tsSource{tw: tw}
}

func (s *tsSource) packet(t testing.TB, dst []byte, kind av.Kind, payload []byte) []byte {
	p, err := av.NewPacket(kind, s.ms, payload)
	if err != nil {
		t.Fatal(err)
	}
	if dst, err = s.tw.AppendPacket(dst, p); err != nil {
		t.Fatal(err)
	}
	return dst
}

// gop returns a keyframe and frames-1 inter frames 40 ms apart, with an
// AAC frame after each, headers first.
func (s *tsSource) gop(t testing.TB, frames int) []byte {
	var b []byte
	rec := append([]byte{0x17, 0, 0, 0, 0, 1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0, byte(len(srcSPS))}, srcSPS...)
	rec = append(append(rec, 1, 0, byte(len(srcPPS))), srcPPS...)
	b = s.packet(t, b, av.KindVideo, rec)
	b = s.packet(t, b, av.KindAudio, []byte{0xaf, 0, 0x12, 0x10})
	for i := range frames {
		first, nal := byte(0x27), []byte{0x41, 0x9a, byte(i)}
		if i == 0 {
			first, nal = 0x17, []byte{0x65, 0x88, byte(s.ms)}
		}
		b = s.packet(t, b, av.KindVideo, av.AppendAVCC([]byte{first, 1, 0, 0, 0}, nal))
		b = s.packet(t, b, av.KindAudio, append([]byte{0xaf, 1}, make([]byte, 100)...))
		s.ms += 40
	}
	return b
}

// send writes TS in messages of seven TS packets.
func send(t *testing.T, c *srt.Conn, ts []byte) {
	t.Helper()
	for len(ts) > 0 {
		n := min(len(ts), 7*mpegts.PacketSize)
		if _, err := c.WriteMessage(ts[:n]); err != nil {
			t.Fatalf("send: %v", err)
		}
		ts = ts[n:]
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPublishAndPlay: an SRT publisher feeds the hub (an RTMP-style
// viewer of the stream gets FLV packets), SRT players get it back as TS
// muxed once, and both show in the stats with their SRT counters.
func TestPublishAndPlay(t *testing.T) {
	f := startServer(t, defaultVhost())
	pub, err := f.dial(t, "#!::r=live/cam,m=publish")
	if err != nil {
		t.Fatal(err)
	}
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "cam"}
	waitFor(t, "the publish", func() bool { st := f.hub.Stream(key); return st != nil && st.Publishing() })
	rtmpLike := f.hub.Play(key, hub.ClientInfo{ID: "rtmp0001", Protocol: "rtmp"}, hub.DefaultStreamOptions(), hub.ViewerOptions{Jitter: hub.JitterOff})
	defer rtmpLike.Close()

	src := newTSSource(t)
	send(t, pub, src.gop(t, 5))
	// Two players: the stream is muxed once, by one relay.
	var players [2]*srt.Conn
	for i := range players {
		if players[i], err = f.dial(t, "live/cam"); err != nil { // the short form plays
			t.Fatal(err)
		}
	}
	waitFor(t, "the players", func() bool {
		d := f.hub.Stream(derivedKey(key))
		return d != nil && d.Snapshot().Viewers == 2 && d.Publishing()
	})
	send(t, pub, src.gop(t, 5))

	// The hub got FLV packets: AVC and AAC headers and frames.
	var got []hub.Delivery
	buf := make([]hub.Delivery, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for countVideo(got) < 10 {
		n, err := rtmpLike.Read(ctx, buf)
		if err != nil {
			t.Fatalf("hub viewer after %d packets: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	if !got[0].Packet.SequenceHeader || got[0].Packet.Codec != av.CodecH264 {
		t.Errorf("first packet %+v, want the AVC sequence header", got[0].Packet)
	}

	// Each player demuxes at least the second GOP, starting at a keyframe.
	for i, p := range players {
		frames := readTS(t, p, 5)
		if !frames[0].RandomAccess || frames[0].StreamType != mpegts.StreamTypeH264 {
			t.Errorf("player %d starts with %+v", i, frames[0])
		}
	}
	clients := f.stats.Clients()
	types := map[stats.ClientType]int{}
	for _, c := range clients {
		types[c.Type]++
		tr, ok := c.Transport().(Transport)
		if !ok || tr.Protocol != "srt" || tr.RecvLatencyMs != 120 {
			t.Errorf("client %s transport %+v", c.ID, c.Transport())
		}
	}
	if types[stats.SRTPublish] != 1 || types[stats.SRTPlay] != 2 {
		t.Errorf("clients by type %v", types)
	}
	if b, err := json.Marshal(clients[0].Transport()); err != nil || !strings.Contains(string(b), `"pkt_retrans":`) {
		t.Errorf("transport JSON %s, %v", b, err)
	}

	// The publisher leaves: the stream is unpublished and players end.
	pub.Close()
	waitFor(t, "the unpublish", func() bool { return !f.hub.Stream(key).Publishing() })
	for i, p := range players {
		_ = p.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 1500)
		var err error
		for err == nil {
			_, err = p.ReadMessage(b)
		}
		if !errors.Is(err, io.EOF) {
			t.Errorf("player %d ended with %v, want io.EOF", i, err)
		}
	}
	waitFor(t, "the clients to leave", func() bool { return len(f.stats.Clients()) == 0 })
}

func countVideo(ds []hub.Delivery) int {
	n := 0
	for _, d := range ds {
		if d.Packet.IsVideo() && !d.Packet.SequenceHeader {
			n++
		}
	}
	return n
}

// readTS reads a player's messages until it demuxed n video frames.
func readTS(t *testing.T, c *srt.Conn, n int) []mpegts.Frame {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	d := mpegts.NewDemuxer(messageReader{c, t})
	var frames []mpegts.Frame
	video := 0
	for video < n {
		f, err := d.ReadFrame()
		if err != nil {
			t.Fatalf("after %d frames: %v", len(frames), err)
		}
		if f.StreamType == mpegts.StreamTypeH264 {
			video++
		}
		frames = append(frames, f)
	}
	if st := d.Stats(); st.ContinuityErrors+st.SkippedBytes+st.PSIErrors != 0 {
		t.Errorf("damaged TS: %+v", st)
	}
	_ = c.SetReadDeadline(time.Time{})
	return frames
}

// messageReader checks that every message is whole TS packets.
type messageReader struct {
	c *srt.Conn
	t *testing.T
}

func (r messageReader) Read(b []byte) (int, error) {
	n, err := r.c.ReadMessage(b)
	if err == nil && (n%mpegts.PacketSize != 0 || n > 7*mpegts.PacketSize) {
		r.t.Errorf("a message of %d bytes", n)
	}
	return n, err
}

// hookRecorder answers hooks, refusing the events in refuse, and records
// the actions in order.
type hookRecorder struct {
	mu      sync.Mutex
	actions []string
	refuse  map[string]bool
	srv     *httptest.Server
}

func newHookRecorder(t *testing.T, refuse ...string) *hookRecorder {
	h := &hookRecorder{refuse: map[string]bool{}}
	for _, r := range refuse {
		h.refuse[r] = true
	}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Action, Stream, Param string
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		h.mu.Lock()
		h.actions = append(h.actions, body.Action+" "+body.Stream+body.Param)
		refused := h.refuse[body.Action]
		h.mu.Unlock()
		if refused {
			w.Write([]byte(`{"code":1}`))
			return
		}
		w.Write([]byte(`{"code":0}`))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookRecorder) hooks() conf.HTTPHooks {
	u := []string{h.srv.URL}
	return conf.HTTPHooks{Enabled: true, OnConnect: u, OnClose: u, OnPublish: u, OnUnpublish: u, OnPlay: u, OnStop: u}
}

func (h *hookRecorder) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.actions)
}

// TestHooksOrder: SRS's order of hooks around a publish and a play.
func TestHooksOrder(t *testing.T) {
	rec := newHookRecorder(t)
	v := defaultVhost()
	v.Hooks = rec.hooks()
	f := startServer(t, v)
	pub, err := f.dial(t, "#!::r=live/h,secret=1,m=publish")
	if err != nil {
		t.Fatal(err)
	}
	player, err := f.dial(t, "#!::r=live/h")
	if err != nil {
		t.Fatal(err)
	}
	player.Close()
	waitFor(t, "the player to leave", func() bool { return len(rec.got()) >= 6 })
	pub.Close()
	waitFor(t, "the publisher to leave", func() bool { return len(rec.got()) == 8 })
	want := []string{
		"on_connect h?secret=1", "on_publish h?secret=1",
		"on_connect h", "on_play h", "on_stop h", "on_close ",
		"on_unpublish h?secret=1", "on_close ",
	}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Errorf("hooks\n got  %q\n want %q", got, want)
	}
}

// TestRejections: every refusal reaches the caller as a rejection reason
// before it is connected.
func TestRejections(t *testing.T) {
	denyPublish := conf.Security{Enabled: true, Rules: []conf.SecurityRule{
		{Action: conf.Deny, Scope: conf.ScopePublish, Prefix: netip.MustParsePrefix("127.0.0.1/32")},
		{Action: conf.Allow, Scope: conf.ScopePlay, All: true},
	}}
	tests := []struct {
		name     string
		vhosts   func(refusing conf.HTTPHooks) []Vhost
		refuse   string // the hook event the hook server refuses
		streamID string
		want     srt.RejectReason
	}{
		{"unknown mode", nil, "", "#!::r=live/x,m=push", RejectBadRequest},
		{"no stream", nil, "", "#!::m=publish", RejectBadRequest},
		{"no such vhost", func(conf.HTTPHooks) []Vhost {
			v := defaultVhost()
			v.Name = "only.com"
			return []Vhost{v}
		}, "", "#!::h=other.com,r=live/x,m=publish", RejectNotFound},
		{"srt off for the vhost", func(conf.HTTPHooks) []Vhost {
			v := defaultVhost()
			v.SRT = false
			return []Vhost{v}
		}, "", "#!::r=live/x,m=publish", RejectForbidden},
		{"security denies publish", func(conf.HTTPHooks) []Vhost {
			v := defaultVhost()
			v.Security = denyPublish
			return []Vhost{v}
		}, "", "#!::r=live/x,m=publish", RejectForbidden},
		{"on_connect refuses", withHooks, "on_connect", "#!::r=live/connect,m=publish", RejectForbidden},
		{"on_publish refuses", withHooks, "on_publish", "#!::r=live/publish,m=publish", RejectForbidden},
		{"on_play refuses", withHooks, "on_play", "#!::r=live/play", RejectForbidden},
		{"stream busy", nil, "", "#!::r=live/busy,m=publish", RejectBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newHookRecorder(t, tt.refuse)
			vhosts := []Vhost{defaultVhost()}
			if tt.vhosts != nil {
				vhosts = tt.vhosts(rec.hooks())
			}
			f := startServer(t, vhosts...)
			if tt.want == RejectBusy {
				p, err := f.hub.Publish(hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "busy"}, hub.ClientInfo{ID: "rtmp0001", Protocol: "rtmp"}, hub.DefaultStreamOptions())
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
			}
			_, err := f.dial(t, tt.streamID)
			var rej *srt.RejectError
			if !errors.As(err, &rej) || rej.Reason != tt.want {
				t.Fatalf("dial: %v, want rejection %d", err, tt.want)
			}
			if len(f.stats.Clients()) != 0 {
				t.Errorf("a refused caller is listed: %+v", f.stats.Clients())
			}
		})
	}
}

func withHooks(h conf.HTTPHooks) []Vhost {
	v := defaultVhost()
	v.Hooks = h
	return []Vhost{v}
}

// TestSRTOnly: with srt_to_rtmp off, an SRT publish is kept from the other
// protocols' stream but SRT players get it.
func TestSRTOnly(t *testing.T) {
	v := defaultVhost()
	v.ToRTMP = false
	f := startServer(t, v)
	pub, err := f.dial(t, "#!::r=live/only,m=publish")
	if err != nil {
		t.Fatal(err)
	}
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "only"}
	srtKey := key
	srtKey.Variant = srtOnlyVariant
	waitFor(t, "the publish", func() bool { st := f.hub.Stream(srtKey); return st != nil && st.Publishing() })
	if st := f.hub.Stream(key); st != nil && st.Publishing() {
		t.Fatal("the SRT publish reached the stream RTMP plays")
	}
	src := newTSSource(t)
	send(t, pub, src.gop(t, 3))
	player, err := f.dial(t, "#!::r=live/only,m=request")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the relay", func() bool { d := f.hub.Stream(derivedKey(srtKey)); return d != nil && d.Snapshot().Viewers == 1 })
	send(t, pub, src.gop(t, 3))
	readTS(t, player, 3)
}

// TestKick: the API's kick closes the SRT connection.
func TestKick(t *testing.T) {
	f := startServer(t, defaultVhost())
	pub, err := f.dial(t, "#!::r=live/k,m=publish")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the client", func() bool { return len(f.stats.Clients()) == 1 })
	if err := f.stats.Kick(f.stats.Clients()[0].ID); err != nil {
		t.Fatal(err)
	}
	_ = pub.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := pub.ReadMessage(make([]byte, 1500)); !errors.Is(err, io.EOF) {
		t.Errorf("kicked publisher reads %v, want io.EOF", err)
	}
	waitFor(t, "the unpublish", func() bool { return len(f.stats.Clients()) == 0 })
}

// TestShutdownClosesConnections: cancelling Serve closes the listener and
// every connection; Wait returns.
func TestShutdownClosesConnections(t *testing.T) {
	f := startServer(t, defaultVhost())
	pub, err := f.dial(t, "#!::r=live/s,m=publish")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the client", func() bool { return len(f.stats.Clients()) == 1 })
	f.cancel()
	<-f.done
	f.srv.Wait()
	_ = pub.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := pub.ReadMessage(make([]byte, 1500)); !errors.Is(err, io.EOF) {
		t.Errorf("publisher reads %v after shutdown, want io.EOF", err)
	}
	if _, err := f.dial(t, "live/s"); err == nil {
		t.Error("a caller connected after shutdown")
	}
}
