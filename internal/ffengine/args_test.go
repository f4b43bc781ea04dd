package ffengine

import (
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
)

// engineFrom parses a vhost whose transcode block holds one engine.
func engineFrom(t *testing.T, body string) *conf.Engine {
	t.Helper()
	text := "listen 1935;\nvhost v { transcode live { enabled on; ffmpeg ./objs/ffmpeg; engine e { enabled on; " + body + " } } }\n"
	cfg, err := conf.Parse("t.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg.Vhost("v").Transcodes[0].Engines[0]
}

func TestArgs(t *testing.T) {
	const in = "rtmp://127.0.0.1:1935/live?vhost=v/s"
	const out = "rtmp://127.0.0.1:1935/live?vhost=v/s_e"
	tests := []struct {
		name   string
		engine string // engine body; "" with copy set means no engine
		copy   bool
		input  string
		iparam []string
		ofmt   string // Job.OFormat
		want   string // argv after "ff", joined by spaces
	}{
		{
			name: "full.conf example",
			engine: `vfilter { i ./doc/ffmpeg-logo.png; filter_complex 'overlay=10:10'; }
				vcodec libx264; vbitrate 1500; vfps 25; vwidth 768; vheight 320; vthreads 12;
				vprofile main; vpreset medium; vparams { t 100; coder 1; b_strategy 2; bf 3; refs 10; }
				acodec libfdk_aac; abitrate 70; asample_rate 44100; achannels 2; aparams { profile:a aac_low; }
				output x;`,
			want: "-f flv -i " + in + " -i ./doc/ffmpeg-logo.png -filter_complex overlay=10:10 -vcodec libx264 -b:v 1500000 -r 25.00 " +
				"-s 768x320 -aspect 768:320 -threads 12 -profile:v main -preset medium -t 100 -coder 1 -b_strategy 2 -bf 3 -refs 10 " +
				"-acodec libfdk_aac -b:a 70000 -ar 44100 -ac 2 -profile:a aac_low -f flv -y " + out,
		},
		{
			name:   "perfile and loglevel before the input",
			engine: `perfile { re; rtsp_transport tcp; } iformat flv; vcodec copy; acodec copy; oformat flv; output x;`,
			iparam: []string{"-loglevel", "warning"},
			want:   "-loglevel warning -re -rtsp_transport tcp -f flv -i " + in + " -vcodec copy -acodec copy -f flv -y " + out,
		},
		{
			name:   "copy skips the codec options",
			engine: `vcodec copy; vbitrate 300; vwidth 320; vheight 240; vprofile main; vparams { bf 0; } acodec copy; abitrate 45; aparams { profile:a aac_low; } output x;`,
			want:   "-f flv -i " + in + " -vcodec copy -acodec copy -f flv -y " + out,
		},
		{
			name:   "audio copy keeps aac_adtstoasc only",
			engine: `vcodec copy; acodec copy; aparams { bsf:a aac_adtstoasc; ar 8000; } output x;`,
			want:   "-f flv -i " + in + " -vcodec copy -acodec copy -bsf:a aac_adtstoasc -f flv -y " + out,
		},
		{
			name:   "vn keeps audio only",
			engine: `vcodec vn; vbitrate 800; acodec libfdk_aac; abitrate 45; asample_rate 44100; achannels 2; output x;`,
			want:   "-f flv -i " + in + " -vn -acodec libfdk_aac -b:a 45000 -ar 44100 -ac 2 -f flv -y " + out,
		},
		{
			name:   "an keeps video only; odd size rounded to even",
			engine: `vcodec libx264; vbitrate 300; vfps 29.97; vwidth 321; vheight 241; vthreads 2; acodec an; abitrate 45; output x;`,
			want:   "-f flv -i " + in + " -vcodec libx264 -b:v 300000 -r 29.97 -s 320x240 -aspect 320:240 -threads 2 -an -f flv -y " + out,
		},
		{
			name:   "png snapshots",
			engine: `iformat flv; vfilter { vf fps=1; } vcodec png; vparams { vframes 6; } acodec an; oformat image2; output x;`,
			want:   "-f flv -i " + in + " -vf fps=1 -vcodec png -threads 1 -vframes 6 -an -f image2 -y " + out,
		},
		{
			name:   "non-rtmp input drops iformat",
			engine: `iformat flv; vcodec copy; acodec copy; output x;`,
			input:  "udp://127.0.0.1:2222",
			want:   "-i udp://127.0.0.1:2222 -vcodec copy -acodec copy -f flv -y " + out,
		},
		{
			name:   "oformat off",
			engine: `iformat off; vcodec copy; acodec copy; oformat off; output x;`,
			want:   "-i " + in + " -vcodec copy -acodec copy -y " + out,
		},
		{
			name:   "ingest copy with -re",
			copy:   true,
			input:  "./doc/source.flv",
			iparam: []string{"-loglevel", "info", "-re"},
			ofmt:   "flv",
			want:   "-loglevel info -re -i ./doc/source.flv -vcodec copy -acodec copy -f flv -y " + out,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := Job{FFmpeg: "ff", Input: in, Output: out, InputParams: tt.iparam, Copy: tt.copy, OFormat: tt.ofmt}
			if tt.input != "" {
				j.Input = tt.input
			}
			if tt.engine != "" {
				j.Engine = engineFrom(t, tt.engine)
			}
			got, err := Args(j)
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != "ff" {
				t.Fatalf("argv[0] = %q", got[0])
			}
			if g := strings.Join(got[1:], " "); g != tt.want {
				t.Errorf("args\n got %s\nwant %s", g, tt.want)
			}
		})
	}
}

