// Package sysinfo samples what SRS's API reports about the process and the
// machine: /api/v1/summaries (CPU, memory, disk and network rates, load and
// socket counts), rusages, self_proc_stats, system_proc_stats and meminfos.
// On Linux it reads /proc; elsewhere only getrusage works (where the
// platform has it), the other readings are not OK and their values zero.
package sysinfo

import (
	"os"
	"runtime"
	"sync"
	"time"
)

// Self is the castd process.
type Self struct {
	Pid, Ppid  int
	MemKByte   int64   // peak resident set (ru_maxrss), as SRS reports
	RSSKByte   int64   // current resident set
	MemPercent float64 // MemKByte / MemTotal, a fraction like SRS's
	CPUPercent float64 // over the last sample interval, a fraction of one core like SRS's
	Threads    int
}

// Memory is /proc/meminfo in kB, plus SRS's derived figures.
type Memory struct {
	OK                                                      bool
	MemTotal, MemFree, Buffers, Cached, SwapTotal, SwapFree int64
	MemActive, RealInUse, NotInUse                          int64
	PercentRAM, PercentSwap                                 float64
}

// System is the machine.
type System struct {
	CPUPercent       float64 // fraction, over the last interval
	CPUs, CPUsOnline int
	Uptime, IdleTime float64 // seconds, from /proc/uptime
	Load1, Load5     float64
	Load15           float64
	DiskReadKBps     int64
	DiskWriteKBps    int64
	DiskBusyPercent  float64
	NetSampleTime    int64 // ms
	NetRecvBytes     int64 // public interfaces
	NetSendBytes     int64
	NetRecvIBytes    int64 // loopback and private interfaces
	NetSendIBytes    int64
	ConnSys          int64 // TCP sockets
	ConnSysEstablish int64
	ConnSysTimeWait  int64
	ConnSysUDP       int64
}

// Sample is one reading.
type Sample struct {
	OK     bool // every /proc reading succeeded
	At     time.Time
	Self   Self
	Memory Memory
	System System
	Rusage Rusage
	Proc   ProcSelfStat   // /proc/self/stat
	CPU    ProcSystemStat // /proc/stat
}

// Sampler keeps the previous reading to turn counters into rates.
type Sampler struct {
	mu   sync.Mutex
	last Sample
	prev raw
}

// raw holds counters between samples.
type raw struct {
	at                   time.Time
	selfTicks            int64 // utime+stime of castd
	sysTotal, sysIdle    int64
	diskRead, diskWrite  int64 // sectors
	diskTicks            int64 // ms spent doing I/O
	haveSelf, haveSystem bool
}

// NewSampler takes a first reading so the next one can compute rates.
func NewSampler() *Sampler {
	s := &Sampler{}
	s.Sample()
	return s
}

// Sample reads the current values and returns them.
func (s *Sampler) Sample() Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	sm := Sample{At: now, Self: Self{Pid: os.Getpid(), Ppid: os.Getppid()}}
	sm.System.CPUs = runtime.NumCPU()
	sm.System.CPUsOnline = runtime.NumCPU()
	var r raw
	r.at = now
	sm.Rusage = readRusage()
	sm.Self.MemKByte = sm.Rusage.MaxRSS
	sm.OK = readPlatform(&sm, &r, &s.prev)
	s.prev = r
	s.last = sm
	return sm
}

// Last returns the latest sample without reading again.
func (s *Sampler) Last() Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
