package sysinfo

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestSampleLinux(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	s := NewSampler()
	// Burn a little CPU so the rate is measurable.
	deadline := time.Now().Add(200 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	sm := s.Sample()
	if !sm.OK {
		t.Fatal("sample not OK on Linux")
	}
	if sm.Self.Pid != os.Getpid() || sm.Self.MemKByte <= 0 || sm.Self.RSSKByte <= 0 || sm.Self.Threads <= 0 {
		t.Errorf("self: %+v", sm.Self)
	}
	if sm.Self.CPUPercent <= 0.1 || sm.Self.CPUPercent > float64(runtime.NumCPU())+0.5 {
		t.Errorf("self cpu %.3f after a busy loop", sm.Self.CPUPercent)
	}
	if sm.Memory.MemTotal <= 0 || sm.Memory.PercentRAM <= 0 || sm.Memory.PercentRAM > 1 {
		t.Errorf("memory: %+v", sm.Memory)
	}
	if sm.System.Uptime <= 0 || sm.System.CPUs <= 0 || sm.System.CPUPercent < 0 || sm.System.CPUPercent > 1 {
		t.Errorf("system: %+v", sm.System)
	}
	if sm.System.NetRecvIBytes+sm.System.NetRecvBytes <= 0 {
		t.Errorf("no network bytes at all: %+v", sm.System)
	}
	if !sm.Rusage.OK || sm.Rusage.MaxRSS != sm.Self.MemKByte || sm.Rusage.MinFlt <= 0 {
		t.Errorf("rusage: %+v", sm.Rusage)
	}
	if !sm.Proc.OK || sm.Proc.Pid != int64(os.Getpid()) || sm.Proc.NumThreads != int64(sm.Self.Threads) || sm.Proc.Percent != sm.Self.CPUPercent {
		t.Errorf("proc self stat: %+v", sm.Proc)
	}
	if !sm.CPU.OK || sm.CPU.User <= 0 || sm.CPU.Percent != sm.System.CPUPercent || !sm.Memory.OK {
		t.Errorf("proc stat: %+v, memory ok %v", sm.CPU, sm.Memory.OK)
	}
	if s.Last().At != sm.At {
		t.Error("Last differs from the latest sample")
	}
}
