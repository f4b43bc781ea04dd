package rtc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/streamurl"
)

// apiRequest is the body of SRS's POST /rtc/v1/publish/ and /rtc/v1/play/.
type apiRequest struct {
	API       string
	TID       string
	StreamURL string
	ClientIP  string
	SDP       string
}

// parseAPIRequest reads the JSON body: sdp and streamurl are required
// strings; api, tid and clientip are optional and ignored unless strings
// (clientip is null from SRS's own player).
func parseAPIRequest(body []byte) (apiRequest, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return apiRequest{}, fmt.Errorf("rtc: request body is not a JSON object (code 5019): %w", err)
	}
	str := func(name string) (string, bool) {
		var s string
		v, ok := raw[name]
		if !ok || json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	}
	var r apiRequest
	var ok bool
	if r.SDP, ok = str("sdp"); !ok || r.SDP == "" {
		return r, errors.New("rtc: request has no sdp string (code 5019)")
	}
	if r.StreamURL, ok = str("streamurl"); !ok || r.StreamURL == "" {
		return r, errors.New("rtc: request has no streamurl string (code 5019)")
	}
	r.API, _ = str("api")
	r.TID, _ = str("tid")
	r.ClientIP, _ = str("clientip")
	return r, nil
}

// parseStreamURL splits webrtc://host[:port]/app/stream[?query] as SRS's
// RTMP URL rules do: the vhost is ?vhost= or ?domain=, else the host.
func parseStreamURL(u string) (*streamurl.Request, error) {
	base, query, _ := strings.Cut(u, "?")
	i := strings.LastIndexByte(base, '/')
	if i < 0 || !strings.Contains(base[:i], "://") {
		return nil, fmt.Errorf("rtc: streamurl %q is not schema://host/app/stream", u)
	}
	stream := base[i+1:]
	if query != "" {
		stream += "?" + query
	}
	req, err := streamurl.DiscoverRTMP(base[:i], stream)
	if err != nil {
		return nil, fmt.Errorf("rtc: streamurl %q: %w", u, err)
	}
	return req, nil
}

// apiAnswer is SRS's success answer; errors are {"code":400} whatever failed.
type apiAnswer struct {
	Code      int    `json:"code"`
	Server    string `json:"server"`
	Service   string `json:"service"`
	PID       string `json:"pid"`
	SDP       string `json:"sdp"`
	SessionID string `json:"sessionid"`
}

// serveAPI is SRS's JSON signalling: /rtc/v1/publish/ and /rtc/v1/play/.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "Close")
	if r.Method != http.MethodPost {
		httpx.MethodNotAllowed(w)
		return
	}
	req, err := s.apiRequest(r)
	var ans answer
	if err == nil {
		ans, err = s.negotiate(r.Context(), req)
	}
	if err != nil {
		s.Log.Warn("rtc: API request refused", "path", r.URL.Path, "ip", clientIP(r), "err", err)
		httpx.WriteJSON(w, r, map[string]int{"code": 400})
		return
	}
	httpx.WriteJSON(w, r, apiAnswer{
		Server: s.Identity.ServerID, Service: s.Identity.ServiceID, PID: strconv.Itoa(s.Identity.PID),
		SDP: ans.sdp, SessionID: ans.sessionID,
	})
}

// apiRequest builds the signalling request of a JSON API call. The query
// of the API URL carries eip/candidate and codec, as in SRS.
func (s *Server) apiRequest(r *http.Request) (*request, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	ar, err := parseAPIRequest(body)
	if err != nil {
		return nil, err
	}
	su, err := parseStreamURL(ar.StreamURL)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	play := strings.HasPrefix(r.URL.Path, "/rtc/v1/play/")
	if err := s.refusePlaintext(play, q, su.Query()); err != nil {
		return nil, err
	}
	ip := ar.ClientIP
	if ip == "" {
		ip = clientIP(r)
	}
	return &request{
		play: play, via: "api",
		vhost: su.Vhost, app: su.App, stream: su.Stream, param: su.Param,
		tcURL: "webrtc://" + su.Host + "/" + su.App,
		ip:    ip, peer: r.RemoteAddr, apiHost: r.Host,
		eip:   firstOf(q.Get("eip"), q.Get("candidate"), su.Query().Get("eip"), su.Query().Get("candidate")),
		codec: firstOf(q.Get("codec"), su.Query().Get("codec")), offer: ar.SDP,
	}, nil
}
