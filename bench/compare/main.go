// Command compare measures castd and nginx-rtmp side by side on one machine:
// the same ~1 Mbps H.264+AAC stream published to each, N RTMP players (and
// HTTP-FLV players for castd) from castbench, and each server's CPU seconds
// per second and RSS read from /proc. Then castd alone over WebRTC (which
// nginx-rtmp lacks): RTMP publish to N WHEP players, a step per N, and a
// WHIP publisher played over RTMP. It writes a markdown report.
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
	// The WebRTC steps: WHEP player counts (none: no WebRTC rows) and the
	// measured time of each.
	rtcPlayers  []int
	rtcDuration time.Duration
}

func main() {
	var o options
	var players, rtcPlayers string
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
	flag.StringVar(&rtcPlayers, "rtc-n", "50,100,200", "WHEP player counts of castd's WebRTC steps (\"\": no WebRTC rows)")
	flag.DurationVar(&o.rtcDuration, "rtc-d", 10*time.Second, "measured time per WebRTC step, after the ramp")
	flag.Parse()
	// The servers run in their own directories: make the paths absolute.
	for _, p := range []*string{&o.castd, &o.castbench} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			log.Fatal(err)
		}
		*p = abs
	}
	var err error
	if o.players, err = parseCounts(players); err != nil || len(o.players) == 0 {
		log.Fatalf("bad -n %q", players)
	}
	if o.rtcPlayers, err = parseCounts(rtcPlayers); err != nil {
		log.Fatalf("bad -rtc-n %q", rtcPlayers)
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

// parseCounts reads "100,500": positive numbers; "" is none.
func parseCounts(list string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad count %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Sections of the report a result belongs to.
const (
	sectionMain   = ""       // castd against nginx-rtmp, RTMP and HTTP-FLV players
	sectionWebRTC = "webrtc" // castd alone, WebRTC publishers or players
)

// result is one measured run.
type result struct {
	section                          string
	server, protocol                 string
	players                          int
	up, failed                       int64
	cpu                              float64 // server CPU seconds per second
	rssMB, baseMB                    float64
	totalMbps, p1Kbps, p50Kbps       float64
	latP50, latP99, ttffP50, ttffP99 float64
	stalls                           int64
	benchCPU                         float64 // castbench CPU seconds per second
	sourceKbps                       float64 // the published file's media bitrate, from the publisher's report
}

// step is one measured run: a fresh server, one publisher, n players.
type step struct {
	section, server, protocol string
	start                     func() (*exec.Cmd, error)
	pubURL, playURL, src      string
	players                   int
	duration, ramp            time.Duration
}

// encode makes a 30 s test file; extra are more x264 options.
func encode(o options, out string, extra ...string) error {
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "30", "-c:v", "libx264", "-preset", "veryfast", "-b:v", o.bitrate, "-maxrate", o.bitrate, "-bufsize", "1M",
		"-g", "50", "-pix_fmt", "yuv420p", "-profile:v", "main"}
	args = append(args, extra...)
	args = append(args, "-c:a", "aac", "-b:a", "64k", "-ac", "2", out)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	return nil
}

func run(o options) error {
	src := filepath.Join(o.work, "source.flv")
	log.Printf("making the test stream (%s video + 64k AAC, 2 s GOP)", o.bitrate)
	if err := encode(o, src); err != nil {
		return err
	}
	var results []result
	servers := []struct {
		name      string
		start     func() (*exec.Cmd, error)
		rtmp, flv string
	}{
		{"castd", func() (*exec.Cmd, error) { return startCastd(o, false) }, castdRTMP, "http://127.0.0.1:18081/live/bench.flv"},
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
				ramp := o.ramp
				if ramp == 0 {
					ramp = time.Duration(n/500+1) * time.Second
				}
				r, err := measure(o, step{section: sectionMain, server: srv.name, protocol: proto, start: srv.start,
					pubURL: srv.rtmp, playURL: url, src: src, players: n, duration: o.duration, ramp: ramp})
				if err != nil {
					return fmt.Errorf("%s %s %d: %w", srv.name, proto, n, err)
				}
				results = append(results, r)
			}
		}
	}
	if len(o.rtcPlayers) > 0 {
		rtc, err := runWebRTC(o)
		if err != nil {
			return err
		}
		results = append(results, rtc...)
	}
	return writeReport(o, results)
}

// castd's URLs in the comparison.
const (
	castdRTMP = "rtmp://127.0.0.1:19351/live/bench"
	castdWHEP = "webrtc://127.0.0.1:19853/live/bench" // WHEP at the HTTP API's port
	castdWHIP = "http://127.0.0.1:19853/rtc/v1/whip/?app=live&stream=bench"
)

// whipPlayers is how many RTMP players the WHIP publisher's row has: the
// row is about its latency, not about capacity.
const whipPlayers = 10

// whepRate is how many WHEP players start per second: each costs castd
// and castbench a DTLS handshake.
const whepRate = 50

