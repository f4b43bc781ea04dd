package api

import (
	"net/http"
	"os"
	"time"

	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/version"
)

type summarySelf struct {
	Version    string  `json:"version"`
	Pid        int     `json:"pid"`
	Ppid       int     `json:"ppid"`
	Argv       string  `json:"argv"`
	Cwd        string  `json:"cwd"`
	MemKByte   int64   `json:"mem_kbyte"`
	MemPercent float64 `json:"mem_percent"`
	CPUPercent float64 `json:"cpu_percent"`
	SrsUptime  int64   `json:"srs_uptime"` // seconds
}

type summarySystem struct {
	CPUPercent      float64 `json:"cpu_percent"`
	DiskReadKBps    int64   `json:"disk_read_KBps"`
	DiskWriteKBps   int64   `json:"disk_write_KBps"`
	DiskBusyPercent float64 `json:"disk_busy_percent"`
	MemRAMKByte     int64   `json:"mem_ram_kbyte"`
	MemRAMPercent   float64 `json:"mem_ram_percent"`
	MemSwapKByte    int64   `json:"mem_swap_kbyte"`
	MemSwapPercent  float64 `json:"mem_swap_percent"`
	CPUs            int     `json:"cpus"`
	CPUsOnline      int     `json:"cpus_online"`
	Uptime          float64 `json:"uptime"`
	IdleTime        float64 `json:"ilde_time"` // sic: SRS's spelling, which clients read
	Load1m          float64 `json:"load_1m"`
	Load5m          float64 `json:"load_5m"`
	Load15m         float64 `json:"load_15m"`
	NetSampleTime   int64   `json:"net_sample_time"`
	NetRecvBytes    int64   `json:"net_recv_bytes"`
	NetSendBytes    int64   `json:"net_send_bytes"`
	NetRecviBytes   int64   `json:"net_recvi_bytes"`
	NetSendiBytes   int64   `json:"net_sendi_bytes"`
	SrsSampleTime   int64   `json:"srs_sample_time"`
	SrsRecvBytes    int64   `json:"srs_recv_bytes"`
	SrsSendBytes    int64   `json:"srs_send_bytes"`
	ConnSys         int64   `json:"conn_sys"`
	ConnSysET       int64   `json:"conn_sys_et"`
	ConnSysTW       int64   `json:"conn_sys_tw"`
	ConnSysUDP      int64   `json:"conn_sys_udp"`
	ConnSrs         int     `json:"conn_srs"`
}

type summaryData struct {
	OK     bool          `json:"ok"`
	NowMs  int64         `json:"now_ms"`
	Self   summarySelf   `json:"self"`
	System summarySystem `json:"system"`
}

func (a *API) summaries(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, r, struct {
		envelope
		Data summaryData `json:"data"`
	}{a.ok(), a.summaryData()})
}

// SummariesData is the data of /api/v1/summaries, which the heartbeat
// sends too when heartbeat.summaries is on.
func (a *API) SummariesData() any { return a.summaryData() }

func (a *API) summaryData() summaryData {
	sm := a.Sys.Last()
	now := time.Now()
	u := a.Stats.ServerUsage()
	conns, _, _ := a.Stats.Counts()
	d := summaryData{
		OK:    sm.OK,
		NowMs: now.UnixMilli(),
		Self: summarySelf{
			Version: version.SRSVersion, Pid: os.Getpid(), Ppid: sm.Self.Ppid, Argv: a.Argv, Cwd: a.wd(),
			MemKByte: sm.Self.MemKByte, MemPercent: sm.Self.MemPercent, CPUPercent: sm.Self.CPUPercent,
			SrsUptime: int64(now.Sub(a.Started).Seconds()),
		},
		System: summarySystem{
			CPUPercent: sm.System.CPUPercent, DiskReadKBps: sm.System.DiskReadKBps, DiskWriteKBps: sm.System.DiskWriteKBps,
			DiskBusyPercent: sm.System.DiskBusyPercent,
			MemRAMKByte:     sm.Memory.MemTotal, MemRAMPercent: sm.Memory.PercentRAM,
			MemSwapKByte: sm.Memory.SwapTotal, MemSwapPercent: sm.Memory.PercentSwap,
			CPUs: sm.System.CPUs, CPUsOnline: sm.System.CPUsOnline, Uptime: sm.System.Uptime, IdleTime: sm.System.IdleTime,
			Load1m: sm.System.Load1, Load5m: sm.System.Load5, Load15m: sm.System.Load15,
			NetSampleTime: sm.System.NetSampleTime, NetRecvBytes: sm.System.NetRecvBytes, NetSendBytes: sm.System.NetSendBytes,
			NetRecviBytes: sm.System.NetRecvIBytes, NetSendiBytes: sm.System.NetSendIBytes,
			SrsSampleTime: now.UnixMilli(), SrsRecvBytes: u.RecvBytes, SrsSendBytes: u.SendBytes,
			ConnSys: sm.System.ConnSys, ConnSysET: sm.System.ConnSysEstablish, ConnSysTW: sm.System.ConnSysTimeWait,
			ConnSysUDP: sm.System.ConnSysUDP, ConnSrs: conns,
		},
	}
	return d
}
