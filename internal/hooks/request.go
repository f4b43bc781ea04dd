package hooks

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/castd/castd/internal/streamurl"
)

// Request says whom and what a hook is about: the client and its stream, as
// SRS's SrsRequest. Adapters fill it once per client and pass it to every
// hook of that client.
type Request struct {
	ClientID string // the 8-character context id (log cid, API client id)
	IP       string // the client's address, without port
	Vhost    string // the resolved vhost name (__defaultVhost__ when it fell back)
	App      string
	Stream   string // any extension (".flv") is dropped in the body, as SRS
	Param    string // the query with its leading '?', e.g. "?token=x"; "" when none
	TcURL    string // RTMP: the connect tcUrl; HTTP: see docs/hooks.md
	PageURL  string // RTMP: the connect pageUrl; HTTP: the Referer header
	// StreamURL is SRS's stream key; "" computes it from Vhost, App and
	// Stream ("/app/stream", or "vhost/app/stream" off the default vhost).
	StreamURL string
	// StreamID is the hub stream's "vid-..." id; "" omits stream_id, as SRS
	// does when no stat entry exists.
	StreamID string
}

// RequestFrom builds a Request from a URL the adapter discovered. vhost is
// the resolved vhost name, which may differ from the one the client asked for.
func RequestFrom(clientID, ip, vhost string, u *streamurl.Request) Request {
	return Request{
		ClientID: clientID, IP: ip, Vhost: vhost, App: u.App, Stream: u.Stream,
		Param: u.Param, TcURL: u.TcURL, PageURL: u.PageURL,
	}
}

// stream is the stream name without extension, as SRS reports it.
func (r Request) stream() string {
	if i := strings.LastIndexByte(r.Stream, '.'); i >= 0 {
		return r.Stream[:i]
	}
	return r.Stream
}

// param is Param with its leading '?', which hook servers split on.
func (r Request) param() string {
	if r.Param == "" || r.Param[0] == '?' {
		return r.Param
	}
	return "?" + r.Param
}

func (r Request) streamURL() string {
	if r.StreamURL != "" {
		return r.StreamURL
	}
	u := streamurl.Request{Vhost: r.Vhost, App: r.App, Stream: r.Stream}
	return u.StreamURL()
}

// The bodies below list SRS's fields in SRS's order (v6, srs_app_http_hooks.cpp);
// hook servers read them by name, but the order keeps logs comparable.

// ConnectBody is the body of on_connect.
type ConnectBody struct {
	ServerID  string `json:"server_id"`
	ServiceID string `json:"service_id"`
	Action    Event  `json:"action"`
	ClientID  string `json:"client_id"`
	IP        string `json:"ip"`
	Vhost     string `json:"vhost"`
	App       string `json:"app"`
	Stream    string `json:"stream"`
	Param     string `json:"param"`
	TcURL     string `json:"tcUrl"`
	PageURL   string `json:"pageUrl"`
}

// CloseBody is the body of on_close.
type CloseBody struct {
	ServerID  string `json:"server_id"`
	ServiceID string `json:"service_id"`
	Action    Event  `json:"action"`
	ClientID  string `json:"client_id"`
	IP        string `json:"ip"`
	Vhost     string `json:"vhost"`
	App       string `json:"app"`
	SendBytes int64  `json:"send_bytes"`
	RecvBytes int64  `json:"recv_bytes"`
}

// StreamBody is the body of on_publish, on_unpublish and on_stop.
type StreamBody struct {
	ServerID  string `json:"server_id"`
	ServiceID string `json:"service_id"`
	Action    Event  `json:"action"`
	ClientID  string `json:"client_id"`
	IP        string `json:"ip"`
	Vhost     string `json:"vhost"`
	App       string `json:"app"`
	TcURL     string `json:"tcUrl"`
	Stream    string `json:"stream"`
	Param     string `json:"param"`
	StreamURL string `json:"stream_url"`
	StreamID  string `json:"stream_id,omitempty"`
}

