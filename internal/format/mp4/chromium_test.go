package mp4

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestChromiumMSE loads init and media segments into Media Source Extensions
// of headless Chromium, and the progressive and fragmented DVR files into a
// <video>, and checks that Chromium accepts and buffers them. Skipped when
// Chromium is not installed.
func TestChromiumMSE(t *testing.T) {
	requireFFmpeg(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	dir := t.TempDir()
	type mseCase struct {
		Name     string   `json:"name"`
		MIME     string   `json:"mime"`
		Files    []string `json:"files"`
		Optional bool     `json:"optional"` // not in every Chromium build: logged only
	}
	var cases []mseCase
	var files []string // progressive and fragmented files for <video>
	addSegments := func(name, mediaType string, m *media, idx ...int) {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		var codecs []string
		for _, i := range idx {
			c, err := m.tracks[i].CodecString()
			if err != nil {
				t.Fatal(err)
			}
			codecs = append(codecs, c)
		}
		var rel []string
		for _, f := range writeSegments(t, m, d, idx...) {
			rel = append(rel, name+"/"+filepath.Base(f))
		}
		cases = append(cases, mseCase{Name: name, MIME: fmt.Sprintf(`%s/mp4; codecs="%s"`, mediaType, strings.Join(codecs, ",")), Files: rel})
	}

	aac := flvCases[0] // H.264 with B-frames and AAC
	m := mediaFromFLV(t, makeFLV(t, dir, aac))
	addSegments("h264_aac_muxed", "video", m, 0, 1)
	addSegments("h264_alone", "video", m, 0)
	addSegments("aac_alone", "audio", m, 1)
	writeProgressive(t, m, filepath.Join(dir, "prog.mp4"))
	writeFragmented(t, m, filepath.Join(dir, "frag.mp4"), time.Second)
	files = append(files, "prog.mp4", "frag.mp4")

	mp3 := mediaFromFLV(t, makeFLV(t, dir, flvCases[1]))
	addSegments("mp3_alone", "audio", mp3, 1)
	cases[len(cases)-1].Optional = true // Chromium's MSE takes MP3 only as audio/mpeg, not in MP4
	writeProgressive(t, mp3, filepath.Join(dir, "prog_mp3.mp4"))
	files = append(files, "prog_mp3.mp4")

	src := filepath.Join(dir, "av1.mp4")
	runFFmpeg(t, append(lavfiInputs(true, false, 0), "-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-g", "25", src)...)
	addSegments("av1_alone", "video", mediaFromPackets(t, ertmpPacketsFromMP4(t, src, "av01", false)), 0)
	src = filepath.Join(dir, "hevc.mp4")
	runFFmpeg(t, append(lavfiInputs(true, false, 0), "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1", src)...)
	addSegments("hevc_alone", "video", mediaFromPackets(t, ertmpPacketsFromMP4(t, src, "hvc1", false)), 0)
	cases[len(cases)-1].Optional = true

	type result struct {
		Name      string  `json:"name"`
		Supported bool    `json:"supported"`
		Error     string  `json:"error"`
		Buffered  float64 `json:"buffered"` // seconds buffered
		Duration  float64 `json:"duration"`
		Width     int     `json:"width"`
	}
	results := make(chan []result, 1)
	mux := http.NewServeMux()
	mux.Handle("/media/", http.StripPrefix("/media/", http.FileServer(http.Dir(dir))))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		caseJSON, _ := json.Marshal(cases)
		fileJSON, _ := json.Marshal(files)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, msePage, caseJSON, fileJSON)
	})
	mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
		var rs []result
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &rs); err != nil {
			t.Errorf("result %q: %v", body, err)
		}
		select {
		case results <- rs:
		default:
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
		"--autoplay-policy=no-user-gesture-required", "--user-data-dir="+filepath.Join(dir, "profile"),
		"http://"+ln.Addr().String()+"/")
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Skipf("chromium does not start: %v", err)
	}
	defer func() {
		killProcessGroup(cmd)
		_ = cmd.Wait()
	}()
	var rs []result
	select {
	case rs = <-results:
	case <-time.After(60 * time.Second):
		t.Fatal("no result from Chromium within 60 s")
	}
	for _, r := range rs {
		t.Logf("%+v", r)
		optional := false
		for _, c := range cases {
			if c.Name == r.Name {
				optional = c.Optional
			}
		}
		switch {
		case optional:
		case !r.Supported || r.Error != "":
			t.Errorf("%s: supported %v, error %q", r.Name, r.Supported, r.Error)
		case r.Buffered < 1.9 || r.Buffered > 2.2:
			t.Errorf("%s: %.3f s buffered, want about 2", r.Name, r.Buffered)
		case strings.HasSuffix(r.Name, ".mp4") && r.Name != "prog_mp3.mp4" && r.Width != 160:
			t.Errorf("%s: width %d", r.Name, r.Width)
		}
	}
	if len(rs) != len(cases)+len(files) {
		t.Errorf("%d results for %d cases", len(rs), len(cases)+len(files))
	}
}

// msePage appends each case's segments to a SourceBuffer, then loads each
// file in a <video> and lets it play through, and posts what happened.
const msePage = `<!doctype html><html><body><script>
const cases = %s, files = %s;
function once(target, ok, bad) {
  return new Promise((resolve, reject) => {
    target.addEventListener(ok, resolve, {once: true});
    if (bad) target.addEventListener(bad, () => reject(new Error(bad + ": " + (target.error ? target.error.message : ""))), {once: true});
  });
}
function bufferedSeconds(ranges) {
  let s = 0;
  for (let i = 0; i < ranges.length; i++) s += ranges.end(i) - ranges.start(i);
  return s;
}
async function mse(c) {
  const r = {name: c.name, supported: MediaSource.isTypeSupported(c.mime)};
  if (!r.supported) return r;
  try {
    const ms = new MediaSource(), video = document.createElement("video");
    video.src = URL.createObjectURL(ms);
    await once(ms, "sourceopen");
    const sb = ms.addSourceBuffer(c.mime);
    for (const f of c.files) {
      const data = await (await fetch("/media/" + f)).arrayBuffer();
      sb.appendBuffer(data);
      await once(sb, "updateend", "error");
    }
    r.buffered = bufferedSeconds(sb.buffered);
    r.width = video.videoWidth;
  } catch (e) { r.error = String(e); }
  return r;
}
async function file(f) {
  const r = {name: f, supported: true};
  try {
    const video = document.createElement("video");
    video.muted = true;
    video.src = "/media/" + f;
    await once(video, "loadedmetadata", "error");
    r.duration = video.duration;
    r.width = video.videoWidth;
    video.playbackRate = 16;
    video.play();
    await Promise.race([once(video, "ended", "error"), new Promise(res => setTimeout(res, 5000))]);
    if (!video.ended) r.error = "did not play to the end (at " + video.currentTime + " s)";
    r.buffered = bufferedSeconds(video.buffered);
  } catch (e) { r.error = String(e); }
  return r;
}
(async () => {
  const out = [];
  for (const c of cases) out.push(await mse(c));
  for (const f of files) out.push(await file(f));
  await fetch("/result", {method: "POST", body: JSON.stringify(out)});
})();
</script></body></html>`
