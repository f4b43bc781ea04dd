package gb28181

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/castd/castd/internal/format/mpegps"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
)

const (
	// maxUnknownPackets is how many RTP packets of no session a media
	// connection may send before it is closed.
	maxUnknownPackets = 100
	// maxBadPackets is how many packets in a row may fail to parse as
	// RTP before the connection is taken for something else.
	maxBadPackets = 16
	// maxResyncs is how many times in a row the program stream may need a
	// resync, with no frame in between, before the connection is closed
	// (SRS gives up after 16 recoveries).
	maxResyncs = 16
)

// mediaConn is one RTP over TCP connection (RFC 4571).
type mediaConn struct {
	nc    net.Conn
	log   *slog.Logger
	demux *mpegps.Demuxer
}

// serveMedia reads RTP packets from one connection, binds it to the
// session of their SSRC and feeds that session's pipeline.
func (s *Server) serveMedia(nc net.Conn) {
	mc := &mediaConn{nc: nc, demux: mpegps.NewDemuxer()}
	mc.log = s.cfg.Log.With(logging.CID(ids.NewCID()), "client", nc.RemoteAddr().String())
	var warnings int
	mc.demux.Warn = func(err error) {
		if warnings++; warnings <= 10 || warnings%1000 == 0 {
			mc.log.Warn("gb28181: damaged program stream", "err", err, "count", warnings)
		}
	}
	var se *session
	err := s.readMedia(mc, &se)
	if se != nil {
		se.mediaClosed(mc)
	}
	st := mc.demux.Stats()
	mc.log.Info("gb28181: media connection closed", "err", err, "packs", st.Packs, "frames", st.Frames, "resyncs", st.Resyncs)
}

func (s *Server) readMedia(mc *mediaConn, bound **session) error {
	br := bufio.NewReaderSize(mc.nc, 64<<10)
	buf := make([]byte, 0xffff)
	var unknown, bad, rtcp int
	var lastResyncs, lastFrames uint64
	var frames []mpegps.Frame
	for {
		if err := mc.nc.SetReadDeadline(time.Now().Add(s.cfg.MediaIdle)); err != nil {
			return err
		}
		var hdr [2]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return readErr(err, s.cfg.MediaIdle)
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n == 0 {
			return errors.New("gb28181: RTP over TCP frame of length 0")
		}
		pkt := buf[:n]
		if _, err := io.ReadFull(br, pkt); err != nil {
			return readErr(err, s.cfg.MediaIdle)
		}
		if isRTCP(pkt) {
			if rtcp++; rtcp == 1 {
				mc.log.Info("gb28181: dropping RTCP on the media connection")
			}
			continue
		}
		p, err := parseRTP(pkt)
		if err != nil {
			if bad++; bad > maxBadPackets {
				return fmt.Errorf("gb28181: %d packets in a row are not RTP: %w", bad, err)
			}
			continue
		}
		bad = 0
		se := *bound
		if se == nil {
			se = s.bindMedia(p.ssrc, mc)
			if se == nil {
				if unknown++; unknown > maxUnknownPackets {
					return fmt.Errorf("gb28181: %d RTP packets with SSRC %s of no session", unknown, formatSSRC(p.ssrc))
				}
				continue
			}
			*bound = se
			se.pipeMu.Lock()
			se.pipe.restart()
			se.pipeMu.Unlock()
			mc.log = mc.log.With("device", se.device)
			mc.log.Info("gb28181: media connected", "ssrc", formatSSRC(p.ssrc), "session", se.cid)
		}
		if !se.mediaPacket(mc) {
			return errors.New("gb28181: the session ended")
		}
		frames = mc.demux.Append(frames[:0], p.payload)
		if st := mc.demux.Stats(); st.Resyncs-lastResyncs > maxResyncs {
			return fmt.Errorf("gb28181: the program stream needed %d resyncs without a frame", st.Resyncs-lastResyncs)
		} else if st.Frames != lastFrames {
			lastFrames, lastResyncs = st.Frames, st.Resyncs
		}
		if len(frames) > 0 {
			se.pipeMu.Lock()
			se.pipe.push(frames)
			se.pipeMu.Unlock()
			clear(frames)
		}
	}
}

func readErr(err error, idle time.Duration) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("gb28181: no media for %v", idle)
	}
	return err
}

// bindMedia attaches a media connection to the session of an SSRC, and
// closes the one it had: the device reconnected.
func (s *Server) bindMedia(ssrc uint32, mc *mediaConn) *session {
	s.mu.Lock()
	se := s.bySSRC[ssrc]
	s.mu.Unlock()
	if se == nil {
		return nil
	}
	old, ok := se.attachMedia(mc)
	if !ok {
		return nil
	}
	if old != nil {
		old.log.Info("gb28181: replaced by a new media connection")
		old.nc.Close()
	}
	return se
}

// attachMedia makes mc the session's media connection.
func (se *session) attachMedia(mc *mediaConn) (old *mediaConn, ok bool) {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.stopping() {
		return nil, false
	}
	old, se.media = se.media, mc
	se.lastMedia.Store(time.Now().UnixNano())
	return old, true
}

// mediaPacket notes a packet; false when mc is no longer the session's.
func (se *session) mediaPacket(mc *mediaConn) bool {
	se.lastMedia.Store(time.Now().UnixNano())
	se.mu.Lock()
	defer se.mu.Unlock()
	return se.media == mc
}

// mediaClosed notes that mc closed.
func (se *session) mediaClosed(mc *mediaConn) {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.media == mc {
		se.media = nil
		se.mediaDownAt = time.Now()
	}
}