// PlayBody is the body of on_play: on_stop's fields in another order, plus pageUrl.
type PlayBody struct {
	ServerID  string `json:"server_id"`
	ServiceID string `json:"service_id"`
	Action    Event  `json:"action"`
	ClientID  string `json:"client_id"`
	IP        string `json:"ip"`
	Vhost     string `json:"vhost"`
	App       string `json:"app"`
	Stream    string `json:"stream"`
	TcURL     string `json:"tcUrl"`
	Param     string `json:"param"`
	PageURL   string `json:"pageUrl"`
	StreamURL string `json:"stream_url"`
	StreamID  string `json:"stream_id,omitempty"`
}

// DVRBody is the body of on_dvr.
type DVRBody struct {
	ServerID  string `json:"server_id"`
	ServiceID string `json:"service_id"`
	Action    Event  `json:"action"`
	ClientID  string `json:"client_id"`
	IP        string `json:"ip"`
	Vhost     string `json:"vhost"`
	App       string `json:"app"`
	TcURL     string `json:"tcUrl"`
	Stream    string `json:"stream"`
	Param     string `json:"param"`
	Cwd       string `json:"cwd"`
	File      string `json:"file"`
	StreamURL string `json:"stream_url"`
	StreamID  string `json:"stream_id,omitempty"`
}

// HLSBody is the body of on_hls.
type HLSBody struct {
	ServerID  string  `json:"server_id"`
	ServiceID string  `json:"service_id"`
	Action    Event   `json:"action"`
	ClientID  string  `json:"client_id"`
	IP        string  `json:"ip"`
	Vhost     string  `json:"vhost"`
	App       string  `json:"app"`
	TcURL     string  `json:"tcUrl"`
	Stream    string  `json:"stream"`
	Param     string  `json:"param"`
	Duration  Seconds `json:"duration"`
	Cwd       string  `json:"cwd"`
	File      string  `json:"file"`
	URL       string  `json:"url"`
	M3U8      string  `json:"m3u8"`
	M3U8URL   string  `json:"m3u8_url"`
	SeqNo     int64   `json:"seq_no"`
	StreamURL string  `json:"stream_url"`
	StreamID  string  `json:"stream_id,omitempty"`
}

// ForwardBody is what the forward backend posts to learn where to forward.
type ForwardBody struct {
	Action    Event  `json:"action"`
	ServerID  string `json:"server_id"`
	ServiceID string `json:"service_id"`
	ClientID  string `json:"client_id"`
	IP        string `json:"ip"`
	Vhost     string `json:"vhost"`
	App       string `json:"app"`
	TcURL     string `json:"tcUrl"`
	Stream    string `json:"stream"`
	Param     string `json:"param"`
}

// Seconds is a duration sent as seconds with six decimals, as SRS prints
// JSON numbers ("%.6f"): 9.96 s is 9.960000.
type Seconds float64

// MarshalJSON writes the number with six decimals.
func (s Seconds) MarshalJSON() ([]byte, error) {
	f := float64(s)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0 // JSON has no NaN; a broken duration must not break the hook
	}
	return strconv.AppendFloat(nil, f, 'f', 6, 64), nil
}

// SecondsOf converts a duration.
func SecondsOf(d time.Duration) Seconds { return Seconds(d.Seconds()) }

// DVRFile describes a closed DVR file for on_dvr.
type DVRFile struct {
	Cwd  string // the server's working directory
	File string // the file's path as configured, e.g. ./objs/nginx/html/live/livestream.1420254068776.flv
}

// HLSSegment describes a closed HLS segment for on_hls and on_hls_notify.
type HLSSegment struct {
	Cwd      string
	File     string        // the segment's path, e.g. ./objs/nginx/html/live/livestream-0.ts
	URI      string        // the segment's URI as written in the playlist, e.g. livestream-0.ts
	M3U8     string        // the playlist's path
	M3U8URL  string        // the playlist's URL path, e.g. live/livestream.m3u8
	SeqNo    int64         // the segment's media sequence number
	Duration time.Duration // the segment's duration
}

