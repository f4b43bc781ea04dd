package sysinfo

import (
	"net"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

func readPlatform(sm *Sample, r, prev *raw) bool {
	ok := sm.Rusage.OK
	ok = readSelfStat(sm, r, prev) && ok
	ok = readMeminfo(&sm.Memory) && ok
	if sm.Memory.MemTotal > 0 {
		sm.Self.MemPercent = float64(sm.Self.MemKByte) / float64(sm.Memory.MemTotal)
	}
	ok = readCPU(sm, r, prev) && ok
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
	st, err := ParseProcSelfStat(b)
	if err != nil {
		return false
	}
	st.OK = true
	r.selfTicks = int64(st.UTime + st.STime)
	r.haveSelf = true
	sm.Self.Threads = int(st.NumThreads)
	sm.Self.RSSKByte = st.RSS * int64(os.Getpagesize()) / 1024
	if prev.haveSelf {
		if secs := r.at.Sub(prev.at).Seconds(); secs > 0 {
			sm.Self.CPUPercent = float64(r.selfTicks-prev.selfTicks) / clockTicks / secs
		}
	}
	st.Percent = sm.Self.CPUPercent
	sm.Proc = st
	return true
}

func readMeminfo(m *Memory) bool {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return false
	}
	mem, err := ParseMeminfo(b)
	if err != nil {
		return false
	}
	*m = mem
	return true
}

func readCPU(sm *Sample, r, prev *raw) bool {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return false
	}
	c, err := ParseProcStat(b)
	if err != nil {
		return false
	}
	c.OK = true
	r.sysTotal = c.Total()
	r.sysIdle = c.Idle + c.IOWait
	r.haveSystem = true
	if prev.haveSystem {
		if total := r.sysTotal - prev.sysTotal; total > 0 {
			sm.System.CPUPercent = 1 - float64(r.sysIdle-prev.sysIdle)/float64(total)
		}
	}
	c.Percent = sm.System.CPUPercent
	sm.CPU = c
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
