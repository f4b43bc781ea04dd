package api

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/version"
)

// The process and machine endpoints answer from the sampler's last reading
// (every 5 s), as SRS answers from its periodic samples. Off Linux the
// /proc readings are zeros with ok false.

type rusageData struct {
	OK         bool  `json:"ok"`
	SampleTime int64 `json:"sample_time"`
	UTime      int64 `json:"ru_utime"`
	STime      int64 `json:"ru_stime"`
	MaxRSS     int64 `json:"ru_maxrss"`
	IxRSS      int64 `json:"ru_ixrss"`
	IdRSS      int64 `json:"ru_idrss"`
	IsRSS      int64 `json:"ru_isrss"`
	MinFlt     int64 `json:"ru_minflt"`
	MajFlt     int64 `json:"ru_majflt"`
	NSwap      int64 `json:"ru_nswap"`
	InBlock    int64 `json:"ru_inblock"`
	OuBlock    int64 `json:"ru_oublock"`
	MsgSnd     int64 `json:"ru_msgsnd"`
	MsgRcv     int64 `json:"ru_msgrcv"`
	NSignals   int64 `json:"ru_nsignals"`
	NVCSw      int64 `json:"ru_nvcsw"`
	NIVCSw     int64 `json:"ru_nivcsw"`
}

func (a *API) rusages(w http.ResponseWriter, r *http.Request) {
	sm := a.Sys.Last()
	u := sm.Rusage
	a.writeData(w, r, rusageData{
		OK: u.OK, SampleTime: sm.At.UnixMilli(), UTime: u.UTime, STime: u.STime,
		MaxRSS: u.MaxRSS, IxRSS: u.IxRSS, IdRSS: u.IdRSS, IsRSS: u.IsRSS, MinFlt: u.MinFlt, MajFlt: u.MajFlt,
		NSwap: u.NSwap, InBlock: u.InBlock, OuBlock: u.OuBlock, MsgSnd: u.MsgSnd, MsgRcv: u.MsgRcv,
		NSignals: u.NSignals, NVCSw: u.NVCSw, NIVCSw: u.NIVCSw,
	})
}

// selfProcData is /proc/self/stat with SRS's names.
type selfProcData struct {
	OK          bool    `json:"ok"`
	SampleTime  int64   `json:"sample_time"`
	Percent     float64 `json:"percent"`
	Pid         int64   `json:"pid"`
	Comm        string  `json:"comm"`
	State       string  `json:"state"`
	Ppid        int64   `json:"ppid"`
	Pgrp        int64   `json:"pgrp"`
	Session     int64   `json:"session"`
	TTYNr       int64   `json:"tty_nr"`
	TPGid       int64   `json:"tpgid"`
	Flags       uint64  `json:"flags"`
	MinFlt      uint64  `json:"minflt"`
	CMinFlt     uint64  `json:"cminflt"`
	MajFlt      uint64  `json:"majflt"`
	CMajFlt     uint64  `json:"cmajflt"`
	UTime       uint64  `json:"utime"`
	STime       uint64  `json:"stime"`
	CUTime      int64   `json:"cutime"`
	CSTime      int64   `json:"cstime"`
	Priority    int64   `json:"priority"`
	Nice        int64   `json:"nice"`
	NumThreads  int64   `json:"num_threads"`
	ItRealValue int64   `json:"itrealvalue"`
	StartTime   uint64  `json:"starttime"`
	VSize       uint64  `json:"vsize"`
	RSS         int64   `json:"rss"`
	RSSLim      uint64  `json:"rsslim"`
	StartCode   uint64  `json:"startcode"`
	EndCode     uint64  `json:"endcode"`
	StartStack  uint64  `json:"startstack"`
	KStkESP     uint64  `json:"kstkesp"`
	KStkEIP     uint64  `json:"kstkeip"`
	Signal      uint64  `json:"signal"`
	Blocked     uint64  `json:"blocked"`
	SigIgnore   uint64  `json:"sigignore"`
	SigCatch    uint64  `json:"sigcatch"`
	WChan       uint64  `json:"wchan"`
	NSwap       uint64  `json:"nswap"`
	CNSwap      uint64  `json:"cnswap"`
	ExitSignal  int64   `json:"exit_signal"`
	Processor   int64   `json:"processor"`
	RTPriority  uint64  `json:"rt_priority"`
	Policy      uint64  `json:"policy"`
	BlkIOTicks  uint64  `json:"delayacct_blkio_ticks"`
	GuestTime   uint64  `json:"guest_time"`
	CGuestTime  int64   `json:"cguest_time"`
}