func TestArgsErrors(t *testing.T) {
	tests := []struct {
		name string
		job  Job
	}{
		{"no binary", Job{Input: "i", Output: "o"}},
		{"no output", Job{FFmpeg: "ff", Input: "i"}},
		{"vn and an", Job{FFmpeg: "ff", Input: "i", Output: "o", Engine: &conf.Engine{VCodec: "vn", ACodec: "an"}}},
		{"negative bitrate", Job{FFmpeg: "ff", Input: "i", Output: "o", Engine: &conf.Engine{VCodec: "libx264", VBitrate: -1, ACodec: "copy"}}},
		{"three channels", Job{FFmpeg: "ff", Input: "i", Output: "o", Engine: &conf.Engine{VCodec: "copy", ACodec: "aac", AChannels: 3}}},
	}
	for _, tt := range tests {
		if _, err := Args(tt.job); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestOutputURL(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 5, 9, 0, time.UTC)
	tests := []struct {
		tmpl string
		v    Vars
		want string
	}{
		{"rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine]",
			Vars{Vhost: "v.com", App: "live", Stream: "s", Engine: "ff", Port: 1936},
			"rtmp://127.0.0.1:1936/live?vhost=v.com/s_ff"},
		{"rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine]",
			Vars{Vhost: "__defaultVhost__", App: "live", Stream: "s", Engine: "ff", Port: 1935},
			"rtmp://127.0.0.1:1935/live/s_ff"},
		{"rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]?vhost=[vhost]",
			Vars{Vhost: "__defaultVhost__", App: "live", Stream: "s", Engine: "hd", Port: 1935},
			"rtmp://127.0.0.1:1935/live/s_hd"},
		{"rtmp://127.0.0.1:[port]/[app]/[stream]_[engine][param]",
			Vars{Vhost: "v", App: "live", Stream: "s", Engine: "sd", Param: "?token=1", Port: 19350},
			"rtmp://127.0.0.1:19350/live/s_sd?token=1"},
		{"./objs/nginx/html/[app]/[stream]_[engine]-%d.png", Vars{App: "live", Stream: "s", Engine: "snap"},
			"./objs/nginx/html/live/s_snap-%d.png"},
		{"rtmp://h/[app]/[stream]-[2006][01][02]", Vars{App: "a", Stream: "s"}, "rtmp://h/a/s-20261124"},
	}
	for _, tt := range tests {
		if got := OutputURL(tt.tmpl, tt.v, now); got != tt.want {
			t.Errorf("OutputURL(%q) = %q, want %q", tt.tmpl, got, tt.want)
		}
	}
}

func TestLocalInputAndLogFile(t *testing.T) {
	if got, want := LocalInput("127.0.0.1", 1935, "v.com", "live", "s"), "rtmp://127.0.0.1:1935/live?vhost=v.com/s"; got != want {
		t.Errorf("LocalInput = %q, want %q", got, want)
	}
	if got, want := LocalInput("127.0.0.1", 19350, "__defaultVhost__", "live", "s"), "rtmp://127.0.0.1:19350/live/s"; got != want {
		t.Errorf("LocalInput = %q, want %q", got, want)
	}
	if got, want := LogFile("./objs", "ffmpeg-encoder", "v", "live", "s", "e"), "objs/ffmpeg-encoder-v-live-s-e.log"; got != want {
		t.Errorf("LogFile = %q, want %q", got, want)
	}
	if got, want := LogFile("/tmp", "ffmpeg-ingest", "v", "live", "../../s"), "/tmp/ffmpeg-ingest-v-live-.._.._s.log"; got != want {
		t.Errorf("LogFile = %q, want %q", got, want)
	}
	if got := LogFile("/dev/null", "ffmpeg-encoder", "v"); got != "" {
		t.Errorf("LogFile(/dev/null) = %q, want off", got)
	}
}
