// Command compare measures castd and nginx-rtmp side by side on one machine:
// the same ~1 Mbps H.264+AAC stream published to each, N RTMP players (and
// HTTP-FLV players for castd) from castbench, and each server's CPU seconds
// per second and RSS read from /proc. It writes a markdown report.
//
// Run it with bench/compare.sh, which installs nginx-rtmp and ffmpeg when
// missing and builds castd and castbench.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	castd, castbench, nginx, nginxModule string
	players                              []int
	duration, ramp                       time.Duration
	out, work                            string
	bitrate                              string
}

func main() {
	var o options
	var players string
	flag.StringVar(&o.castd, "castd", "./castd", "castd binary")
	flag.StringVar(&o.castbench, "castbench", "./castbench", "castbench binary")
	flag.StringVar(&o.nginx, "nginx", "/usr/sbin/nginx", "nginx binary")
	flag.StringVar(&o.nginxModule, "nginx-module", "/usr/lib/nginx/modules/ngx_rtmp_module.so", "nginx-rtmp module")
	flag.StringVar(&players, "n", "100,500,1000,2000", "player counts to measure")
	flag.DurationVar(&o.duration, "d", 20*time.Second, "measured time per run, after the ramp")
	flag.DurationVar(&o.ramp, "ramp", 0, "time to start the players; default n/500 s")
	flag.StringVar(&o.out, "o", "docs/performance.md", "markdown report to write")
	flag.StringVar(&o.work, "work", "", "work directory; default a temporary one")
	flag.StringVar(&o.bitrate, "b", "900k", "video bitrate of the test stream (audio adds 64k)")
	flag.Parse()
	// The servers run in their own directories: make the paths absolute.
	for _, p := range []*string{&o.castd, &o.castbench} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			log.Fatal(err)
		}
		*p = abs
	}
	for _, s := range strings.Split(players, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			log.Fatalf("bad -n %q", players)
		}
		o.players = append(o.players, n)
	}
	if o.work == "" {
		dir, err := os.MkdirTemp("", "castd-compare-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		o.work = dir
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

// result is one measured run.
type result struct {
	server, protocol                 string
	players                          int
	up, failed                       int64
	cpu                              float64 // server CPU seconds per second
	rssMB, baseMB                    float64
	totalMbps, p1Kbps, p50Kbps       float64
	latP50, latP99, ttffP50, ttffP99 float64
	stalls                           int64
	benchCPU                         float64 // castbench CPU seconds per second
}

func run(o options) error {
	src := filepath.Join(o.work, "source.flv")
	log.Printf("making the test stream (%s video + 64k AAC, 2 s GOP)", o.bitrate)
	ff := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "30", "-c:v", "libx264", "-preset", "veryfast", "-b:v", o.bitrate, "-maxrate", o.bitrate, "-bufsize", "1M",
		"-g", "50", "-pix_fmt", "yuv420p", "-profile:v", "main", "-c:a", "aac", "-b:a", "64k", "-ac", "2", src)
	if out, err := ff.CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	var results []result
	servers := []struct {
		name      string
		start     func() (*exec.Cmd, error)
		rtmp, flv string
	}{
		{"castd", func() (*exec.Cmd, error) { return startCastd(o) }, "rtmp://127.0.0.1:19351/live/bench", "http://127.0.0.1:18081/live/bench.flv"},
		{"nginx-rtmp", func() (*exec.Cmd, error) { return startNginx(o) }, "rtmp://127.0.0.1:19352/live/bench", ""},
	}
	for _, srv := range servers {
		for _, proto := range []string{"rtmp", "http-flv"} {
			url := srv.rtmp
			if proto == "http-flv" {
				if srv.flv == "" {
					continue
				}
				url = srv.flv
			}
			for _, n := range o.players {
				r, err := measure(o, srv.name, srv.start, srv.rtmp, url, proto, n, src)
				if err != nil {
					return fmt.Errorf("%s %s %d: %w", srv.name, proto, n, err)
				}
				log.Printf("%s %s n=%d: up %d, cpu %.3f s/s, rss %.1f MB, %.0f Mbps, latency p50 %.0f ms",
					r.server, r.protocol, n, r.up, r.cpu, r.rssMB, r.totalMbps, r.latP50)
				results = append(results, r)
			}
		}
	}
	return writeReport(o, results)
}

// measure starts a fresh server, publishes, plays n players and samples.
func measure(o options, name string, start func() (*exec.Cmd, error), pubURL, url, proto string, n int, src string) (result, error) {
	srv, err := start()
	if err != nil {
		return result{}, err
	}
	defer stop(srv)
	time.Sleep(500 * time.Millisecond)
	ramp := o.ramp
	if ramp == 0 {
		ramp = time.Duration(n/500+1) * time.Second
	}
	total := ramp + o.duration + 5*time.Second
	pub := exec.Command(o.castbench, "publish", "-i", src, "-u", pubURL, "-d", (total + 5*time.Second).String())
	if err := pub.Start(); err != nil {
		return result{}, err
	}
	defer stop(pub)
	time.Sleep(3 * time.Second) // a full GOP in the cache
	pids := serverPIDs(srv.Process.Pid)
	base := rssMB(pids)
	report := filepath.Join(o.work, fmt.Sprintf("%s-%s-%d.json", name, proto, n))
	rate := float64(n) / ramp.Seconds()
	play := exec.Command(o.castbench, "play", "-u", url, "-n", strconv.Itoa(n), "-r", fmt.Sprintf("%.0f", rate),
		"-d", (ramp + o.duration).String(), "--json", report)
	if err := play.Start(); err != nil {
		return result{}, err
	}
	// Measure the steady state: after the ramp, for the measured duration.
	time.Sleep(ramp + time.Second)
	pids = serverPIDs(srv.Process.Pid)
	cpu0, bench0, t0 := cpuSeconds(pids), cpuSeconds([]int{play.Process.Pid}), time.Now()
	time.Sleep(o.duration - time.Second)
	cpu1, bench1, t1 := cpuSeconds(pids), cpuSeconds([]int{play.Process.Pid}), time.Now()
	rss := rssMB(pids)
	if err := play.Wait(); err != nil {
		log.Printf("castbench play %s n=%d: %v (its report is still read)", name, n, err)
	}
	var rep struct {
		Play struct {
			Players struct{ Up, Failed int64 }
			TTFF    struct{ P50, P99 float64 } `json:"ttff_ms"`
			Latency struct{ P50, P99 float64 } `json:"latency_ms"`
			Bitrate struct {
				Total     float64
				PerPlayer struct{ P1, P50 float64 } `json:"per_player"`
			} `json:"bitrate_kbps"`
			Stalls struct{ Count int64 }
		}
	}
	b, err := os.ReadFile(report)
	if err != nil {
		return result{}, err
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return result{}, err
	}
	secs := t1.Sub(t0).Seconds()
	p := rep.Play
	return result{
		server: name, protocol: proto, players: n, up: p.Players.Up, failed: p.Players.Failed,
		cpu: (cpu1 - cpu0) / secs, benchCPU: (bench1 - bench0) / secs, rssMB: rss, baseMB: base,
		totalMbps: p.Bitrate.Total / 1000, p1Kbps: p.Bitrate.PerPlayer.P1, p50Kbps: p.Bitrate.PerPlayer.P50,
		latP50: p.Latency.P50, latP99: p.Latency.P99, ttffP50: p.TTFF.P50, ttffP99: p.TTFF.P99, stalls: p.Stalls.Count,
	}, nil
}

func startCastd(o options) (*exec.Cmd, error) {
	dir := filepath.Join(o.work, "castd")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := `listen 127.0.0.1:19351;
max_connections 10000;
daemon off;
srs_log_tank file;
srs_log_file ./castd.log;
srs_log_level_v2 warn;
pid ./castd.pid;
http_server { enabled on; listen 127.0.0.1:18081; dir .; }
vhost __defaultVhost__ { http_remux { enabled on; mount [vhost]/[app]/[stream].flv; } }
`
	if err := os.WriteFile(filepath.Join(dir, "castd.conf"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(o.castd, "-c", "castd.conf")
	cmd.Dir = dir
	return cmd, cmd.Start()
}

// startNginx runs nginx-rtmp with one worker (nginx-rtmp's live
// applications do not share streams across workers).
func startNginx(o options) (*exec.Cmd, error) {
	dir := filepath.Join(o.work, "nginx")
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	cfg := fmt.Sprintf(`load_module %s;
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log warn;
events { worker_connections 10000; }
rtmp {
    server {
        listen 127.0.0.1:19352;
        chunk_size 60000;
        application live { live on; }
    }
}
`, o.nginxModule, dir)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(o.nginx, "-p", dir, "-c", conf)
	return cmd, cmd.Start()
}

func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// serverPIDs is the process and its children (nginx's workers).
func serverPIDs(pid int) []int {
	pids := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			pids = append(pids, child)
		}
	}
	return pids
}

// cpuSeconds sums user+system CPU time of the processes.
func cpuSeconds(pids []int) float64 {
	var ticks float64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			s, _ := strconv.ParseFloat(f[12], 64)
			ticks += u + s
		}
	}
	return ticks / 100 // USER_HZ
}

// rssMB sums the resident set of the processes.
func rssMB(pids []int) float64 {
	var kb float64
	for _, pid := range pids {
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "VmRSS:") {
				v, _ := strconv.ParseFloat(strings.Fields(sc.Text())[1], 64)
				kb += v
			}
		}
		f.Close()
	}
	return kb / 1024
}

func machine(o options) string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	nginxV, _ := exec.Command("sh", "-c", "nginx -v 2>&1; dpkg-query -W -f='libnginx-mod-rtmp ${Version}' libnginx-mod-rtmp 2>/dev/null").Output()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	castdV, _ := exec.CommandContext(ctx, o.castd, "-v").Output()
	return fmt.Sprintf("%d CPUs (%s), Linux %s, %s; castd %s, %s, %s",
		runtime.NumCPU(), model, strings.TrimSpace(string(kernel)), runtime.Version(), strings.TrimSpace(string(castdV)),
		strings.ReplaceAll(strings.TrimSpace(string(nginxV)), "\n", ", "), "castbench (this repository)")
}
