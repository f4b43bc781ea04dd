package conf

import (
	"reflect"
	"testing"
	"time"
)

// TestDefaults checks SRS's code defaults (spec §1.4) on a config that sets
// nothing. reflect.DeepEqual is fine in tests; only the package avoids it.
func TestDefaults(t *testing.T) {
	c := mustParse(t, "listen 1935;\nvhost v {}\n")
	got := *c
	got.Root, got.Vhosts = nil, nil
	want := Config{
		File:                   "test.conf",
		Listen:                 []string{"1935"},
		PID:                    "./objs/srs.pid",
		ChunkSize:              60000,
		FFLogDir:               "./objs",
		FFLogLevel:             "info",
		LogTank:                "file",
		LogLevel:               "trace",
		LogLevelV2:             "",
		LogFile:                "./objs/srs.log",
		MaxConnections:         1000,
		Daemon:                 true,
		UTCTime:                false,
		PithyPrint:             10 * time.Second,
		WorkDir:                "./",
		GraceStartWait:         2300 * time.Millisecond,
		GraceFinalWait:         3200 * time.Millisecond,
		EmptyIPOK:              true,
		DisableDaemonForDocker: true,
		AutoReloadForDocker:    true,
		TCMallocReleaseRate:    0.8,
		FirstWaitForQLV:        5 * time.Minute,
		ThreadsInterval:        5 * time.Second,
		HTTPAPI: HTTPAPI{Listen: "1985", Crossdomain: true,
			HTTPS: HTTPS{Listen: "1990", Key: "./conf/server.key", Cert: "./conf/server.crt"}},
		HTTPServer: HTTPServer{Listen: "8080", Listens: []string{"8080"}, Dir: "./objs/nginx/html", Crossdomain: true,
			HTTPS: HTTPS{Listen: "8088", Key: "./conf/server.key", Cert: "./conf/server.crt"}},
		SRTServer: SRTServer{Listen: 10080, MaxBW: -1, MSS: 1500, ConnectTimeout: 3 * time.Second,
			PeerIdleTimeout: 10 * time.Second, DefaultApp: "live", RecvLatency: 120 * time.Millisecond,
			Latency: 120 * time.Millisecond, TSBPDMode: true, TLPktDrop: true, SendBuf: 8192 * 1472,
			RecvBuf: 8192 * 1472, PayloadSize: 1316, SEIFilter: true},
		Heartbeat: Heartbeat{Interval: 10 * time.Second, URL: "http://127.0.0.1:8085/api/v1/servers"},
		Stats:     Stats{Enabled: true},
		Exporter:  Exporter{Listen: "9972"},
	}
	want.RTCServer = RTCServer{Listen: 8000, Protocol: "udp", Candidate: "*", UseAutoDetectNetworkIP: true,
		IPFamily: "ipv4", APIAsCandidates: true, ResolveAPIDomain: true, ECDSA: true, Encrypt: true, ReusePort: 1}
	want.RTCServer.TCP.Listen = 8000
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("global defaults\n got %+v\nwant %+v", got, want)
	}

	v := c.Vhost("v")
	wantV := Vhost{
		Name: "v", Directive: v.Directive, Enabled: true, ChunkSize: 60000, OutAckSize: 2500000,
		Play: Play{GopCache: true, GopCacheMaxFrames: 2500, QueueLength: 30 * time.Second, TimeJitter: JitterFull,
			MWLatency: 350 * time.Millisecond, MWMsgs: 8},
		Publish: Publish{MRLatency: 350 * time.Millisecond, FirstPktTimeout: 20 * time.Second,
			NormalTimeout: 5 * time.Second, ParseSPS: true, TryAnnexbFirst: true},
		Cluster: Cluster{Mode: "local", Vhost: "[vhost]", DebugSRSUpnode: true, Protocol: "rtmp"},
		HLS: HLS{Fragment: 10 * time.Second, TDRatio: 1.0, AOFRatio: 2.1, Window: 60 * time.Second,
			OnError: "continue", Path: "./objs/nginx/html", M3U8File: "[app]/[stream].m3u8",
			TSFile: "[app]/[stream]-[seq].ts", ACodec: "aac", VCodec: "h264", Cleanup: true,
			Dispose: 120 * time.Second, WaitKeyframe: true, NbNotify: 64, Ctx: true, TSCtx: true,
			FragmentsPerKey: 5, KeyFile: "[app]/[stream]-[seq].key", KeyFilePath: "./objs/nginx/html",
			KeyURL: "./objs/nginx/html", DTSDirectly: true},
		HDS: HDS{Path: "./objs/nginx/html", Fragment: 10 * time.Second, Window: 60 * time.Second},
		DASH: DASH{Fragment: 10 * time.Second, UpdatePeriod: 5 * time.Second, Timeshift: 300 * time.Second,
			Path: "./objs/nginx/html", MPDFile: "[app]/[stream].mpd", WindowSize: 5, Cleanup: true,
			Dispose: 120 * time.Second},
		DVR: DVR{Apply: []string{"all"}, Plan: "session", Path: "./objs/nginx/html/[app]/[stream].[timestamp].flv",
			Duration: 30 * time.Second, WaitKeyframe: true, TimeJitter: JitterFull,
			Upload: DVRUpload{Region: "us-east-1", PathStyle: true}},
		HTTPRemux:  HTTPRemux{Mount: "[vhost]/[app]/[stream].flv", DropIfNotMatch: true, HasAudio: true, HasVideo: true, GuessHasAV: true},
		HTTPStatic: HTTPStatic{Mount: "[vhost]/", Dir: "./objs/nginx/html"},
		RTC: VhostRTC{NACK: true, NACKNoCopy: true, TWCC: true, STUNTimeout: 30 * time.Second,
			DTLSRole: "passive", DTLSVersion: "auto", KeepAVCNaluSEI: true, OpusBitrate: 48000,
			PLIForRTMP: 6 * time.Second, AACBitrate: 48000, MinLatency: true, MWMsgs: 0},
		SRT: VhostSRT{SRTToRTMP: true},
	}
	if !reflect.DeepEqual(*v, wantV) {
		t.Fatalf("vhost defaults\n got %+v\nwant %+v", *v, wantV)
	}
	if len(c.Warnings) != 0 || len(c.Env) != 0 {
		t.Fatalf("warnings %q env %v", c.Warnings, c.Env)
	}
}

