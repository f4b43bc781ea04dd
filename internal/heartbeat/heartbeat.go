// Package heartbeat POSTs the server's identity (and, when asked, its
// summaries and listening ports) to heartbeat.url every heartbeat.interval,
// as SRS's SrsHttpHeartbeat does, so a fleet manager can see its servers.
// A failed beat is logged and the next one is tried on time; nothing else
// ever waits for a beat.
package heartbeat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/version"
)

// Sender sends heartbeats. Fields are set before Run; Config is read before
// each beat, so reloads apply (turning it on or off, the URL, the interval).
type Sender struct {
	Config    func() *conf.Config
	ServerID  string
	ServiceID string
	Pid       int
	// Summaries returns the /api/v1/summaries data, sent when
	// heartbeat.summaries is on; nil sends none.
	Summaries func() any
	// LocalIPs lists the host's addresses; stats.network picks one as the
	// body's ip. nil reads the interfaces.
	LocalIPs func() []string
	// Transport carries the POSTs; nil ignores proxy settings (the target is
	// usually a local service) and keeps connections for the next beat.
	Transport http.RoundTripper
	Log       *slog.Logger

	once sync.Once
	http *http.Client
}

// ports are heartbeat.ports' listening endpoints.
type ports struct {
	RTMP []string `json:"rtmp"`
	HTTP []string `json:"http,omitempty"`
	API  []string `json:"api,omitempty"`
	SRT  []string `json:"srt,omitempty"`
	RTC  []string `json:"rtc,omitempty"`
}

// body is SRS's heartbeat JSON, in its field order.
type body struct {
	DeviceID  string `json:"device_id"`
	IP        string `json:"ip"`
	Server    string `json:"server"`
	Service   string `json:"service"`
	Pid       string `json:"pid"`
	Summaries any    `json:"summaries,omitempty"`
	*ports
}

// Body returns the JSON of one beat for cfg.
func (s *Sender) Body(cfg *conf.Config) ([]byte, error) {
	b := body{DeviceID: cfg.Heartbeat.DeviceID, IP: s.localIP(cfg.Stats.Network),
		Server: s.ServerID, Service: s.ServiceID, Pid: strconv.Itoa(s.Pid)}
	if cfg.Heartbeat.Summaries && s.Summaries != nil {
		// SRS writes the summaries endpoint's object: {"data": {...}}.
		b.Summaries = map[string]any{"data": s.Summaries()}
	}
	if cfg.Heartbeat.Ports {
		b.ports = portsOf(cfg)
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("heartbeat: encode body: %w", err)
	}
	return out, nil
}

func portsOf(cfg *conf.Config) *ports {
	p := &ports{RTMP: append([]string{}, cfg.Listen...)}
	if cfg.HTTPServer.Enabled {
		p.HTTP = cfg.HTTPServer.Listens
	}
	if cfg.HTTPAPI.Enabled {
		p.API = []string{cfg.HTTPAPI.Listen}
	}
	if cfg.SRTServer.Enabled {
		p.SRT = []string{"udp://0.0.0.0:" + strconv.Itoa(cfg.SRTServer.Listen)}
	}
	if cfg.RTCServer.Enabled {
		p.RTC = []string{"udp://0.0.0.0:" + strconv.Itoa(cfg.RTCServer.Listen)}
		if cfg.RTCServer.TCP.Enabled {
			p.RTC = append(p.RTC, "tcp://0.0.0.0:"+strconv.Itoa(cfg.RTCServer.TCP.Listen))
		}
	}
	return p
}

// localIP is the stats.network-th local address (modulo their number, as
// SRS), or "" when the host has none.
func (s *Sender) localIP(index int) string {
	var ips []string
	if s.LocalIPs != nil {
		ips = s.LocalIPs()
	} else {
		ips = interfaceIPs()
	}
	if len(ips) == 0 || index < 0 {
		return ""
	}
	return ips[index%len(ips)]
}

func interfaceIPs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}

// maxAnswer bounds what is read of the answer: SRS ignores it, castd reads
// a little so the connection can be reused.
const maxAnswer = 64 << 10

// Beat sends one heartbeat for cfg and waits for the answer, at most ctx's
// deadline. Any 2xx answer is a success.
func (s *Sender) Beat(ctx context.Context, cfg *conf.Config) error {
	payload, err := s.Body(cfg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Heartbeat.URL, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("heartbeat: %s: %w", cfg.Heartbeat.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "castd/"+version.Version)
	resp, err := s.client().Do(req)
	if err != nil {
		return fmt.Errorf("heartbeat: post %s: %w", cfg.Heartbeat.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("heartbeat: post %s: status %d", cfg.Heartbeat.URL, resp.StatusCode)
	}
	return nil
}

func (s *Sender) client() *http.Client {
	s.once.Do(func() {
		t := s.Transport
		if t == nil {
			t = &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
				MaxIdleConns: 2, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second}
		}
		// Redirects are not followed: the configured URL is the receiver.
		s.http = &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	})
	return s.http
}

// idleCheck is how often a disabled heartbeat looks whether a reload
// turned it on.
const idleCheck = time.Second

// Run beats every interval until ctx ends. Each beat may take at most the
// interval; a slow receiver makes castd skip beats, never pile them up.
func (s *Sender) Run(ctx context.Context) {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	failing := false
	wait := time.Duration(0)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.client().CloseIdleConnections()
			return
		case <-t.C:
		}
		cfg := s.Config()
		if !cfg.Heartbeat.Enabled {
			wait = idleCheck
			continue
		}
		wait = max(cfg.Heartbeat.Interval, time.Second)
		beatCtx, cancel := context.WithTimeout(ctx, wait)
		err := s.Beat(beatCtx, cfg)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			// Log every failure at debug, and the change at warn, so a
			// receiver that is down does not flood the log.
			if !failing {
				log.Warn("heartbeat failed; retrying every interval", "url", cfg.Heartbeat.URL, "err", err)
			}
			log.Debug("heartbeat failed", "url", cfg.Heartbeat.URL, "err", err)
			failing = true
		case err == nil && failing:
			log.Info("heartbeat delivered again", "url", cfg.Heartbeat.URL)
			failing = false
		}
	}
}
