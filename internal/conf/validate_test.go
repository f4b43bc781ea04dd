package conf

import (
	"strings"
	"testing"
)

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty file", "", "test.conf: config is empty"},
		{"comments only", "# nothing\n", "test.conf: config is empty"},
		{"unknown root", base + "listen2 1935;", `test.conf:2: illegal directive "listen2" in the root`},
		{"unknown vhost child", base + "vhost v {\n  hlss {}\n}", `test.conf:3: illegal directive "hlss" in vhost`},
		{"unknown deep", base + "vhost v {\n hls {\n  hls_fragmnt 5;\n }\n}", `test.conf:4: illegal directive "hls_fragmnt" in vhost.hls`},
		{"unknown engine field", base + "vhost v { transcode live { engine e { vcodecs x; } } }", `illegal directive "vcodecs" in vhost.transcode.engine`},
		{"unknown in http_api", base + "http_api { raw_api { allow_all on; } }", `illegal directive "allow_all" in http_api.raw_api`},
		{"unknown in sip", base + "stream_caster { caster gb28181; sip { foo 1; } }", `illegal directive "foo" in stream_caster.sip`},
		{"leaf with block", base + "vhost v { play { gop_cache { } } }", "vhost.play.gop_cache takes no block"},
		{"v7 rtmp block unknown in v6", base + "rtmp { listen 1935; }", `illegal directive "rtmp" in the root`},
		{"include kept out of registry", base + "vhost v { includes x; }", `illegal directive "includes" in vhost`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("test.conf", []byte(tt.in), Options{})
			wantErr(t, err, tt.want)
		})
	}
}

func TestValidationAcceptsFreeFormBlocks(t *testing.T) {
	c := mustParse(t, base+`vhost v {
    transcode live {
        engine e {
            perfile { re; }
            vfilter { i ./logo.png; filter_complex "overlay=10:10"; }
            vparams { t 100; coder 1; -x264opts "keyint=25"; }
            aparams { profile:a aac_low; }
        }
    }
}`)
	e := c.Vhost("v").Transcodes[0].Engines[0]
	if got := strings.Join(e.VParams, " "); got != "-t 100 -coder 1 -x264opts keyint=25" {
		t.Fatalf("vparams = %q", got)
	}
	if got := strings.Join(e.Perfile, " "); got != "-re" {
		t.Fatalf("perfile = %q", got)
	}
	if got := strings.Join(e.VFilter, " "); got != "-i ./logo.png -filter_complex overlay=10:10" {
		t.Fatalf("vfilter = %q", got)
	}
}

func TestDuplicatesFirstWins(t *testing.T) {
	c := mustParse(t, "listen 1935;\nlisten 1936;\nmax_connections 10;\nmax_connections 20;\nvhost v { chunk_size 4096; chunk_size 8192; }\nvhost v { chunk_size 128; }\n")
	if len(c.Listen) != 1 || c.Listen[0] != "1935" || c.MaxConnections != 10 {
		t.Fatalf("first must win: listen %v max %d", c.Listen, c.MaxConnections)
	}
	if len(c.Vhosts) != 1 || c.Vhost("v").ChunkSize != 4096 {
		t.Fatalf("duplicate vhost or chunk_size: %d vhosts, chunk %d", len(c.Vhosts), c.Vhost("v").ChunkSize)
	}
	joined := strings.Join(c.Warnings, "\n")
	for _, w := range []string{
		"test.conf:2: duplicate listen ignored; the one at test.conf:1 is used",
		"test.conf:4: duplicate max_connections ignored",
		"duplicate vhost.chunk_size ignored",
		"test.conf:6: duplicate vhost v ignored; the one at test.conf:5 is used",
	} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings lack %q:\n%s", w, joined)
		}
	}
	// Repeatable directives give no warnings.
	c = mustParse(t, base+"vhost a {} vhost b { security { allow play all; allow play 1.2.3.4; } }")
	if len(c.Warnings) != 0 {
		t.Fatalf("unexpected warnings %q", c.Warnings)
	}
}

func TestBlockArgumentsWarn(t *testing.T) {
	c := mustParse(t, base+"vhost v { hls on { enabled on; } }")
	if !strings.Contains(strings.Join(c.Warnings, "\n"), "arguments of vhost.hls are ignored") {
		t.Fatalf("warnings = %q", c.Warnings)
	}
	if !c.Vhost("v").HLS.Enabled {
		t.Fatal("block content lost")
	}
}
