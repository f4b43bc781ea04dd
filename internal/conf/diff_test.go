package conf

import (
	"slices"
	"testing"
)

func TestDiffNothing(t *testing.T) {
	a := mustParse(t, "listen 1935;\n# a comment\nvhost v { hls { enabled on; } }")
	b := mustParse(t, "\n\nlisten 1935;\nvhost v {\n hls {\n  enabled on;\n  hls_fragment 10;\n }\n}")
	if ch := Diff(a, b); !ch.Empty() {
		t.Fatalf("moving lines and spelling out a default is no change: %+v", ch)
	}
}

func TestDiffVhosts(t *testing.T) {
	old := mustParse(t, base+`
vhost keep { play { gop_cache on; } }
vhost gone {}
vhost off.later {}
vhost on.later { enabled off; }
vhost both.off { enabled off; }
vhost edit {
    chunk_size 4096;
    play { gop_cache on; }
    hls { enabled off; }
    dvr { enabled on; dvr_apply all; }
    security { enabled on; allow play all; }
    ingest a { enabled on; input { url x.flv; } }
    cluster { origin_cluster off; coworkers 1.1.1.1:1985; }
}`)
	cur := mustParse(t, base+`
vhost new {}
vhost keep { play { gop_cache on; } }
vhost off.later { enabled off; }
vhost on.later {}
vhost both.off { enabled off; hls { enabled on; } }
vhost edit {
    chunk_size 8192;
    play { gop_cache off; }
    hls { enabled on; }
    dvr { enabled on; dvr_apply live/a; }
    security { enabled on; allow play 1.2.3.4; }
    ingest a { enabled on; input { url y.flv; } }
    cluster { origin_cluster on; coworkers 1.1.1.1:1985 2.2.2.2:1985; }
}`)
	ch := Diff(old, cur)
	if !slices.Equal(ch.VhostsAdded, []string{"new", "on.later"}) {
		t.Errorf("added %v", ch.VhostsAdded)
	}
	if !slices.Equal(ch.VhostsRemoved, []string{"off.later", "gone"}) {
		t.Errorf("removed %v", ch.VhostsRemoved)
	}
	if len(ch.VhostsChanged) != 1 || ch.VhostsChanged[0].Name != "edit" ||
		!slices.Equal(ch.VhostsChanged[0].Sections, []string{"chunk_size", "play", "cluster", "security", "hls", "ingest"}) {
		t.Errorf("changed %+v", ch.VhostsChanged)
	}
	if !slices.Equal(ch.NeedRestart, []string{"vhost edit: dvr.dvr_apply", "vhost edit: cluster.origin_cluster", "vhost edit: cluster.coworkers"}) {
		t.Errorf("restart %v", ch.NeedRestart)
	}
}

func TestDiffGlobal(t *testing.T) {
	old := mustParse(t, `listen 1935;
max_connections 1000;
pid ./objs/a.pid;
srs_log_level trace;
daemon on;
http_api { enabled on; listen 1985; }
http_server { enabled on; listen 8080; }
rtc_server { enabled off; }
srt_server { enabled on; listen 10080; }
vhost v {}`)
	cur := mustParse(t, `listen 1935 1936;
max_connections 2000;
pid ./objs/b.pid;
srs_log_level warn;
daemon off;
pithy_print_ms 5000;
http_api { enabled on; listen 8080; }
http_server { enabled on; listen 8080; }
rtc_server { enabled on; listen 8001; }
srt_server { enabled on; listen 10080; latency 200; }
vhost v {}`)
	ch := Diff(old, cur)
	var names []string
	for _, l := range ch.Listeners {
		names = append(names, l.Name)
	}
	if !slices.Equal(names, []string{"rtmp", "http_api", "rtc"}) {
		t.Fatalf("listeners %v", ch.Listeners)
	}
	api := ch.Listeners[1]
	if !slices.Equal(api.Old, []string{"1985"}) || api.New != nil {
		t.Errorf("API moved onto the HTTP server port: %+v", api)
	}
	if rtc := ch.Listeners[2]; rtc.Old != nil || !slices.Equal(rtc.New, []string{"8001"}) {
		t.Errorf("rtc %+v", rtc)
	}
	if !ch.MaxConnections {
		t.Error("max_connections")
	}
	if !slices.Equal(ch.NeedRestart, []string{"pid", "srs_log_level", "daemon"}) {
		t.Errorf("restart %v", ch.NeedRestart)
	}
	if !slices.Equal(ch.Sections, []string{"pithy_print_ms", "http_api", "rtc_server", "srt_server"}) {
		t.Errorf("sections %v", ch.Sections)
	}
}