func (a *API) selfProcStats(w http.ResponseWriter, r *http.Request) {
	sm := a.Sys.Last()
	p := sm.Proc
	a.writeData(w, r, selfProcData{
		OK: p.OK, SampleTime: sm.At.UnixMilli(), Percent: p.Percent, Pid: p.Pid, Comm: p.Comm, State: p.State,
		Ppid: p.Ppid, Pgrp: p.Pgrp, Session: p.Session, TTYNr: p.TTYNr, TPGid: p.TPGid, Flags: p.Flags,
		MinFlt: p.MinFlt, CMinFlt: p.CMinFlt, MajFlt: p.MajFlt, CMajFlt: p.CMajFlt, UTime: p.UTime, STime: p.STime,
		CUTime: p.CUTime, CSTime: p.CSTime, Priority: p.Priority, Nice: p.Nice, NumThreads: p.NumThreads,
		ItRealValue: p.ItRealValue, StartTime: p.StartTime, VSize: p.VSize, RSS: p.RSS, RSSLim: p.RSSLim,
		StartCode: p.StartCode, EndCode: p.EndCode, StartStack: p.StartStack, KStkESP: p.KStkESP, KStkEIP: p.KStkEIP,
		Signal: p.Signal, Blocked: p.Blocked, SigIgnore: p.SigIgnore, SigCatch: p.SigCatch, WChan: p.WChan,
		NSwap: p.NSwap, CNSwap: p.CNSwap, ExitSignal: p.ExitSignal, Processor: p.Processor,
		RTPriority: p.RTPriority, Policy: p.Policy, BlkIOTicks: p.BlkIOTicks, GuestTime: p.GuestTime, CGuestTime: p.CGuestTime,
	})
}

type systemProcData struct {
	OK         bool    `json:"ok"`
	SampleTime int64   `json:"sample_time"`
	Percent    float64 `json:"percent"`
	User       int64   `json:"user"`
	Nice       int64   `json:"nice"`
	Sys        int64   `json:"sys"`
	Idle       int64   `json:"idle"`
	IOWait     int64   `json:"iowait"`
	Irq        int64   `json:"irq"`
	SoftIrq    int64   `json:"softirq"`
	Steal      int64   `json:"steal"`
	Guest      int64   `json:"guest"`
}

func (a *API) systemProcStats(w http.ResponseWriter, r *http.Request) {
	sm := a.Sys.Last()
	c := sm.CPU
	a.writeData(w, r, systemProcData{
		OK: c.OK, SampleTime: sm.At.UnixMilli(), Percent: c.Percent, User: c.User, Nice: c.Nice, Sys: c.Sys,
		Idle: c.Idle, IOWait: c.IOWait, Irq: c.Irq, SoftIrq: c.SoftIrq, Steal: c.Steal, Guest: c.Guest,
	})
}

type meminfoData struct {
	OK          bool    `json:"ok"`
	SampleTime  int64   `json:"sample_time"`
	PercentRAM  float64 `json:"percent_ram"`
	PercentSwap float64 `json:"percent_swap"`
	MemActive   int64   `json:"MemActive"`
	RealInUse   int64   `json:"RealInUse"`
	NotInUse    int64   `json:"NotInUse"`
	MemTotal    int64   `json:"MemTotal"`
	MemFree     int64   `json:"MemFree"`
	Buffers     int64   `json:"Buffers"`
	Cached      int64   `json:"Cached"`
	SwapTotal   int64   `json:"SwapTotal"`
	SwapFree    int64   `json:"SwapFree"`
}

