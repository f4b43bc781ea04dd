package sysinfo

import (
	"strings"
	"testing"
)

// A real /proc/self/stat (Linux 6.x, 52 fields) and variants from proc(5).
const (
	statReal = "22041 (cat) R 22039 22039 8274 0 -1 4194304 100 0 0 0 7 3 0 0 20 0 1 0 1150381 3133440 390 " +
		"18446744073709551615 94595401097216 94595401117097 140727327853264 0 0 0 0 0 0 0 0 0 17 0 0 0 5 2 3 " +
		"94595401133104 94595401134720 94596048728064 140727327857348 140727327857368 140727327857368 140727327858667 0\n"
	// Old kernels stop after rss-ish fields; the name may hold ") (" and spaces.
	statShort = "7 (a) b (c) S 1 7 7 0 -1 0 1 2 3 4 5 6 -7 -8 -100 19 3 0 99 4096 12\n"
)

const procStatReal = `cpu  596245 3220 134132 1537233 10213 0 3722 2485 0 0
cpu0 296913 1502 63459 776238 2713 0 1331 1264 0 0
intr 1 2 3
`

const meminfoReal = `MemTotal:       24684084 kB
MemFree:        22906248 kB
MemAvailable:   24099760 kB
Buffers:           38160 kB
Cached:          1268708 kB
SwapCached:            0 kB
SwapTotal:       2097148 kB
SwapFree:        1048574 kB
HugePages_Total:       0
`

func TestParseProcSelfStat(t *testing.T) {
	st, err := ParseProcSelfStat([]byte(statReal))
	if err != nil {
		t.Fatal(err)
	}
	want := ProcSelfStat{Pid: 22041, Comm: "cat", State: "R", Ppid: 22039, Pgrp: 22039, Session: 8274, TTYNr: 0, TPGid: -1,
		Flags: 4194304, MinFlt: 100, UTime: 7, STime: 3, Priority: 20, NumThreads: 1, StartTime: 1150381, VSize: 3133440,
		RSS: 390, RSSLim: 18446744073709551615, StartCode: 94595401097216, EndCode: 94595401117097, StartStack: 140727327853264,
		ExitSignal: 17, BlkIOTicks: 5, GuestTime: 2, CGuestTime: 3}
	if st != want {
		t.Fatalf("got  %+v\nwant %+v", st, want)
	}
	st, err = ParseProcSelfStat([]byte(statShort))
	if err != nil {
		t.Fatal(err)
	}
	if st.Comm != "a) b (c" || st.State != "S" || st.CUTime != -7 || st.Priority != -100 || st.Nice != 19 || st.RSS != 12 || st.RSSLim != 0 {
		t.Fatalf("short stat: %+v", st)
	}
}

func TestParseProcSelfStatRejects(t *testing.T) {
	fields := strings.Fields(statShort)
	cases := map[string]string{
		"empty":             "",
		"no parentheses":    "7 a S 1 2 3",
		"bad pid":           "x (a) S 1 7 7 0 -1 0 1 2 3 4 5 6 7 8 20 0 1 0 99 4096 12",
		"too few fields":    strings.Join(fields[:len(fields)-1], " "),
		"long state":        "7 (a) SS 1 7 7 0 -1 0 1 2 3 4 5 6 7 8 20 0 1 0 99 4096 12",
		"letters in number": "7 (a) S 1 7 7 0 -1 0 1 2 3 4 5 6 7 8 20 0 1 0 99 4096 1x2",
		"negative unsigned": "7 (a) S 1 7 7 0 -1 -1 1 2 3 4 5 6 7 8 20 0 1 0 99 4096 12",
		"overflow":          "7 (a) S 1 7 7 0 -1 0 1 2 3 4 5 6 7 8 20 0 1 0 99 4096 99999999999999999999",
		"huge":              "7 (a) S " + strings.Repeat("1 ", 40000),
	}
	for name, in := range cases {
		if st, err := ParseProcSelfStat([]byte(in)); err == nil {
			t.Errorf("%s: accepted: %+v", name, st)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	s, err := ParseProcStat([]byte(procStatReal))
	if err != nil {
		t.Fatal(err)
	}
	want := ProcSystemStat{User: 596245, Nice: 3220, Sys: 134132, Idle: 1537233, IOWait: 10213, SoftIrq: 3722, Steal: 2485}
	if s != want || s.Total() != 596245+3220+134132+1537233+10213+3722+2485 {
		t.Fatalf("got %+v", s)
	}
	// A 2.4 kernel prints four values.
	if s, err := ParseProcStat([]byte("cpu 1 2 3 4\n")); err != nil || s.Idle != 4 || s.IOWait != 0 {
		t.Fatalf("old kernel: %+v %v", s, err)
	}
	for name, in := range map[string]string{
		"empty": "", "per-cpu first": "cpu0 1 2 3 4\ncpu 1 2 3 4\n", "too short": "cpu 1 2 3\n",
		"not a number": "cpu 1 2 x 4\n", "negative": "cpu 1 2 -3 4\n",
	} {
		if s, err := ParseProcStat([]byte(in)); err == nil {
			t.Errorf("%s: accepted: %+v", name, s)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	m, err := ParseMeminfo([]byte(meminfoReal))
	if err != nil {
		t.Fatal(err)
	}
	active := int64(24684084 - 22906248)
	inUse := active - 38160 - 1268708
	if !m.OK || m.MemTotal != 24684084 || m.MemFree != 22906248 || m.Buffers != 38160 || m.Cached != 1268708 ||
		m.SwapTotal != 2097148 || m.SwapFree != 1048574 || m.MemActive != active || m.RealInUse != inUse ||
		m.NotInUse != 24684084-inUse {
		t.Fatalf("got %+v", m)
	}
	if m.PercentRAM != float64(inUse)/24684084 || m.PercentSwap != float64(2097148-1048574)/2097148 {
		t.Errorf("percents %v %v", m.PercentRAM, m.PercentSwap)
	}
	for name, in := range map[string]string{
		"empty": "", "no MemTotal": "MemFree: 1 kB\n", "bad value": "MemTotal: lots kB\n",
		"no value": "MemTotal:\n", "negative": "MemTotal: -5 kB\n",
	} {
		if m, err := ParseMeminfo([]byte(in)); err == nil {
			t.Errorf("%s: accepted: %+v", name, m)
		}
	}
}

func FuzzParseProcSelfStat(f *testing.F) {
	f.Add([]byte(statReal))
	f.Add([]byte(statShort))
	f.Add([]byte("1 ()) R"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseProcSelfStat(b)
		if err != nil {
			return
		}
		if len(st.State) != 1 || len(st.Comm) > len(b) {
			t.Fatalf("accepted %q as %+v", b, st)
		}
	})
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte(procStatReal))
	f.Add([]byte("cpu 1 2 3 4\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseProcStat(b)
		if err == nil && (s.User < 0 || s.Idle < 0) {
			t.Fatalf("negative ticks from %q", b)
		}
	})
}

func FuzzParseMeminfo(f *testing.F) {
	f.Add([]byte(meminfoReal))
	f.Add([]byte("MemTotal: 1 kB\nMemFree: 2 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMeminfo(b)
		if err == nil && (!m.OK || m.MemTotal <= 0) {
			t.Fatalf("accepted %q as %+v", b, m)
		}
	})
}
