package sysinfo

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

func readPlatform(sm *Sample, r, prev *raw) bool {
	ok := true
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		sm.Self.MemKByte = ru.Maxrss
	} else {
		ok = false
	}
	ok = readSelfStat(sm, r, prev) && ok
	ok = readMeminfo(&sm.Memory) && ok
	if sm.Memory.MemTotal > 0 {
		sm.Self.MemPercent = float64(sm.Self.MemKByte) / float64(sm.Memory.MemTotal)
	}
	ok = readCPU(&sm.System, r, prev) && ok
	ok = readUptime(&sm.System) && ok
	ok = readLoad(&sm.System) && ok
	readDisks(&sm.System, r, prev)
	readNet(&sm.System, sm)
	readSockets(&sm.System)
	return ok
}

func fieldsOf(path string) ([]string, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	return strings.Fields(string(b)), true
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func readSelfStat(sm *Sample, r, prev *raw) bool {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return false
	}
	// The command name may hold spaces; fields count from after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 22 {
		return false
	}
	// f[0] is field 3 (state): utime is field 14, stime 15, threads 20, rss 24.
	r.selfTicks = atoi(f[11]) + atoi(f[12])
	r.haveSelf = true
	sm.Self.Threads = int(atoi(f[17]))
	sm.Self.RSSKByte = atoi(f[21]) * int64(os.Getpagesize()) / 1024
	if prev.haveSelf {
		if secs := r.at.Sub(prev.at).Seconds(); secs > 0 {
			sm.Self.CPUPercent = float64(r.selfTicks-prev.selfTicks) / clockTicks / secs
		}
	}
	return true
}

func readMeminfo(m *Memory) bool {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) < 2 {
			continue
		}
		v := atoi(parts[1])
		switch strings.TrimSuffix(parts[0], ":") {
		case "MemTotal":
			m.MemTotal = v
		case "MemFree":
			m.MemFree = v
		case "Buffers":
			m.Buffers = v
		case "Cached":
			m.Cached = v
		case "SwapTotal":
			m.SwapTotal = v
		case "SwapFree":
			m.SwapFree = v
		}
	}
	m.MemActive = m.MemTotal - m.MemFree
	m.RealInUse = m.MemActive - m.Buffers - m.Cached
	m.NotInUse = m.MemTotal - m.RealInUse
	if m.MemTotal > 0 {
		m.PercentRAM = float64(m.RealInUse) / float64(m.MemTotal)
	}
	if m.SwapTotal > 0 {
		m.PercentSwap = float64(m.SwapTotal-m.SwapFree) / float64(m.SwapTotal)
	}
	return m.MemTotal > 0
}

func readCPU(s *System, r, prev *raw) bool {
	f, ok := fieldsOf("/proc/stat")
	if !ok || len(f) < 9 || f[0] != "cpu" {
		return false
	}
	v := func(i int) int64 {
		if i < len(f) {
			return atoi(f[i])
		}
		return 0
	}
	s.CPUUser, s.CPUNice, s.CPUSys, s.CPUIdle = v(1), v(2), v(3), v(4)
	s.CPUIOWait, s.CPUIrq, s.CPUSoftIrq, s.CPUSteal, s.CPUGuest = v(5), v(6), v(7), v(8), v(9)
	r.sysTotal = s.CPUUser + s.CPUNice + s.CPUSys + s.CPUIdle + s.CPUIOWait + s.CPUIrq + s.CPUSoftIrq + s.CPUSteal
	r.sysIdle = s.CPUIdle + s.CPUIOWait
	r.haveSystem = true
	if prev.haveSystem {
		if total := r.sysTotal - prev.sysTotal; total > 0 {
			s.CPUPercent = 1 - float64(r.sysIdle-prev.sysIdle)/float64(total)
		}
	}
	return true
}

func readUptime(s *System) bool {
	f, ok := fieldsOf("/proc/uptime")
	if !ok || len(f) < 2 {
		return false
	}
	s.Uptime, _ = strconv.ParseFloat(f[0], 64)
	s.IdleTime, _ = strconv.ParseFloat(f[1], 64)
	return true
}

func readLoad(s *System) bool {
	f, ok := fieldsOf("/proc/loadavg")
	if !ok || len(f) < 3 {
		return false
	}
	s.Load1, _ = strconv.ParseFloat(f[0], 64)
	s.Load5, _ = strconv.ParseFloat(f[1], 64)
	s.Load15, _ = strconv.ParseFloat(f[2], 64)
	return true
}

// readDisks sums whole disks (those listed in /sys/block, minus loop and
// ram devices), so partitions are not counted twice.
func readDisks(s *System, r, prev *raw) {
	b, err := os.ReadFile("/proc/diskstats")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 13 {
			continue
		}
		name := f[2]
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") {
			continue
		}
		if _, err := os.Stat("/sys/block/" + name); err != nil {
			continue
		}
		r.diskRead += atoi(f[5])
		r.diskWrite += atoi(f[9])
		r.diskTicks += atoi(f[12])
	}
	if !prev.at.IsZero() {
		if ms := r.at.Sub(prev.at).Milliseconds(); ms > 0 {
			// sectors are 512 bytes: KB/s = sectors/2 per second.
			s.DiskReadKBps = (r.diskRead - prev.diskRead) / 2 * 1000 / ms
			s.DiskWriteKBps = (r.diskWrite - prev.diskWrite) / 2 * 1000 / ms
			s.DiskBusyPercent = float64(r.diskTicks-prev.diskTicks) / float64(ms)
		}
	}
}

func readNet(s *System, sm *Sample) {
	b, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		return
	}
	s.NetSampleTime = sm.At.UnixMilli()
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		name = strings.TrimSpace(name)
		f := strings.Fields(rest)
		if len(f) < 9 {
			continue
		}
		rx, tx := atoi(f[0]), atoi(f[8])
		if isIntranet(name) {
			s.NetRecvIBytes += rx
			s.NetSendIBytes += tx
		} else {
			s.NetRecvBytes += rx
			s.NetSendBytes += tx
		}
	}
}

// isIntranet reports whether an interface has only loopback, private or
// link-local addresses (or none).
func isIntranet(name string) bool {
	if name == "lo" {
		return true
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return true
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return true
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip := ipn.IP
		if !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() {
			return false
		}
	}
	return true
}

func readSockets(s *System) {
	if b, err := os.ReadFile("/proc/net/sockstat"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			kv := map[string]int64{}
			for i := 1; i+1 < len(f); i += 2 {
				kv[f[i]] = atoi(f[i+1])
			}
			switch f[0] {
			case "TCP:":
				s.ConnSys, s.ConnSysTimeWait = kv["alloc"], kv["tw"]
			case "UDP:":
				s.ConnSysUDP = kv["inuse"]
			}
		}
	}
	if b, err := os.ReadFile("/proc/net/snmp"); err == nil {
		var header []string
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || f[0] != "Tcp:" {
				continue
			}
			if header == nil {
				header = f
				continue
			}
			for i, h := range header {
				if h == "CurrEstab" && i < len(f) {
					s.ConnSysEstablish = atoi(f[i])
				}
			}
		}
	}
}