// runWebRTC measures castd's WebRTC steps: RTMP publish, N WHEP players
// for each N (capacity at full bitrate, latency, time to first frame),
// then a WHIP publisher with RTMP players. WebRTC has no B-frames, so the
// file is encoded again without them (castd would drop them for WHEP
// players, and the bitrate with them).
func runWebRTC(o options) ([]result, error) {
	src := filepath.Join(o.work, "source-rtc.flv")
	log.Printf("making the WebRTC test stream (the same without B-frames)")
	if err := encode(o, src, "-bf", "0"); err != nil {
		return nil, err
	}
	start := func() (*exec.Cmd, error) { return startCastd(o, true) }
	var steps []step
	for _, n := range o.rtcPlayers {
		steps = append(steps, step{section: sectionWebRTC, server: "castd", protocol: "rtmp → webrtc (WHEP)", start: start,
			pubURL: castdRTMP, playURL: castdWHEP, src: src, players: n, duration: o.rtcDuration,
			ramp: time.Duration(n/whepRate+1) * time.Second})
	}
	steps = append(steps, step{section: sectionWebRTC, server: "castd", protocol: "webrtc (WHIP) → rtmp", start: start,
		pubURL: castdWHIP, playURL: castdRTMP, src: src, players: whipPlayers, duration: o.rtcDuration, ramp: time.Second})
	var results []result
	for _, st := range steps {
		r, err := measure(o, st)
		if err != nil {
			return nil, fmt.Errorf("castd %s %d: %w", st.protocol, st.players, err)
		}
		results = append(results, r)
	}
	return results, nil
}

// measure starts a fresh server, publishes, plays the step's players and
// samples.
func measure(o options, st step) (result, error) {
	srv, err := st.start()
	if err != nil {
		return result{}, err
	}
	defer stop(srv)
	time.Sleep(500 * time.Millisecond)
	n, ramp := st.players, st.ramp
	total := ramp + st.duration + 5*time.Second
	tag := fmt.Sprintf("%s-%s-%d", st.server, strings.NewReplacer(" ", "", "→", "-", "(", "", ")", "").Replace(st.protocol), n)
	pubReport := filepath.Join(o.work, tag+"-publish.json")
	pub := exec.Command(o.castbench, "publish", "-i", st.src, "-u", st.pubURL, "-d", (total + 5*time.Second).String(), "--json", pubReport)
	if err := pub.Start(); err != nil {
		return result{}, err
	}
	defer stop(pub)
	time.Sleep(3 * time.Second) // a full GOP in the cache
	pids := serverPIDs(srv.Process.Pid)
	base := rssMB(pids)
	report := filepath.Join(o.work, tag+".json")
	rate := float64(n) / ramp.Seconds()
	play := exec.Command(o.castbench, "play", "-u", st.playURL, "-n", strconv.Itoa(n), "-r", fmt.Sprintf("%.0f", rate),
		"-d", (ramp + st.duration).String(), "--json", report)
	if err := play.Start(); err != nil {
		return result{}, err
	}
	// Measure the steady state: after the ramp, for the measured duration.
	time.Sleep(ramp + time.Second)
	pids = serverPIDs(srv.Process.Pid)
	cpu0, bench0, t0 := cpuSeconds(pids), cpuSeconds([]int{play.Process.Pid}), time.Now()
	time.Sleep(st.duration - time.Second)
	cpu1, bench1, t1 := cpuSeconds(pids), cpuSeconds([]int{play.Process.Pid}), time.Now()
	rss := rssMB(pids)
	if err := play.Wait(); err != nil {
		log.Printf("castbench play %s %s n=%d: %v (its report is still read)", st.server, st.protocol, n, err)
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
	stop(pub) // it writes its report as it ends
	secs := t1.Sub(t0).Seconds()
	p := rep.Play
	r := result{
		section: st.section, server: st.server, protocol: st.protocol, players: n, up: p.Players.Up, failed: p.Players.Failed,
		cpu: (cpu1 - cpu0) / secs, benchCPU: (bench1 - bench0) / secs, rssMB: rss, baseMB: base,
		totalMbps: p.Bitrate.Total / 1000, p1Kbps: p.Bitrate.PerPlayer.P1, p50Kbps: p.Bitrate.PerPlayer.P50,
		latP50: p.Latency.P50, latP99: p.Latency.P99, ttffP50: p.TTFF.P50, ttffP99: p.TTFF.P99, stalls: p.Stalls.Count,
		sourceKbps: publishedKbps(pubReport),
	}
	log.Printf("%s %s n=%d: up %d, cpu %.3f s/s, rss %.1f MB, %.0f Mbps, latency p50 %.0f ms",
		r.server, r.protocol, n, r.up, r.cpu, r.rssMB, r.totalMbps, r.latP50)
	return r, nil
}

// publishedKbps reads the source's media bitrate from a publisher's
// report; 0 when there is none.
func publishedKbps(path string) float64 {
	var rep struct {
		Publish struct {
			Source struct {
				BitrateKbps float64 `json:"bitrate_kbps"`
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &rep) != nil {
		return 0
	}
	return rep.Publish.Source.BitrateKbps
}

// startCastd runs castd on its defaults; with webrtc, with the HTTP API
// (WHIP and WHEP at 19853) and WebRTC media on 18000/udp, and the RTMP and
// WebRTC bridges on (AAC and Opus transcoded both ways).
func startCastd(o options, webrtc bool) (*exec.Cmd, error) {
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
`
	if webrtc {
		cfg += `http_api { enabled on; listen 127.0.0.1:19853; }
rtc_server { enabled on; listen 18000; candidate 127.0.0.1; }
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
    rtc { enabled on; rtmp_to_rtc on; rtc_to_rtmp on; }
}
`
	} else {
		cfg += "vhost __defaultVhost__ { http_remux { enabled on; mount [vhost]/[app]/[stream].flv; } }\n"
	}
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
