package conf

import (
	"net/netip"
	"slices"
	"time"
)

// Vhost is one vhost block with every sub-block resolved.
type Vhost struct {
	Name      string
	Directive *Directive

	Enabled bool
	// ChunkSize is the vhost's chunk_size, or the global one.
	ChunkSize int
	// MinLatency is min_latency as RTMP and HTTP players and publishers see
	// it (default off). WebRTC players use RTC.MinLatency.
	MinLatency bool
	TCPNoDelay bool
	InAckSize  int
	OutAckSize int

	Play       Play
	Publish    Publish
	Cluster    Cluster
	Forward    Forward
	Security   Security
	Refer      Refer
	HTTPHooks  HTTPHooks
	HLS        HLS
	HDS        HDS
	DASH       DASH
	DVR        DVR
	HTTPRemux  HTTPRemux
	HTTPStatic HTTPStatic
	Exec       Exec
	Transcodes []*Transcode
	Ingests    []*Ingest
	RTC        VhostRTC
	SRT        VhostSRT
}

// Jitter is a timestamp correction mode.
type Jitter string

const (
	JitterFull Jitter = "full" // start at 0, keep increasing, fix jumps over 250 ms
	JitterZero Jitter = "zero" // only start at 0
	JitterOff  Jitter = "off"  // pass timestamps through
)

// Play is vhost.play. MWLatency and MWMsgs are the values for RTMP and
// HTTP players; WebRTC players use RTC.MWMsgs and no merged-write delay.
type Play struct {
	GopCache             bool
	GopCacheMaxFrames    int
	QueueLength          time.Duration
	TimeJitter           Jitter
	MixCorrect           bool
	ATC                  bool
	ATCAuto              bool
	MWLatency            time.Duration
	MWMsgs               int // 8, or 0 with min_latency; at most 128
	SendMinInterval      time.Duration
	ReduceSequenceHeader bool
}

// Publish is vhost.publish.
type Publish struct {
	MR              bool
	MRLatency       time.Duration
	FirstPktTimeout time.Duration
	NormalTimeout   time.Duration
	ParseSPS        bool
	TryAnnexbFirst  bool
	KickoffForIdle  time.Duration // 0 is off
}

// Cluster is vhost.cluster.
type Cluster struct {
	Mode           string // local (origin) or remote (edge)
	Origin         []string
	TokenTraverse  bool
	Vhost          string // vhost used toward the origin, "[vhost]" keeps it
	DebugSRSUpnode bool
	OriginCluster  bool
	Coworkers      []string
	Protocol       string // rtmp, flv or flvs
	FollowClient   bool
}

// IsEdge reports whether the vhost pulls from and pushes to an origin.
func (c Cluster) IsEdge() bool { return c.Mode == "remote" }

// Forward is vhost.forward.
type Forward struct {
	Enabled     bool
	Destination []string
	Backend     string
}

// RuleAction says what a security rule does.
type RuleAction string

const (
	Allow RuleAction = "allow"
	Deny  RuleAction = "deny"
)

// RuleScope is the kind of client a rule applies to.
type RuleScope string

const (
	ScopePublish RuleScope = "publish"
	ScopePlay    RuleScope = "play"
)

// SecurityRule is one allow or deny line.
type SecurityRule struct {
	Action RuleAction
	Scope  RuleScope
	All    bool         // the target was "all"
	Prefix netip.Prefix // otherwise: a single address (/32, /128) or a CIDR
}

// Matches reports whether the rule's target covers addr (IPv4-mapped IPv6
// addresses match IPv4 rules).
func (r SecurityRule) Matches(addr netip.Addr) bool {
	if r.All {
		return true
	}
	return r.Prefix.IsValid() && r.Prefix.Contains(addr.Unmap())
}

// Security is vhost.security; Rules keep file order.
type Security struct {
	Enabled bool
	Rules   []SecurityRule
}

// Refer is vhost.refer: page URL domains allowed.
type Refer struct {
	Enabled bool
	All     []string
	Publish []string
	Play    []string
}

// HTTPHooks is vhost.http_hooks; every event has a list of URLs.
type HTTPHooks struct {
	Enabled     bool
	OnConnect   []string
	OnClose     []string
	OnPublish   []string
	OnUnpublish []string
	OnPlay      []string
	OnStop      []string
	OnDVR       []string
	OnHLS       []string
	OnHLSNotify []string
}

// HLS is vhost.hls.
type HLS struct {
	Enabled         bool
	Fragment        time.Duration
	TDRatio         float64
	AOFRatio        float64
	Window          time.Duration
	OnError         string // ignore, disconnect or continue
	Path            string
	M3U8File        string
	TSFile          string
	EntryPrefix     string
	ACodec          string // aac, mp3 or an
	VCodec          string // h264, h265 or vn
	Cleanup         bool
	Dispose         time.Duration // whole seconds; 0 never
	WaitKeyframe    bool
	TSFloor         bool
	NbNotify        int
	Ctx             bool
	TSCtx           bool
	Keys            bool
	FragmentsPerKey int
	KeyFile         string
	KeyFilePath     string // Path when unset
	KeyURL          string // Path when unset
	DTSDirectly     bool
}

