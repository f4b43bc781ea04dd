package hub

import (
	"context"
	"testing"
	"time"
)

func TestReadWithinGivesUpWhenIdleAndWakesOnData(t *testing.T) {
	h := newTestHub(t)
	p := publish(t, h, DefaultStreamOptions())
	v := h.Play(key, ClientInfo{ID: "poll"}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterOff})
	defer v.Close()
	out := make([]Delivery, 8)

	start := time.Now()
	n, err := v.ReadWithin(context.Background(), out, 30*time.Millisecond)
	if n != 0 || err != nil {
		t.Fatalf("idle stream: n %d err %v", n, err)
	}
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Fatalf("returned after %v, before the idle limit", waited)
	}

	go func() {
		time.Sleep(20 * time.Millisecond)
		write(t, p, vsh(0), vkey(0))
	}()
	n, err = v.ReadWithin(context.Background(), out, 10*time.Second)
	if err != nil || n == 0 {
		t.Fatalf("data during the wait: n %d err %v", n, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.ReadWithin(ctx, out, time.Second); err == nil {
		t.Fatal("a cancelled context is not reported")
	}
}
