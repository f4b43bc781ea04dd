package conf

import (
	"slices"
	"strings"
	"time"
)

// Config is a validated, typed snapshot of the configuration with SRS's
// defaults filled in and environment overrides applied. It is never
// modified after Load returns; a reload builds a new one (see Diff).
//
// Times are time.Duration; the unit each directive is written in (ms or
// seconds) is handled while building.
type Config struct {
	Root    *Directive // the tree after include expansion and legacy rewrites
	File    string     // the config file, "" in env-only mode
	EnvOnly bool

	Listen         []string // RTMP endpoints: "1935", "0.0.0.0:1935", "[::]:1935"
	PID            string
	ChunkSize      int
	FFLogDir       string
	FFLogLevel     string
	LogTank        string // "console" or "file"
	LogLevel       string // srs_log_level, v4 names
	LogLevelV2     string // srs_log_level_v2, v5 names; wins when not ""
	LogFile        string
	MaxConnections int
	Daemon         bool
	UTCTime        bool
	PithyPrint     time.Duration
	WorkDir        string
	AsProcess      bool
	// ServerID is the configured id; "" means the server picks one (SRS
	// reads it back from ServerIDFile(PID), or makes a random vid-xxxxxxx).
	ServerID string
	// User and Group are castd's (and nginx's) user directive: the
	// identity castd switches to once its ports are open; "" keeps it.
	User, Group            string
	GraceStartWait         time.Duration
	GraceFinalWait         time.Duration
	ForceGraceQuit         bool
	EmptyIPOK              bool
	DisableDaemonForDocker bool
	InotifyAutoReload      bool
	AutoReloadForDocker    bool
	TCMallocReleaseRate    float64
	QueryLatestVersion     bool
	FirstWaitForQLV        time.Duration
	InDocker               bool
	IsFull                 bool
	ThreadsInterval        time.Duration

	HTTPAPI       HTTPAPI
	HTTPServer    HTTPServer
	RTCServer     RTCServer
	SRTServer     SRTServer
	Heartbeat     Heartbeat
	Stats         Stats
	Exporter      Exporter
	StreamCasters []*StreamCaster
	Vhosts        []*Vhost // in file order; duplicates of a name are dropped

	// Env lists the environment variables that changed a value, once each.
	Env []EnvOverride
	// Warnings are problems that do not stop the server: legacy directives
	// rewritten, duplicates ignored, values read leniently as SRS does.
	Warnings []string
}

// EnvOverride records an environment variable that replaced a config value.
type EnvOverride struct {
	Name  string // e.g. SRS_VHOST_PLAY_GOP_CACHE
	Path  string // e.g. vhost.play.gop_cache
	Value string
}

// DefaultVhost is the vhost that serves requests whose vhost has no block.
const DefaultVhost = "__defaultVhost__"

// Vhost returns the vhost called name, or __defaultVhost__ when there is no
// such vhost, or nil when neither exists. Check Enabled before serving.
func (c *Config) Vhost(name string) *Vhost {
	var def *Vhost
	for _, v := range c.Vhosts {
		if v.Name == name {
			return v
		}
		if v.Name == DefaultVhost {
			def = v
		}
	}
	return def
}

// HTTPAPI is the http_api block.
type HTTPAPI struct {
	Enabled     bool
	Listen      string
	Crossdomain bool
	Pprof       bool // castd only: Go's profiler at /debug/pprof/
	RawAPI      RawAPI
	Auth        HTTPAuth
	HTTPS       HTTPS
}

// RawAPI is http_api.raw_api. AllowQuery and AllowUpdate are always false:
// SRS removed those calls in v4.
type RawAPI struct {
	Enabled     bool
	AllowReload bool
	AllowQuery  bool
	AllowUpdate bool
}

// HTTPAuth is http_api.auth: basic auth for paths containing /api/.
type HTTPAuth struct {
	Enabled  bool
	Username string
	Password string
}

// HTTPS is the https block of http_api and http_server.
type HTTPS struct {
	Enabled bool
	Listen  string
	Key     string
	Cert    string
}

// HTTPServer is the http_server block.
type HTTPServer struct {
	Enabled bool
	// Listen is the first endpoint (the one SRS knows); Listens has them all.
	Listen      string
	Listens     []string
	Dir         string
	Crossdomain bool
	HTTPS       HTTPS
}

// SharesHTTPServer reports whether the API is mounted on the HTTP server's
// port instead of having its own listener (§1.1 "Sharing one port").
func (c *Config) SharesHTTPServer() bool {
	return c.HTTPAPI.Enabled && c.HTTPServer.Enabled && slices.Contains(c.HTTPServer.Listens, c.HTTPAPI.Listen)
}

// RTCServer is the rtc_server block.
type RTCServer struct {
	Enabled bool
	Listen  int // UDP
	TCP     struct {
		Enabled bool
		Listen  int
	}
	Protocol               string // udp, tcp or all
	Candidate              string // after $NAME expansion; "*" means detect
	UseAutoDetectNetworkIP bool
	IPFamily               string // ipv4, ipv6 or all
	APIAsCandidates        bool
	ResolveAPIDomain       bool
	KeepAPIDomain          bool
	ECDSA                  bool
	Encrypt                bool
	ReusePort              int
	MergeNalus             bool
	BlackHole              struct {
		Enabled bool
		Addr    string
	}
}

// SRTServer is the srt_server block. Latencies are SRT options in ms,
// kept as durations.
type SRTServer struct {
	Enabled         bool
	Listen          int // UDP
	MaxBW           int64
	MSS             int
	ConnectTimeout  time.Duration
	PeerIdleTimeout time.Duration
	DefaultApp      string
	PeerLatency     time.Duration
	RecvLatency     time.Duration
	Latency         time.Duration
	TSBPDMode       bool
	TLPktDrop       bool
	SendBuf         int
	RecvBuf         int
	PayloadSize     int
	Passphrase      string
	PBKeyLen        int
	SEIFilter       bool
	MixCorrect      bool
}

// Heartbeat is the heartbeat block.
type Heartbeat struct {
	Enabled   bool
	Interval  time.Duration // whole seconds, as SRS reads it
	URL       string
	DeviceID  string
	Summaries bool
	Ports     bool
}

// Stats is the stats block.
type Stats struct {
	Enabled bool
	Network int // index into the local IPs; see CheckStatsNetwork
	Disk    []string
}

// Exporter is the Prometheus exporter block.
type Exporter struct {
	Enabled bool
	Listen  string
	Label   string
	Tag     string
}

// StreamCaster is one stream_caster block.
type StreamCaster struct {
	Directive *Directive
	Enabled   bool
	Caster    string // mpegts_over_udp, flv, gb28181 or rtsp
	Output    string
	Listen    int
	SIP       SIP

	// RTPPortMin and RTPPortMax are the rtsp caster's UDP port range for RTP.
	RTPPortMin, RTPPortMax int
}

// SIP is stream_caster.sip, used by the gb28181 caster.
type SIP struct {
	Enabled   bool
	Listen    int
	Timeout   time.Duration
	Reinvite  time.Duration
	Candidate string // after $NAME expansion; "*" means detect
}

// ServerIDFile returns where SRS keeps a generated server id: the pid file
// with ".pid" replaced by ".id" (./objs/srs.pid becomes ./objs/srs.id).
func ServerIDFile(pidFile string) string {
	p := strings.ReplaceAll(pidFile, ".pid", ".id")
	if !strings.HasSuffix(p, ".id") {
		p += ".id"
	}
	return p
}
