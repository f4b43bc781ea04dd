package api

import (
	"net/http"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/stats"
	"github.com/castd/castd/internal/version"
)

type versionData struct {
	Major    int    `json:"major"`
	Minor    int    `json:"minor"`
	Revision int    `json:"revision"`
	Version  string `json:"version"`
	Castd    string `json:"castd"` // castd's own version; SRS clients ignore it
}

func currentVersion() versionData {
	return versionData{version.SRSMajor, version.SRSMinor, version.SRSRevision, version.SRSVersion, version.Version}
}

type kbps struct {
	Recv30s int `json:"recv_30s"`
	Send30s int `json:"send_30s"`
}

type publishInfo struct {
	Active bool   `json:"active"`
	CID    string `json:"cid,omitempty"`
}

type videoInfo struct {
	Codec   string  `json:"codec"`
	Profile *string `json:"profile"` // null for AV1 and VP9, as SRS
	Level   *string `json:"level"`
	Width   int     `json:"width"`
	Height  int     `json:"height"`
}

type audioInfo struct {
	Codec      string `json:"codec"`
	SampleRate int    `json:"sample_rate"`
	Channel    int    `json:"channel"`
	Profile    string `json:"profile"`
}

// streamObject is SRS's SrsStatisticStream::dumps.
type streamObject struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Vhost     string      `json:"vhost"` // the vhost's id, not its name
	App       string      `json:"app"`
	TcURL     string      `json:"tcUrl"`
	URL       string      `json:"url"`
	LiveMs    int64       `json:"live_ms"` // the current time, as SRS
	Clients   int         `json:"clients"`
	Frames    int64       `json:"frames"`
	SendBytes int64       `json:"send_bytes"`
	RecvBytes int64       `json:"recv_bytes"`
	Kbps      kbps        `json:"kbps"`
	Publish   publishInfo `json:"publish"`
	Video     *videoInfo  `json:"video"`
	Audio     *audioInfo  `json:"audio"`
}

func (a *API) streamObject(s *hub.Stream) streamObject {
	sn := s.Snapshot()
	u := a.Stats.StreamUsage(sn.ID)
	o := streamObject{
		ID: sn.ID, Name: sn.Key.Name, Vhost: a.Stats.VhostID(sn.Key.Vhost), App: sn.Key.App,
		TcURL: sn.TcURL, URL: sn.Key.String(), LiveMs: time.Now().UnixMilli(),
		Clients: u.Clients, Frames: sn.Frames, SendBytes: u.SendBytes, RecvBytes: u.RecvBytes,
		Kbps:    kbps{Recv30s: u.RecvKbps, Send30s: u.SendKbps},
		Publish: publishInfo{Active: sn.Publishing},
	}
	if sn.Publishing {
		o.Publish.CID = sn.Publisher.ID
	}
	if v := sn.Video; v != nil {
		o.Video = &videoInfo{Codec: v.Codec.String(), Width: v.Width, Height: v.Height}
		if v.Profile != "" {
			o.Video.Profile = &v.Profile
		}
		if v.Level != "" {
			o.Video.Level = &v.Level
		}
		if v.Codec == av.CodecH265 {
			o.Video.Codec = "HEVC" // SRS's srs_video_codec_id2str says HEVC (its docs say H265; clients follow the code)
		}
	}
	if au := sn.Audio; au != nil {
		o.Audio = &audioInfo{Codec: au.Codec.String(), SampleRate: au.SampleRate, Channel: au.Channels, Profile: au.Profile}
	}
	return o
}

func (a *API) streams(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		httpx.MethodNotAllowed(w)
		return
	}
	if id := idFrom(r, "/api/v1/streams/"); id != "" {
		s := a.Hub.StreamByID(id)
		if s == nil {
			httpx.WriteJSON(w, r, codeOnly{CodeStreamNotFound})
			return
		}
		httpx.WriteJSON(w, r, struct {
			envelope
			Stream streamObject `json:"stream"`
		}{a.ok(), a.streamObject(s)})
		return
	}
	all := publicStreams(a.Hub.Streams())
	start, count := paging(r)
	list := make([]streamObject, 0, len(all))
	for _, s := range page(all, start, count) {
		list = append(list, a.streamObject(s))
	}
	httpx.WriteJSON(w, r, struct {
		envelope
		Streams []streamObject `json:"streams"`
	}{a.ok(), list})
}

// clientObject is SRS's SrsStatisticClient::dumps.
type clientObject struct {
	ID        string  `json:"id"`
	Vhost     string  `json:"vhost"`  // vhost id
	Stream    string  `json:"stream"` // stream id
	IP        string  `json:"ip"`
	PageURL   string  `json:"pageUrl"`
	SwfURL    string  `json:"swfUrl"`
	TcURL     string  `json:"tcUrl"`
	URL       string  `json:"url"`
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	Publish   bool    `json:"publish"`
	Alive     float64 `json:"alive"` // seconds
	SendBytes int64   `json:"send_bytes"`
	RecvBytes int64   `json:"recv_bytes"`
	Kbps      kbps    `json:"kbps"`
	// Transport is castd's own: protocol counters (SRT clients only).
	Transport any `json:"transport,omitempty"`
}