// url is on_hls's "url": the segment URI under the playlist's directory
// (live/livestream-0.ts), unless the URI is already absolute.
func (s HLSSegment) url() string {
	if isHTTPURL(s.URI) {
		return s.URI
	}
	i := strings.LastIndexByte(s.M3U8URL, '/')
	if i < 0 {
		return s.URI
	}
	return s.M3U8URL[:i] + "/" + s.URI
}

func isHTTPURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// ids are the server's identity, put in every body.
type ids struct{ server, service string }

func (id ids) connect(r Request) ConnectBody {
	return ConnectBody{
		ServerID: id.server, ServiceID: id.service, Action: OnConnect, ClientID: r.ClientID, IP: r.IP,
		Vhost: r.Vhost, App: r.App, Stream: r.stream(), Param: r.param(), TcURL: r.TcURL, PageURL: r.PageURL,
	}
}

func (id ids) close(r Request, sendBytes, recvBytes int64) CloseBody {
	return CloseBody{
		ServerID: id.server, ServiceID: id.service, Action: OnClose, ClientID: r.ClientID, IP: r.IP,
		Vhost: r.Vhost, App: r.App, SendBytes: sendBytes, RecvBytes: recvBytes,
	}
}

func (id ids) stream(e Event, r Request) StreamBody {
	return StreamBody{
		ServerID: id.server, ServiceID: id.service, Action: e, ClientID: r.ClientID, IP: r.IP,
		Vhost: r.Vhost, App: r.App, TcURL: r.TcURL, Stream: r.stream(), Param: r.param(),
		StreamURL: r.streamURL(), StreamID: r.StreamID,
	}
}

func (id ids) play(r Request) PlayBody {
	return PlayBody{
		ServerID: id.server, ServiceID: id.service, Action: OnPlay, ClientID: r.ClientID, IP: r.IP,
		Vhost: r.Vhost, App: r.App, Stream: r.stream(), TcURL: r.TcURL, Param: r.param(), PageURL: r.PageURL,
		StreamURL: r.streamURL(), StreamID: r.StreamID,
	}
}

func (id ids) dvr(r Request, f DVRFile) DVRBody {
	return DVRBody{
		ServerID: id.server, ServiceID: id.service, Action: OnDVR, ClientID: r.ClientID, IP: r.IP,
		Vhost: r.Vhost, App: r.App, TcURL: r.TcURL, Stream: r.stream(), Param: r.param(),
		Cwd: f.Cwd, File: f.File, StreamURL: r.streamURL(), StreamID: r.StreamID,
	}
}

func (id ids) hls(r Request, s HLSSegment) HLSBody {
	return HLSBody{
		ServerID: id.server, ServiceID: id.service, Action: OnHLS, ClientID: r.ClientID, IP: r.IP,
		Vhost: r.Vhost, App: r.App, TcURL: r.TcURL, Stream: r.stream(), Param: r.param(),
		Duration: SecondsOf(s.Duration), Cwd: s.Cwd, File: s.File, URL: s.url(), M3U8: s.M3U8,
		M3U8URL: s.M3U8URL, SeqNo: s.SeqNo, StreamURL: r.streamURL(), StreamID: r.StreamID,
	}
}

func (id ids) forward(r Request) ForwardBody {
	return ForwardBody{
		Action: OnForward, ServerID: id.server, ServiceID: id.service, ClientID: r.ClientID, IP: r.IP,
		Vhost: r.Vhost, App: r.App, TcURL: r.TcURL, Stream: r.stream(), Param: r.param(),
	}
}

// marshal encodes a body compactly without HTML escaping, so a param such as
// "?a=1&b=2" reads as sent rather than as "\u0026".
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
