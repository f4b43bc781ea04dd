package caster

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
)

// recording is a session after RECORD: the publish to the output, the
// media goroutine and, for UDP transport, a reader per socket.
type recording struct {
	media   *rtspMedia
	out     mediaOutput
	cancel  context.CancelFunc
	udp     []*rtpPortPair
	readers sync.WaitGroup // the UDP readers
	done    chan struct{}  // closed when the media goroutine ended
	err     error          // why it ended; read after done
}

// record publishes to the output, then starts receiving. A publish the
// target refuses is answered as the flv caster answers it: 409 for a
// stream that is busy, 403 for a refusal, 502 for a target out of reach.
func (rc *rtspConn) record(ctx context.Context) error {
	if rc.rec != nil {
		return nil // a repeated RECORD: already recording
	}
	setup := false
	for _, t := range rc.tracks {
		setup = setup || t.setup
	}
	if !setup {
		return rtspErrorf(455, "RECORD before SETUP")
	}
	url := FLVOutputURL(rc.c.output, rc.app, rc.stream)
	out, err := rc.c.dial(ctx, url, rc.cid, rc.c.opt)
	if err != nil {
		return rtspErrorf(publishStatus(err), "publish to %s: %v", url, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	rec := &recording{media: newRTSPMedia(rc.log, rc.tracks, out), out: out, cancel: cancel, done: make(chan struct{})}
	rc.rec = rec
	go func() {
		defer close(rec.done)
		rec.err = rec.media.run(rctx)
		if rec.err != nil && rctx.Err() == nil {
			rc.cancel() // the output failed: end the connection
		}
	}()
	peer := netip.Addr{}
	if a, ok := rc.nc.RemoteAddr().(*net.TCPAddr); ok {
		peer = a.AddrPort().Addr().Unmap()
	}
	for i, t := range rc.tracks {
		if t.udp == nil {
			continue
		}
		rec.udp = append(rec.udp, t.udp)
		rec.readers.Add(2)
		go rec.readUDP(t.udp.rtp, i, false, peer)
		go rec.readUDP(t.udp.rtcp, i, true, peer)
	}
	rc.log.Info("caster: publishing", "output", url, "transport", rc.transportName())
	return nil
}

func (rc *rtspConn) transportName() string {
	for _, t := range rc.tracks {
		if t.setup && !t.transport.tcp {
			return "udp"
		}
	}
	return "tcp"
}

// stop ends the recording and the publish. What was received is written
// first (a TEARDOWN right after the last packet loses nothing) unless the
// caster is stopping. It returns why the media goroutine ended if the
// output failed. The caller has stopped queueing interleaved frames.
func (rec *recording) stop() error {
	for _, p := range rec.udp {
		p.close() // unblocks the readers
	}
	rec.readers.Wait()
	close(rec.media.in)
	<-rec.done
	rec.cancel()
	rec.out.close()
	if errors.Is(rec.err, context.Canceled) {
		return nil
	}
	return rec.err
}

// readUDP queues the datagrams of one socket for the media goroutine,
// dropping those from other hosts than the RTSP client and those that find
// the queue full.
func (rec *recording) readUDP(conn *net.UDPConn, track int, rtcp bool, peer netip.Addr) {
	defer rec.readers.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return // closed by stop; any other error ends the input, and the idle check the stream
		}
		if peer.IsValid() && from.Addr().Unmap() != peer {
			rec.media.foreign.Add(1)
			continue
		}
		rec.media.received()
		select {
		case rec.media.in <- rtpInput{track: track, rtcp: rtcp, data: bytes.Clone(buf[:n])}:
		default:
			rec.media.queueDrops.Add(1)
		}
	}
}

// interleaved reads one frame from the connection and queues it for the
// media goroutine when it belongs to a track set up on a channel.
func (rc *rtspConn) interleaved(ctx context.Context) error {
	if rc.frame == nil {
		rc.frame = make([]byte, 1<<16)
	}
	ch, payload, err := readInterleaved(rc.br, rc.frame)
	if err != nil {
		return err
	}
	if rc.rec == nil {
		return nil // before RECORD: nothing receives yet
	}
	for i, t := range rc.tracks {
		if !t.setup || !t.transport.tcp || (t.transport.channels[0] != ch && t.transport.channels[1] != ch) {
			continue
		}
		rc.rec.media.received()
		in := rtpInput{track: i, rtcp: t.transport.channels[1] == ch, data: bytes.Clone(payload)}
		select {
		case rc.rec.media.in <- in:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
