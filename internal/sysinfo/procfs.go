package sysinfo

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ProcSelfStat is /proc/[pid]/stat, fields 1 to 44 (proc(5)), with the
// names SRS's /api/v1/self_proc_stats uses. Times are clock ticks, rss is
// in pages, vsize in bytes.
type ProcSelfStat struct {
	OK          bool    // the last read succeeded
	Percent     float64 // CPU over the last sample interval, a fraction of one core
	Pid         int64
	Comm        string
	State       string // one character, e.g. "S"
	Ppid        int64
	Pgrp        int64
	Session     int64
	TTYNr       int64
	TPGid       int64
	Flags       uint64
	MinFlt      uint64
	CMinFlt     uint64
	MajFlt      uint64
	CMajFlt     uint64
	UTime       uint64
	STime       uint64
	CUTime      int64
	CSTime      int64
	Priority    int64
	Nice        int64
	NumThreads  int64
	ItRealValue int64
	StartTime   uint64
	VSize       uint64
	RSS         int64
	RSSLim      uint64
	StartCode   uint64
	EndCode     uint64
	StartStack  uint64
	KStkESP     uint64
	KStkEIP     uint64
	Signal      uint64
	Blocked     uint64
	SigIgnore   uint64
	SigCatch    uint64
	WChan       uint64
	NSwap       uint64
	CNSwap      uint64
	ExitSignal  int64
	Processor   int64
	RTPriority  uint64
	Policy      uint64
	BlkIOTicks  uint64 // delayacct_blkio_ticks
	GuestTime   uint64
	CGuestTime  int64
}

// maxProcStat bounds what the parsers read: a real file is a few hundred
// bytes, so anything larger is not /proc.
const maxProcStat = 64 << 10

// ParseProcSelfStat parses the content of /proc/[pid]/stat. The command
// name may hold spaces and parentheses, so it runs to the last ')'. Fields
// the kernel does not print (old kernels stop before 44) stay zero; the
// fields up to rss (24) are required.
func ParseProcSelfStat(b []byte) (ProcSelfStat, error) {
	var st ProcSelfStat
	if len(b) > maxProcStat {
		return st, fmt.Errorf("sysinfo: proc stat: %d bytes is too long", len(b))
	}
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return st, errors.New("sysinfo: proc stat: no (comm)")
	}
	pid, err := strconv.ParseInt(strings.TrimSpace(string(b[:open])), 10, 64)
	if err != nil {
		return st, fmt.Errorf("sysinfo: proc stat: pid: %w", err)
	}
	st.Pid = pid
	st.Comm = string(b[open+1 : closing])
	f := strings.Fields(string(b[closing+1:]))
	// f[0] is field 3 (state); field n is f[n-3].
	const required = 24 - 2
	if len(f) < required {
		return st, fmt.Errorf("sysinfo: proc stat: %d fields after comm, want at least %d", len(f), required)
	}
	if len(f[0]) != 1 {
		return st, fmt.Errorf("sysinfo: proc stat: state %q is not one character", f[0])
	}
	st.State = f[0]
	r := fieldReader{f: f, base: 3}
	signed := []*int64{&st.Ppid, &st.Pgrp, &st.Session, &st.TTYNr, &st.TPGid}
	for i, p := range signed {
		*p = r.int(4 + i)
	}
	st.Flags = r.uint(9)
	st.MinFlt, st.CMinFlt, st.MajFlt, st.CMajFlt = r.uint(10), r.uint(11), r.uint(12), r.uint(13)
	st.UTime, st.STime = r.uint(14), r.uint(15)
	st.CUTime, st.CSTime, st.Priority, st.Nice = r.int(16), r.int(17), r.int(18), r.int(19)
	st.NumThreads, st.ItRealValue = r.int(20), r.int(21)
	st.StartTime, st.VSize, st.RSS = r.uint(22), r.uint(23), r.int(24)
	st.RSSLim, st.StartCode, st.EndCode, st.StartStack = r.uint(25), r.uint(26), r.uint(27), r.uint(28)
	st.KStkESP, st.KStkEIP = r.uint(29), r.uint(30)
	st.Signal, st.Blocked, st.SigIgnore, st.SigCatch = r.uint(31), r.uint(32), r.uint(33), r.uint(34)
	st.WChan, st.NSwap, st.CNSwap = r.uint(35), r.uint(36), r.uint(37)
	st.ExitSignal, st.Processor = r.int(38), r.int(39)
	st.RTPriority, st.Policy, st.BlkIOTicks, st.GuestTime = r.uint(40), r.uint(41), r.uint(42), r.uint(43)
	st.CGuestTime = r.int(44)
	if r.err != nil {
		return ProcSelfStat{}, r.err
	}
	return st, nil
}