func TestEngineDefaults(t *testing.T) {
	c := mustParse(t, base+"vhost v { transcode live/cam { engine { } } ingest in { engine sd { } } }")
	tr := c.Vhost("v").Transcodes[0]
	want := Engine{IFormat: "flv", VThreads: 1, OFormat: "flv"}
	if tr.Scope != "live/cam" || !reflect.DeepEqual(*tr.Engines[0], want) {
		t.Fatalf("transcode %q engine %+v", tr.Scope, *tr.Engines[0])
	}
	in := c.Vhost("v").Ingests[0]
	want.Name = "sd"
	if in.ID != "in" || in.InputType != "file" || !reflect.DeepEqual(*in.Engines[0], want) {
		t.Fatalf("ingest %+v engine %+v", in, *in.Engines[0])
	}
}

func TestStreamCasterDefaults(t *testing.T) {
	c := mustParse(t, base+"stream_caster { caster gb28181; listen 9000; }\nstream_caster { enabled on; caster flv; listen 8936; }")
	if len(c.StreamCasters) != 2 {
		t.Fatalf("%d casters", len(c.StreamCasters))
	}
	gb := c.StreamCasters[0]
	if gb.Enabled || gb.Caster != "gb28181" || gb.Listen != 9000 ||
		gb.SIP != (SIP{Enabled: true, Listen: 5060, Timeout: 60 * time.Second, Reinvite: 5 * time.Second, Candidate: "*"}) {
		t.Fatalf("gb caster %+v", gb)
	}
	if !c.StreamCasters[1].Enabled || c.StreamCasters[1].Directive.Line != 3 {
		t.Fatalf("flv caster %+v", c.StreamCasters[1])
	}
}

func TestVhostLookup(t *testing.T) {
	c := mustParse(t, base+"vhost a.com {}\nvhost __defaultVhost__ {}\nvhost b.com { enabled off; }")
	if c.Vhost("a.com").Name != "a.com" || c.Vhost("x.com").Name != DefaultVhost || c.Vhost("b.com").Enabled {
		t.Fatal("Vhost lookup")
	}
	c = mustParse(t, base+"vhost a.com {}")
	if c.Vhost("x.com") != nil {
		t.Fatal("no default vhost must give nil")
	}
}

func TestServerIDFile(t *testing.T) {
	for in, want := range map[string]string{
		"./objs/srs.pid": "./objs/srs.id",
		"/run/castd":     "/run/castd.id",
		"a.pid.pid":      "a.id.id",
	} {
		if got := ServerIDFile(in); got != want {
			t.Errorf("ServerIDFile(%q) = %q, want %q", in, got, want)
		}
	}
}
