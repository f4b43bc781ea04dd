package rtc

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/castd/castd/internal/httpx"
)

// Mount registers the signalling handlers on an HTTP mux: WHIP and WHEP,
// SRS's JSON API. SRS serves them on the API port (and on the HTTP server
// port when the API shares it).
func (s *Server) Mount(mux *httpx.Mux) {
	mux.Handle("/rtc/v1/whip/", http.HandlerFunc(s.serveWHIP))
	mux.Handle("/rtc/v1/whip-play/", http.HandlerFunc(s.serveWHIP))
	mux.Handle("/rtc/v1/whep/", http.HandlerFunc(s.serveWHIP))
	mux.Handle("/rtc/v1/publish/", httpx.JSONP(http.HandlerFunc(s.serveAPI)))
	mux.Handle("/rtc/v1/play/", httpx.JSONP(http.HandlerFunc(s.serveAPI)))
	mux.Handle("/rtc/v1/nack/", httpx.JSONP(http.HandlerFunc(s.serveNACK)))
}

// readBody reads a signalling body, refusing one larger than an SDP can be.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxSDPBytes+4096+1))
	if err != nil {
		return nil, fmt.Errorf("rtc: read request body: %w", err)
	}
	if len(b) > maxSDPBytes+4096 {
		return nil, fmt.Errorf("rtc: request body larger than %d bytes", maxSDPBytes+4096)
	}
	return b, nil
}

// serveWHIP is WHIP (publish) and WHEP (play), SRS flavoured: POST the
// offer, get 201 with the answer and a Location to DELETE. /whip-play/ and
// /whep/ play; /whip/ publishes unless ?action=play. Errors close the
// connection without an answer, as SRS does.
func (s *Server) serveWHIP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Connection", "Close")
	if r.Method == http.MethodDelete || q.Get("action") == "delete" {
		found := s.deleteSession(q.Get("session"), q.Get("token"))
		s.Log.Info("rtc: WHIP delete", "session", q.Get("session"), "found", found)
		w.WriteHeader(http.StatusOK)
		return
	}
	if r.Method != http.MethodPost {
		httpx.MethodNotAllowed(w)
		return
	}
	req, err := whipRequest(r)
	if err == nil {
		err = s.refusePlaintext(req.play, q)
	}
	if err == nil {
		var body []byte
		if body, err = readBody(r); err == nil {
			req.offer = string(body)
		}
	}
	var ans answer
	if err == nil {
		ans, err = s.negotiate(r.Context(), req)
	}
	if err != nil {
		s.Log.Warn("rtc: WHIP request refused", "url", r.URL.String(), "ip", clientIP(r), "err", err)
		httpx.CloseWithoutResponse(w)
		return
	}
	loc := url.Values{"action": {"delete"}, "token": {ans.token}, "app": {req.app}, "stream": {req.stream}, "session": {ans.sessionID}}
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/rtc/v1/whip/?"+loc.Encode())
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, ans.sdp) // a client gone now finds out over ICE
}

// whipRequest reads a WHIP/WHEP URL: app (default live), stream (default
// livestream), vhost from ?vhost= or ?domain= else the Host, the whole
// query as param, eip/candidate, codec, and client ICE credentials.
func whipRequest(r *http.Request) (*request, error) {
	q := r.URL.Query()
	req := &request{
		via: "whip", app: q.Get("app"), stream: q.Get("stream"),
		ip: clientIP(r), peer: r.RemoteAddr, apiHost: r.Host,
		eip: firstOf(q.Get("eip"), q.Get("candidate")), codec: q.Get("codec"),
		ufrag: q.Get("ice-ufrag"), pwd: q.Get("ice-pwd"),
	}
	if req.app == "" {
		req.app = "live"
	}
	if req.stream == "" {
		req.stream = "livestream"
	}
	req.play = strings.HasPrefix(r.URL.Path, "/rtc/v1/whip-play/") || strings.HasPrefix(r.URL.Path, "/rtc/v1/whep/") ||
		q.Get("action") == "play"
	host := httpx.HostOnly(r.Host)
	req.vhost = firstOf(q.Get("vhost"), q.Get("domain"), host)
	if r.URL.RawQuery != "" {
		req.param = "?" + r.URL.RawQuery
	}
	req.tcURL = "webrtc://" + host + "/" + req.app
	if req.ufrag != "" && (len(req.ufrag) < 4 || len(req.ufrag) > 32 || !iceString(req.ufrag)) {
		return nil, errors.New("rtc: ice-ufrag must be 4 to 32 ICE characters")
	}
	if req.pwd != "" && (len(req.pwd) < 22 || len(req.pwd) > 32 || !iceString(req.pwd)) {
		return nil, errors.New("rtc: ice-pwd must be 22 to 32 ICE characters")
	}
	return req, nil
}

// iceString reports whether s has only ICE characters (RFC 8839 ice-char).
func iceString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