// fieldReader reads numbered proc fields and keeps the first error.
type fieldReader struct {
	f    []string
	base int // the field number of f[0]
	err  error
}

func (r *fieldReader) raw(n int) (string, bool) {
	i := n - r.base
	if r.err != nil || i < 0 || i >= len(r.f) {
		return "", false
	}
	return r.f[i], true
}

func (r *fieldReader) int(n int) int64 {
	s, ok := r.raw(n)
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		r.err = fmt.Errorf("sysinfo: proc stat: field %d: %w", n, err)
	}
	return v
}

func (r *fieldReader) uint(n int) uint64 {
	s, ok := r.raw(n)
	if !ok {
		return 0
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		r.err = fmt.Errorf("sysinfo: proc stat: field %d: %w", n, err)
	}
	return v
}

// ProcSystemStat is the first line of /proc/stat (every CPU together), in
// clock ticks, with SRS's /api/v1/system_proc_stats names.
type ProcSystemStat struct {
	OK      bool
	Percent float64 // busy over the last sample interval, a fraction
	User    int64
	Nice    int64
	Sys     int64
	Idle    int64
	IOWait  int64
	Irq     int64
	SoftIrq int64
	Steal   int64
	Guest   int64
}

// Total is every tick counted in the busy percentage (guest time is
// already part of user time).
func (s ProcSystemStat) Total() int64 {
	return s.User + s.Nice + s.Sys + s.Idle + s.IOWait + s.Irq + s.SoftIrq + s.Steal
}

// ParseProcStat parses /proc/stat's "cpu" line. Kernels before 2.6 print
// only user, nice, system and idle; the others stay zero.
func ParseProcStat(b []byte) (ProcSystemStat, error) {
	var s ProcSystemStat
	if len(b) > maxProcStat*4 { // one line per CPU: a large machine has a few hundred
		return s, fmt.Errorf("sysinfo: /proc/stat: %d bytes is too long", len(b))
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return s, errors.New("sysinfo: /proc/stat: no aggregate cpu line")
	}
	dst := []*int64{&s.User, &s.Nice, &s.Sys, &s.Idle, &s.IOWait, &s.Irq, &s.SoftIrq, &s.Steal, &s.Guest}
	for i, p := range dst {
		if i+1 >= len(f) {
			break
		}
		v, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil || v < 0 {
			return ProcSystemStat{}, fmt.Errorf("sysinfo: /proc/stat: cpu value %q", f[i+1])
		}
		*p = v
	}
	return s, nil
}

// ParseMeminfo parses /proc/meminfo (kB) and derives SRS's figures: memory
// in use without buffers and cache, and the RAM and swap fractions.
func ParseMeminfo(b []byte) (Memory, error) {
	var m Memory
	if len(b) > maxProcStat {
		return m, fmt.Errorf("sysinfo: /proc/meminfo: %d bytes is too long", len(b))
	}
	fields := map[string]*int64{
		"MemTotal": &m.MemTotal, "MemFree": &m.MemFree, "Buffers": &m.Buffers,
		"Cached": &m.Cached, "SwapTotal": &m.SwapTotal, "SwapFree": &m.SwapFree,
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		p, known := fields[strings.TrimSpace(key)]
		if !known {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return Memory{}, fmt.Errorf("sysinfo: /proc/meminfo: %s has no value", key)
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || v < 0 || v > 1<<50 { // more than an exabyte of kB is not a machine
			return Memory{}, fmt.Errorf("sysinfo: /proc/meminfo: %s value %q", key, f[0])
		}
		*p = v
	}
	if m.MemTotal <= 0 {
		return Memory{}, errors.New("sysinfo: /proc/meminfo: no MemTotal")
	}
	m.MemActive = m.MemTotal - m.MemFree
	m.RealInUse = m.MemActive - m.Buffers - m.Cached
	m.NotInUse = m.MemTotal - m.RealInUse
	m.PercentRAM = float64(m.RealInUse) / float64(m.MemTotal)
	if m.SwapTotal > 0 {
		m.PercentSwap = float64(m.SwapTotal-m.SwapFree) / float64(m.SwapTotal)
	}
	m.OK = true
	return m, nil
}

// Rusage is getrusage(RUSAGE_SELF) with SRS's names; times are whole
// seconds, as SRS prints them. MaxRSS is in kB on Linux.
type Rusage struct {
	OK                               bool
	UTime, STime                     int64
	MaxRSS, IxRSS, IdRSS, IsRSS      int64
	MinFlt, MajFlt, NSwap            int64
	InBlock, OuBlock, MsgSnd, MsgRcv int64
	NSignals, NVCSw, NIVCSw          int64
}

// Utsname is uname(2)'s answer.
type Utsname struct {
	Sysname, Nodename, Release, Version, Machine string
}