// HDS is vhost.hds, kept only so SRS configs load; castd has no HDS.
type HDS struct {
	Enabled  bool
	Path     string
	Fragment time.Duration
	Window   time.Duration
}

// DASH is vhost.dash.
type DASH struct {
	Enabled      bool
	Fragment     time.Duration
	UpdatePeriod time.Duration
	Timeshift    time.Duration
	Path         string
	MPDFile      string
	WindowSize   int
	Cleanup      bool
	Dispose      time.Duration
}

// DVR is vhost.dvr.
type DVR struct {
	Enabled      bool
	Apply        []string // "all" or app/stream entries
	Plan         string   // session or segment
	Path         string
	Duration     time.Duration // whole seconds
	WaitKeyframe bool
	TimeJitter   Jitter
	Upload       DVRUpload // castd extension: dvr_upload {}
}

// DVRUpload is vhost.dvr.dvr_upload, a castd extension: every finished
// recording is uploaded to S3-compatible object storage.
type DVRUpload struct {
	Enabled   bool
	Endpoint  string // http:// or https:// URL, scheme, host and port only
	Region    string
	Bucket    string
	PathStyle bool // ENDPOINT/BUCKET/KEY; off is BUCKET.ENDPOINT-HOST/KEY
	// AccessKey, SecretKey and SessionToken are the credentials, after
	// $NAME expansion; both keys empty means anonymous requests.
	AccessKey    string
	SecretKey    Secret
	SessionToken Secret
	// Key is the object key template (dvr_path's variables and [file]);
	// "" mirrors the file's path below the fixed directory of dvr_path.
	Key         string
	RemoveLocal bool
}

// Applies reports whether dvr_apply selects app/stream.
func (d DVR) Applies(app, stream string) bool {
	if len(d.Apply) == 0 || (len(d.Apply) == 1 && d.Apply[0] == "all") {
		return true
	}
	return slices.Contains(d.Apply, app+"/"+stream)
}

// HTTPRemux is vhost.http_remux.
type HTTPRemux struct {
	Enabled        bool
	Mount          string
	FastCache      time.Duration
	DropIfNotMatch bool
	HasAudio       bool
	HasVideo       bool
	GuessHasAV     bool
}

// HTTPStatic is vhost.http_static.
type HTTPStatic struct {
	Enabled bool
	Mount   string
	Dir     string
}

// Exec is vhost.exec; each Publish entry is one command line, split into
// arguments.
type Exec struct {
	Enabled bool
	Publish [][]string
}

// Transcode is one `transcode <scope> {}` block; Scope is "app" or
// "app/stream".
type Transcode struct {
	Directive *Directive
	Scope     string
	Enabled   bool
	FFmpeg    string
	Engines   []*Engine
}

// Ingest is one `ingest <id> {}` block.
type Ingest struct {
	Directive *Directive
	ID        string
	Enabled   bool
	InputType string // file or stream
	InputURL  string
	FFmpeg    string
	Engines   []*Engine
}

// Engine is one FFmpeg output. The option lists (Perfile, VFilter, VParams,
// AParams) are already FFmpeg arguments: `preset fast;` becomes
// "-preset", "fast".
type Engine struct {
	Name        string
	Enabled     bool
	Perfile     []string
	IFormat     string
	VFilter     []string
	VCodec      string
	VBitrate    int // kbps
	VFPS        float64
	VWidth      int
	VHeight     int
	VThreads    int
	VProfile    string
	VPreset     string
	VParams     []string
	ACodec      string
	ABitrate    int // kbps
	ASampleRate int
	AChannels   int
	AParams     []string
	OFormat     string
	Output      string
}

// VhostRTC is vhost.rtc. MinLatency and MWMsgs are the values WebRTC
// players use: min_latency defaults to on for them, and mw_latency is
// always 0.
type VhostRTC struct {
	Enabled         bool
	NACK            bool
	NACKNoCopy      bool
	TWCC            bool
	STUNTimeout     time.Duration
	STUNStrictCheck bool
	DTLSRole        string // active or passive
	DTLSVersion     string // auto, dtls1.0 or dtls1.2
	DropForPT       int
	RTMPToRTC       bool
	KeepBframe      bool
	KeepAVCNaluSEI  bool
	OpusBitrate     int
	RTCToRTMP       bool
	PLIForRTMP      time.Duration
	AACBitrate      int

	MinLatency bool
	MWMsgs     int
}

// VhostSRT is vhost.srt.
type VhostSRT struct {
	Enabled   bool
	SRTToRTMP bool
}
