package console

import (
	"strings"

	"github.com/castd/castd/internal/conf"
)

// Endpoints is what the page needs to build a stream's play URLs and the
// API does not tell: the ports castd listens on and each vhost's URL
// templates. The page takes host names from its own address. It is served
// as /console/endpoints.json.
type Endpoints struct {
	RTMP   int                  `json:"rtmp"`  // the first RTMP listen port
	HTTP   int                  `json:"http"`  // http_server's port, 0 when it is off
	HTTPS  int                  `json:"https"` // http_server.https's port, 0 when it is off
	SRT    int                  `json:"srt"`   // srt_server's UDP port, 0 when it is off
	RTC    bool                 `json:"rtc"`   // rtc_server is on: WHEP is at the API's /rtc/v1/whep/
	Vhosts map[string]VhostURLs `json:"vhosts"`
}

// VhostURLs are one vhost's templates, with [vhost], [app] and [stream]
// left for the page to fill; "" when that output is off.
type VhostURLs struct {
	FLV string `json:"flv"` // http_remux.mount as a path, e.g. "/[app]/[stream].flv"
	HLS string `json:"hls"` // hls_m3u8_file as a path below http_server.dir
	RTC bool   `json:"rtc"` // rtc.enabled: WebRTC players may play it
	SRT bool   `json:"srt"` // srt.enabled
}

// EndpointsFrom reads cfg's listeners and vhosts. A listen castd could not
// parse shows as 0 (the page then notes SRS's default port).
func EndpointsFrom(cfg *conf.Config) Endpoints {
	ep := Endpoints{Vhosts: map[string]VhostURLs{}}
	if len(cfg.Listen) > 0 {
		ep.RTMP = port(cfg.Listen[0])
	}
	if s := cfg.HTTPServer; s.Enabled {
		ep.HTTP = port(s.Listen)
		if s.HTTPS.Enabled {
			ep.HTTPS = port(s.HTTPS.Listen)
		}
	}
	if cfg.SRTServer.Enabled {
		ep.SRT = cfg.SRTServer.Listen
	}
	ep.RTC = cfg.RTCServer.Enabled
	for _, v := range cfg.Vhosts {
		if !v.Enabled {
			continue
		}
		var u VhostURLs
		if v.HTTPRemux.Enabled {
			// The vhost is matched by the Host header, not the path (as
			// httpstream.MountPath does).
			u.FLV = rooted(strings.TrimPrefix(v.HTTPRemux.Mount, "[vhost]"))
		}
		if v.HLS.Enabled {
			u.HLS = rooted(v.HLS.M3U8File)
		}
		u.RTC = v.RTC.Enabled
		u.SRT = v.SRT.Enabled
		ep.Vhosts[v.Name] = u
	}
	return ep
}

func port(endpoint string) int {
	_, p, err := conf.SplitEndpoint(endpoint)
	if err != nil {
		return 0
	}
	return p
}

func rooted(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}
