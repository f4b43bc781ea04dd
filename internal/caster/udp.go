package caster

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
)

const (
	// maxDatagram holds any UDP payload (at most 65,507 bytes over IPv4).
	maxDatagram = 64 << 10
	// udpReadBuffer asks the kernel for room to queue datagrams while a
	// publish is being set up (the kernel may grant less).
	udpReadBuffer = 4 << 20
	// recvErrorPause keeps a failing socket from spinning the loop.
	recvErrorPause = 100 * time.Millisecond
)

// udpCaster is an mpegts_over_udp caster: one port, one stream.
type udpCaster struct {
	conn   net.PacketConn
	output string
	opt    Options
	dial   dialFunc
}

// StartMPEGTSOverUDP serves an mpegts_over_udp caster on conn in the
// background until ctx ends: the MPEG-TS stream sent to conn is published
// to output (a fixed rtmp:// URL) while datagrams arrive, and unpublished
// after opt.IdleTimeout without one; the next datagram publishes it again.
// The caster owns conn from then on and closes it when ctx ends. wait
// blocks until every goroutine it started has ended. An error (a bad
// output) means nothing was started and conn is still the caller's.
func StartMPEGTSOverUDP(ctx context.Context, conn net.PacketConn, output string, opt Options) (wait func(), err error) {
	if err := CheckOutput("mpegts_over_udp", output); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	opt.Log = opt.Log.With("caster", "mpegts_over_udp", "listen", conn.LocalAddr().String())
	if b, ok := conn.(interface{ SetReadBuffer(int) error }); ok {
		if err := b.SetReadBuffer(udpReadBuffer); err != nil {
			opt.Log.Debug("caster: cannot grow the receive buffer", "err", err)
		}
	}
	u := &udpCaster{conn: conn, output: output, opt: opt, dial: dialRTMP}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	go func() {
		defer close(done)
		defer conn.Close()
		defer stop()
		u.serve(ctx)
	}()
	return func() { <-done }, nil
}

// serve waits for a first datagram, runs the stream it starts until the
// stream goes idle, and waits again.
func (u *udpCaster) serve(ctx context.Context) {
	buf := make([]byte, maxDatagram)
	for {
		if err := u.conn.SetReadDeadline(time.Time{}); err != nil && ctx.Err() == nil {
			u.opt.Log.Debug("caster: clear read deadline", "err", err)
		}
		n, from, err := u.conn.ReadFrom(buf)
		if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			u.opt.Log.Warn("caster: receive failed", "err", err)
			t := time.NewTimer(recvErrorPause)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		u.stream(ctx, buf[:n], from)
	}
}

// stream runs one cast stream, from its first datagram to its end.
func (u *udpCaster) stream(ctx context.Context, first []byte, from net.Addr) {
	cid := ids.NewCID()
	log := u.opt.Log.With(logging.CID(cid))
	log.Info("caster: stream started", "from", from.String(), "output", u.output)
	r := &datagramReader{conn: u.conn, first: first, idle: u.opt.IdleTimeout}
	r.count(len(first), from)
	r.onSender = func(a net.Addr) {
		log.Warn("caster: datagrams from another sender mixed into the stream; one port carries one stream", "from", a.String())
	}
	s := newUDPStream(u, cid, log, r)
	start := time.Now()
	err := s.run(ctx)
	st := s.stats()
	log.Info("caster: stream ended", "reason", udpEndReason(err, u.opt.IdleTimeout), "duration", time.Since(start).Round(time.Millisecond),
		"datagrams", r.datagrams, "bytes", r.bytes, "publishes", s.publishes, "video", st.video, "audio", st.audio,
		"dropped", st.dropped, "ts_continuity_errors", st.continuityErrors, "ts_skipped_bytes", st.skippedBytes)
}

func udpEndReason(err error, idle time.Duration) string {
	switch {
	case errors.Is(err, errIdle):
		return "input idle: no datagram for " + idle.String()
	case errors.Is(err, net.ErrClosed), errors.Is(err, context.Canceled):
		return "caster stopped (reload or shutdown)"
	}
	return err.Error()
}
