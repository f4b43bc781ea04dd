package stats

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

type fakeConn struct{ in, out atomic.Int64 }

func (f *fakeConn) BytesIn() int64  { return f.in.Load() }
func (f *fakeConn) BytesOut() int64 { return f.out.Load() }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRegistryLifecycleAndTotals(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	r := New(clk.now)
	pubConn, playConn := &fakeConn{}, &fakeConn{}
	kicked := false
	r.Register(&Client{ID: "pub00001", Type: FMLEPublish, Vhost: "__defaultVhost__", StreamID: "vid-s", Conn: pubConn})
	r.Register(&Client{ID: "ply00001", Type: RTMPPlay, Vhost: "__defaultVhost__", StreamID: "vid-s", Conn: playConn, Kick: func() { kicked = true }})

	pubConn.in.Store(1000)
	playConn.out.Store(900)
	u := r.StreamUsage("vid-s")
	if u.Clients != 2 || u.RecvBytes != 1000 || u.SendBytes != 900 {
		t.Fatalf("usage %+v", u)
	}
	if err := r.Kick("ply00001"); err != nil || !kicked {
		t.Fatalf("kick: %v kicked=%v", err, kicked)
	}
	if err := r.Kick("pub00001"); !errors.Is(err, ErrNotKickable) {
		t.Fatalf("kick without func: %v", err)
	}
	if err := r.Kick("nobody00"); !errors.Is(err, ErrClientNotFound) {
		t.Fatalf("kick unknown: %v", err)
	}

	r.Unregister("ply00001", errors.New("reset"))
	u = r.StreamUsage("vid-s")
	if u.Clients != 1 || u.SendBytes != 900 {
		t.Fatalf("departed client's bytes must stay in the stream total: %+v", u)
	}
	if now, total, errs := r.Counts(); now != 1 || total != 2 || errs != 1 {
		t.Fatalf("counts %d %d %d", now, total, errs)
	}
	if s := r.ServerUsage(); s.SendBytes != 900 || s.RecvBytes != 1000 {
		t.Fatalf("server usage %+v", s)
	}
	list := r.Clients()
	if len(list) != 1 || list[0].ID != "pub00001" || list[0].RecvBytes != 1000 {
		t.Fatalf("clients %+v", list)
	}
	if list[0].VhostID != r.VhostID("__defaultVhost__") {
		t.Fatal("vhost id not stable")
	}
	if name, ok := r.VhostByID(list[0].VhostID); !ok || name != "__defaultVhost__" {
		t.Fatal("vhost by id")
	}
}

func TestKbps30s(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	r := New(clk.now)
	c := &fakeConn{}
	r.Register(&Client{ID: "c", Type: RTMPPlay, StreamID: "vid-s", Conn: c})
	// 1 Mbit/s out = 125000 bytes/s, for 60 s, sampled every 5 s.
	for i := 0; i <= 12; i++ {
		r.Sample()
		clk.t = clk.t.Add(SampleInterval)
		c.out.Add(125000 * 5)
	}
	v, _ := r.Client("c")
	if v.SendKbps < 990 || v.SendKbps > 1010 || v.RecvKbps != 0 {
		t.Fatalf("client kbps send=%d recv=%d, want ~1000", v.SendKbps, v.RecvKbps)
	}
	if u := r.StreamUsage("vid-s"); u.SendKbps < 990 || u.SendKbps > 1010 {
		t.Fatalf("stream kbps %d", u.SendKbps)
	}
	// The rate follows a change within the window.
	for i := 0; i < 7; i++ {
		r.Sample()
		clk.t = clk.t.Add(SampleInterval)
	}
	if v, _ := r.Client("c"); v.SendKbps != 0 {
		t.Fatalf("idle client still shows %d kbps", v.SendKbps)
	}
}

func TestClientTypes(t *testing.T) {
	for _, ty := range []ClientType{FlashPublish, FMLEPublish, HaivisionPublish, RTCPublish, SRTPublish} {
		if !ty.IsPublish() {
			t.Errorf("%s should publish", ty)
		}
	}
	for _, ty := range []ClientType{RTMPPlay, HLSPlay, FLVPlay, RTCPlay, SRTPlay} {
		if ty.IsPublish() {
			t.Errorf("%s should play", ty)
		}
	}
}