func (a *API) meminfos(w http.ResponseWriter, r *http.Request) {
	sm := a.Sys.Last()
	m := sm.Memory
	a.writeData(w, r, meminfoData{
		OK: m.OK, SampleTime: sm.At.UnixMilli(), PercentRAM: m.PercentRAM, PercentSwap: m.PercentSwap,
		MemActive: m.MemActive, RealInUse: m.RealInUse, NotInUse: m.NotInUse, MemTotal: m.MemTotal,
		MemFree: m.MemFree, Buffers: m.Buffers, Cached: m.Cached, SwapTotal: m.SwapTotal, SwapFree: m.SwapFree,
	})
}

type featureFlags struct {
	SSL         bool `json:"ssl"`
	HLS         bool `json:"hls"`
	HDS         bool `json:"hds"`
	Callback    bool `json:"callback"`
	API         bool `json:"api"`
	HTTPD       bool `json:"httpd"`
	DVR         bool `json:"dvr"`
	Transcode   bool `json:"transcode"`
	Ingest      bool `json:"ingest"`
	Stat        bool `json:"stat"`
	Caster      bool `json:"caster"`
	ComplexSend bool `json:"complex_send"`
	TCPNoDelay  bool `json:"tcp_nodelay"`
	SoSendBuf   bool `json:"so_sendbuf"`
	MR          bool `json:"mr"`
}

type featuresData struct {
	Options  string       `json:"options"`
	Options2 string       `json:"options2"`
	Build    string       `json:"build"`
	Build2   string       `json:"build2"`
	Features featureFlags `json:"features"`
}

// builtFeatures says what castd really does. Features other helpers are
// still building follow the directive registry, so they turn true when
// their directive is marked implemented.
func builtFeatures() featureFlags {
	built := func(path string) bool {
		e, ok := conf.Lookup(path)
		return ok && e.Status == conf.StatusImplemented
	}
	return featureFlags{
		SSL:         true, // HTTPS API and server
		HLS:         built("vhost.hls.enabled"),
		HDS:         false, // deprecated in SRS, accepted without effect
		Callback:    true,  // HTTP hooks
		API:         true,
		HTTPD:       true,
		DVR:         built("vhost.dvr.enabled"),
		Transcode:   built("vhost.transcode.enabled"),
		Ingest:      built("vhost.ingest.enabled"),
		Stat:        true,
		Caster:      built("stream_caster.enabled"),
		ComplexSend: true,  // one writev per batch of packets
		TCPNoDelay:  true,  // vhost tcp_nodelay
		SoSendBuf:   false, // castd leaves SO_SNDBUF to the kernel
		MR:          true,  // reads always go through a buffer
	}
}

func (a *API) features(w http.ResponseWriter, r *http.Request) {
	date, stamp := buildTime()
	a.writeData(w, r, featuresData{
		Options:  "castd/" + version.Version,
		Options2: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Build:    date, Build2: stamp,
		Features: builtFeatures(),
	})
}

// buildTime is the commit time the Go toolchain stamped into the binary
// ("" when built outside a repository, as in tests), as a date and as Unix
// seconds, like SRS's build and build2.
func buildTime() (date, unix string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	for _, s := range info.Settings {
		if s.Key != "vcs.time" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s.Value)
		if err != nil {
			return "", ""
		}
		return t.UTC().Format("2006-01-02 15:04:05"), strconv.FormatInt(t.Unix(), 10)
	}
	return "", ""
}

// writeData answers the envelope with data.
func (a *API) writeData(w http.ResponseWriter, r *http.Request, data any) {
	httpx.WriteJSON(w, r, struct {
		envelope
		Data any `json:"data"`
	}{a.ok(), data})
}