func clientObjectOf(c stats.ClientView) clientObject {
	o := clientObject{
		ID: c.ID, Vhost: c.VhostID, Stream: c.StreamID, IP: c.IP, PageURL: c.PageURL, SwfURL: c.SwfURL,
		TcURL: c.TcURL, URL: c.StreamURL, Name: c.Stream, Type: string(c.Type), Publish: c.Type.IsPublish(),
		Alive:     float64(time.Since(c.Created).Milliseconds()) / 1000,
		SendBytes: c.SendBytes, RecvBytes: c.RecvBytes, Kbps: kbps{Recv30s: c.RecvKbps, Send30s: c.SendKbps},
	}
	if c.Transport != nil {
		o.Transport = c.Transport()
	}
	return o
}

func (a *API) clients(w http.ResponseWriter, r *http.Request) {
	id := idFrom(r, "/api/v1/clients/")
	switch {
	case r.Method == http.MethodDelete && id != "":
		switch err := a.Stats.Kick(id); err {
		case nil:
			httpx.WriteJSON(w, r, a.ok())
		case stats.ErrClientNotFound:
			httpx.WriteJSON(w, r, codeOnly{CodeClientNotFound})
		default:
			httpx.WriteJSON(w, r, codeOnly{CodeBadRequest})
		}
	case r.Method != http.MethodGet:
		httpx.MethodNotAllowed(w)
	case id != "":
		c, ok := a.Stats.Client(id)
		if !ok {
			httpx.WriteJSON(w, r, codeOnly{CodeClientNotFound})
			return
		}
		httpx.WriteJSON(w, r, struct {
			envelope
			Client clientObject `json:"client"`
		}{a.ok(), clientObjectOf(c)})
	default:
		start, count := paging(r)
		all := a.Stats.Clients()
		list := make([]clientObject, 0, len(all))
		for _, c := range page(all, start, count) {
			list = append(list, clientObjectOf(c))
		}
		httpx.WriteJSON(w, r, struct {
			envelope
			Clients []clientObject `json:"clients"`
		}{a.ok(), list})
	}
}

type hlsInfo struct {
	Enabled  bool     `json:"enabled"`
	Fragment *float64 `json:"fragment,omitempty"`
}

// vhostObject is SRS's SrsStatisticVhost::dumps.
type vhostObject struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Enabled   bool    `json:"enabled"`
	Clients   int     `json:"clients"`
	Streams   int     `json:"streams"`
	SendBytes int64   `json:"send_bytes"`
	RecvBytes int64   `json:"recv_bytes"`
	Kbps      kbps    `json:"kbps"`
	HLS       hlsInfo `json:"hls"`
}

func (a *API) vhostObject(v VhostInfo, streams int) vhostObject {
	u := a.Stats.VhostUsage(v.Name)
	o := vhostObject{
		ID: a.Stats.VhostID(v.Name), Name: v.Name, Enabled: v.Enabled, Clients: u.Clients, Streams: streams,
		SendBytes: u.SendBytes, RecvBytes: u.RecvBytes, Kbps: kbps{Recv30s: u.RecvKbps, Send30s: u.SendKbps},
		HLS: hlsInfo{Enabled: v.HLS},
	}
	if v.HLS {
		f := v.HLSFragment.Seconds()
		o.HLS.Fragment = &f
	}
	return o
}

func (a *API) vhosts(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		httpx.MethodNotAllowed(w)
		return
	}
	published := map[string]int{}
	for _, s := range publicStreams(a.Hub.Streams()) {
		if s.Publishing() {
			published[s.Key.Vhost]++
		}
	}
	var all []VhostInfo
	if a.Vhosts != nil {
		all = a.Vhosts()
	}
	if id := idFrom(r, "/api/v1/vhosts/"); id != "" {
		for _, v := range all {
			if a.Stats.VhostID(v.Name) == id {
				httpx.WriteJSON(w, r, struct {
					envelope
					Vhost vhostObject `json:"vhost"`
				}{a.ok(), a.vhostObject(v, published[v.Name])})
				return
			}
		}
		httpx.WriteJSON(w, r, codeOnly{CodeNoVhost})
		return
	}
	list := make([]vhostObject, 0, len(all))
	for _, v := range all {
		list = append(list, a.vhostObject(v, published[v.Name]))
	}
	httpx.WriteJSON(w, r, struct {
		envelope
		Vhosts []vhostObject `json:"vhosts"`
	}{a.ok(), list})
}

// publicStreams leaves out castd's internal derived streams (HTTP-TS relays).
func publicStreams(all []*hub.Stream) []*hub.Stream {
	out := all[:0]
	for _, s := range all {
		if s.Key.Variant == "" {
			out = append(out, s)
		}
	}
	return out
}
