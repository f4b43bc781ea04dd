package rtc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/security"
)

// protocolRTC names WebRTC clients to the hub (busy errors, snapshots).
const protocolRTC = "rtc"

// request is a signalling request from either API, parsed.
type request struct {
	play    bool
	via     string // "whip" or "api"
	vhost   string // as asked: query vhost/domain, else the host
	app     string
	stream  string
	param   string // the query with its leading '?', "" when none
	tcURL   string
	ip      string // the client's IP (X-Forwarded-For, X-Real-IP, clientip or the peer)
	peer    string // the HTTP peer address
	apiHost string // the Host the client reached the API at
	eip     string
	codec   string // SRS's ?codec=: the video codec the client wants
	offer   string
	ufrag   string // WHIP's ice-ufrag and ice-pwd, "" for random ones
	pwd     string
}

// answer is what signalling sends back.
type answer struct {
	sdp       string
	sessionID string
	token     string
}

// negotiate runs SRS's checks in SRS's order (spec §2.5) and, when they
// pass, starts a session and returns its answer: the offer; rtc_server
// and the vhost's rtc enabled; for players, rtmp_to_rtc when the stream
// comes from RTMP; then security and the on_play hook before the session
// is made, or, for publishers, the session first, then security, on_publish
// and the hub's stream-busy check.
func (s *Server) negotiate(ctx context.Context, r *request) (answer, error) {
	o, err := checkOffer(r.offer, r.play)
	if err != nil {
		return answer{}, err
	}
	v, ok := s.Vhost(r.vhost)
	if !ok {
		return answer{}, fmt.Errorf("rtc: vhost %q: no such vhost and no __defaultVhost__ (code 2014)", r.vhost)
	}
	s.mu.Lock()
	started := s.started && s.ctx != nil && s.ctx.Err() == nil
	s.mu.Unlock()
	if !started || !s.Config().Enabled || !v.Enabled || !v.RTC.Enabled {
		return answer{}, errDisabled
	}
	if v.RTC.DTLSVersion == "dtls1.0" {
		s.warnOnce("dtls1.0", "rtc: dtls_version dtls1.0 is not supported; castd speaks DTLS 1.2", "vhost", v.Name)
	}
	asked, err := parseCodecParam(r.codec)
	if err != nil {
		return answer{}, err
	}
	if r.app == "" || r.stream == "" {
		return answer{}, errors.New("rtc: the stream URL names no app or stream")
	}
	key := hub.Key{Vhost: v.Name, App: r.app, Name: r.stream}
	cid := ids.NewCID()
	hr := hooks.Request{
		ClientID: cid, IP: r.ip, Vhost: v.Name, App: r.app, Stream: r.stream, Param: r.param,
		TcURL: r.tcURL, StreamURL: key.String(),
	}
	if r.play {
		return s.negotiatePlay(ctx, r, o, asked, v, key, hr)
	}
	if o.hasVideo {
		// A publisher sends what the answer keeps: the codec asked for,
		// else castd's favourite among those offered.
		if o.video, err = chooseVideoCodec(o.videoCodecs, asked); err != nil {
			return answer{}, fmt.Errorf("rtc: publish %s: %w", key, err)
		}
	}
	return s.negotiatePublish(ctx, r, o, v, key, hr)
}

// clientIP is SRS's srs_get_original_ip: the first X-Forwarded-For entry,
// else X-Real-IP (port stripped), else the peer.
func clientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		if ip := strings.TrimSpace(first); ip != "" {
			return ip
		}
	}
	if xr := strings.TrimSpace(r.Header.Get("X-Real-IP")); xr != "" {
		if h, _, err := net.SplitHostPort(xr); err == nil {
			return h
		}
		return xr
	}
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// admit applies vhost.security to the client.
func admit(v Vhost, kind security.Kind, ip string) error {
	return security.Check(v.Security, kind, security.ClientAddr(ip))
}

// withUpstream appends SRS's upstream=rtc marker to a publisher's param,
// so hooks can tell WebRTC publishers apart.
func withUpstream(param string) string {
	if param == "" || param == "?" {
		return "?upstream=rtc"
	}
	return param + "&upstream=rtc"
}

// busy returns a BusyError when key already has a publisher.
func (s *Server) busy(key hub.Key) error {
	st := s.Hub.Stream(key)
	if st == nil {
		return nil
	}
	if sn := st.Snapshot(); sn.Publishing {
		return &hub.BusyError{Key: key, Holder: sn.Publisher, Since: sn.PublishedAt}
	}
	return nil
}

const iceChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n random ICE characters (ufrags, passwords, tokens).
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // documented to never fail (Go 1.24+): it aborts the program instead
	for i := range b {
		b[i] = iceChars[int(b[i])%len(iceChars)]
	}
	return string(b)
}
