package server

import (
	"net"
	"slices"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/rtc"
	"github.com/castd/castd/internal/transcode"
)

// newRTC builds the WebRTC server; it opens its media port in Start.
func newRTC(s *Server, pid int) *rtc.Server {
	return &rtc.Server{
		Hub: s.hub, Stats: s.stats, Hooks: s.hooks, Log: s.log, Vhost: s.rtcVhost,
		Config:      func() conf.RTCServer { return s.config().RTCServer },
		Identity:    rtc.Identity{ServerID: s.id, ServiceID: s.service, PID: pid},
		Transcoders: transcoders{},
	}
}

// transcoders gives the WebRTC bridges internal/transcode's AAC/Opus codecs.
type transcoders struct{}

func (transcoders) Available() error { return transcode.Available() }

func (transcoders) NewOpusToAAC(channels, bitrate int) (rtc.OpusToAAC, error) {
	t, err := transcode.NewOpusToAAC(channels, bitrate)
	if err != nil {
		return nil, err
	}
	return opusToAAC{t: t}, nil
}

func (transcoders) NewAACToOpus(asc []byte, bitrate int) (rtc.AACToOpus, error) {
	t, err := transcode.NewAACToOpus(asc, bitrate)
	if err != nil {
		return nil, err
	}
	return aacToOpus{t: t}, nil
}

type opusToAAC struct{ t transcode.OpusToAAC }

func (o opusToAAC) Write(frame []byte, pts time.Duration) ([]rtc.AudioFrame, error) {
	out, err := o.t.Write(frame, pts)
	return audioFrames(out), err
}
func (o opusToAAC) AudioSpecificConfig() []byte { return o.t.AudioSpecificConfig() }
func (o opusToAAC) Close() error                { return o.t.Close() }

type aacToOpus struct{ t transcode.Transcoder }

func (a aacToOpus) Write(frame []byte, pts time.Duration) ([]rtc.AudioFrame, error) {
	out, err := a.t.Write(frame, pts)
	return audioFrames(out), err
}
func (a aacToOpus) Close() error { return a.t.Close() }

// audioFrames converts frames; the data stays the transcoder's until its
// next Write, and the WebRTC server copies it before then.
func audioFrames(in []transcode.Frame) []rtc.AudioFrame {
	if len(in) == 0 {
		return nil
	}
	out := make([]rtc.AudioFrame, len(in))
	for i, f := range in {
		out[i] = rtc.AudioFrame{Data: f.Data, PTS: f.PTS, Duration: f.Duration}
	}
	return out
}

func (s *Server) rtcVhost(name string) (rtc.Vhost, bool) {
	v := s.config().Vhost(name)
	if v == nil {
		return rtc.Vhost{}, false
	}
	return rtc.Vhost{
		Name: v.Name, Enabled: v.Enabled, RTC: v.RTC, Stream: streamOptions(v),
		Hooks: v.HTTPHooks, Security: v.Security,
	}, true
}

// rtcAddrsLocked adds the WebRTC media ports to Addrs' answer: rtc (UDP)
// and rtc_tcp.
func (s *Server) rtcAddrsLocked(out map[string][]net.Addr) {
	udp, tcp := s.rtc.Addrs()
	if udp != nil {
		out["rtc"] = []net.Addr{udp}
	}
	if tcp != nil {
		out["rtc_tcp"] = []net.Addr{tcp}
	}
}

// reloadRTC applies a changed rtc_server: new sessions get the new ports,
// candidates and black hole; live sessions go on on the ports they have
// until they end (vhost rtc{} settings apply to new sessions).
func (s *Server) reloadRTC(cfg *conf.Config, ch conf.Changes) {
	if !slices.Contains(ch.Sections, "rtc_server") {
		return
	}
	if err := s.rtc.Reload(cfg.RTCServer); err != nil {
		s.log.Error("reload: WebRTC port cannot open; the old one stays in use", "err", err)
	}
}
