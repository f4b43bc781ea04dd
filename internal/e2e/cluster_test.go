package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// edgeConf is an edge of origins with the HTTP-FLV mount on, so both RTMP
// and HTTP-FLV players can pull through it; cluster is the cluster{} body.
func edgeConf(cluster string) string {
	return `
listen 127.0.0.1:{{rtmp}};
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
http_api { enabled on; listen 127.0.0.1:{{api}}; }
vhost __defaultVhost__ {
    cluster { mode remote; ` + cluster + ` }
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
}
`
}

// probeH264AAC fails unless url plays H.264 video and AAC audio.
func probeH264AAC(t *testing.T, url string) {
	t.Helper()
	r := ffprobe(t, url, 0)
	v, okV := r.stream("video")
	a, okA := r.stream("audio")
	if !okV || !okA || r.Streams[v].CodecName != "h264" || r.Streams[a].CodecName != "aac" {
		t.Fatalf("%s plays %+v, want h264 and aac", url, r.Streams)
	}
}

// TestEdgePullsFromOrigin: players of an edge, over RTMP and HTTP-FLV, get
// the stream published on the origin; a player that comes before the
// publisher waits for it; the pull stops when the last player leaves.
func TestEdgePullsFromOrigin(t *testing.T) {
	origin := startCastd(t, defaultConf)
	edge := startCastd(t, edgeConf(fmt.Sprintf("origin 127.0.0.1:%d;", origin.rtmp)))

	// The first player comes before anything is published.
	early := make(chan error, 1)
	go func() {
		cc, err := rtmp.Dial(context.Background(), edge.rtmpURL("live"), rtmp.ClientOptions{})
		if err == nil {
			defer cc.Close()
			err = cc.Play(context.Background(), "pulled?token=t1")
		}
		if err == nil {
			_ = cc.NetConn().SetReadDeadline(time.Now().Add(15 * time.Second))
			for err == nil {
				var m *rtmp.Message
				if m, err = cc.ReadMessage(); err == nil && m.Type == rtmp.TypeVideo {
					break
				}
			}
		}
		early <- err
	}()
	edge.waitLog(t, "edge: pull start", 5*time.Second)
	edge.waitLog(t, "edge: pulling", 5*time.Second)
	ffmpegPublish(t, origin.rtmpURL("live/pulled"), 8*time.Second)
	if err := <-early; err != nil {
		t.Fatalf("the player that waited on the edge: %v", err)
	}
	if !strings.Contains(edge.logs.String(), fmt.Sprintf("rtmp://127.0.0.1:%d/live/pulled?token=t1", origin.rtmp)) {
		t.Errorf("the edge did not pull with the player's param")
	}
	probeH264AAC(t, edge.rtmpURL("live/pulled"))
	probeH264AAC(t, edge.httpURL("live/pulled.flv"))
	// The origin sees one player per pull, named by the edge's debug args.
	origin.waitLog(t, "rtmp: upstream server", 0)

	edge.waitLog(t, "edge: pull stop, no player left", 5*time.Second)
	edge.waitPublishing(t, liveKey("pulled"), false, 2*time.Second)
}

// TestEdgePushesToOrigin: a stream published on the edge reaches the
// origin, whose players get it; edge players get it too.
func TestEdgePushesToOrigin(t *testing.T) {
	origin := startCastd(t, defaultConf)
	edge := startCastd(t, edgeConf(fmt.Sprintf("origin 127.0.0.1:%d;", origin.rtmp)))
	ffmpegPublish(t, edge.rtmpURL("live/pushed?k=v"), 8*time.Second)
	origin.waitPublishing(t, liveKey("pushed"), true, 10*time.Second)
	edge.waitLog(t, "edge: pushing to origin", time.Second)
	if !strings.Contains(edge.logs.String(), fmt.Sprintf("rtmp://127.0.0.1:%d/live/pushed?k=v", origin.rtmp)) {
		t.Errorf("the edge did not push with the publisher's param")
	}
	probeH264AAC(t, origin.rtmpURL("live/pushed"))
	probeH264AAC(t, edge.httpURL("live/pushed.flv"))
}

// TestEdgePushWithoutOriginEndsPublisher: when no origin takes the push,
// the edge ends the publisher, as SRS does, instead of keeping a stream
// nobody upstream can see.
func TestEdgePushWithoutOriginEndsPublisher(t *testing.T) {
	edge := startCastd(t, edgeConf(fmt.Sprintf("origin 127.0.0.1:%d;", freePort(t))))
	pub := ffmpegPublish(t, edge.rtmpURL("live/lost"), 20*time.Second)
	edge.waitLog(t, "edge: no origin accepted the push; ending the publisher", 10*time.Second)
	select {
	case <-pub.done:
	case <-time.After(10 * time.Second):
		t.Fatal("ffmpeg still publishes to the edge")
	}
}

// TestEdgeFailsOverAndPullsHTTPFLV: with protocol flv the edge pulls the
// origin's HTTP-FLV; the first origin is down, so it moves to the next.
func TestEdgeFailsOverAndPullsHTTPFLV(t *testing.T) {
	origin := startCastd(t, defaultConf)
	edge := startCastd(t, edgeConf(fmt.Sprintf("origin 127.0.0.1:%d 127.0.0.1:%d; protocol flv;", freePort(t), origin.http)))
	ffmpegPublish(t, origin.rtmpURL("live/viaflv"), 12*time.Second)
	origin.waitPublishing(t, liveKey("viaflv"), true, 10*time.Second)
	probeH264AAC(t, edge.rtmpURL("live/viaflv"))
	logs := edge.logs.String()
	if !strings.Contains(logs, "edge: pull failed; next origin") ||
		!strings.Contains(logs, fmt.Sprintf("http://127.0.0.1:%d/live/viaflv.flv", origin.http)) {
		t.Errorf("no failover to the HTTP-FLV origin in the edge log")
	}
}

// originClusterConf is an origin of an origin cluster whose coworkers are
// the given API endpoints.
func originClusterConf(coworkers ...string) string {
	return `
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
vhost __defaultVhost__ {
    cluster { origin_cluster on; coworkers ` + strings.Join(coworkers, " ") + `; }
}
`
}

// TestOriginClusterRedirects: an origin asked for a stream another origin
// of the cluster publishes answers with an RTMP 302 to it; an edge in front
// follows the 302, so ffprobe on the edge plays the stream; a stream no
// origin publishes is refused.
func TestOriginClusterRedirects(t *testing.T) {
	apiA, apiB := freePort(t), freePort(t)
	cw := fmt.Sprintf("127.0.0.1:%d 127.0.0.1:%d", apiA, apiB)
	a := startCastd(t, strings.Replace(originClusterConf(cw), "{{api}}", fmt.Sprint(apiA), 1))
	b := startCastd(t, strings.Replace(originClusterConf(cw), "{{api}}", fmt.Sprint(apiB), 1))
	ffmpegPublish(t, a.rtmpURL("live/oc"), 10*time.Second)
	a.waitPublishing(t, liveKey("oc"), true, 10*time.Second)

	cc, err := rtmp.Dial(context.Background(), b.rtmpURL("live"), rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = cc.Play(context.Background(), "oc?t=1")
	cc.Close()
	st, ok := rtmp.IsStatusError(err)
	if !ok {
		t.Fatalf("play on B: %v, want an RTMP 302", err)
	}
	if _, url, ok := st.Redirect(); !ok || url != fmt.Sprintf("rtmp://127.0.0.1:%d/live/oc?t=1", a.rtmp) {
		t.Fatalf("302 to %q (%v), want A's URL", url, st)
	}

	edge := startCastd(t, edgeConf(fmt.Sprintf("origin 127.0.0.1:%d;", b.rtmp)))
	probeH264AAC(t, edge.rtmpURL("live/oc"))
	edge.waitLog(t, "edge: origin redirects (RTMP 302)", 0)

	cc, err = rtmp.Dial(context.Background(), b.rtmpURL("live"), rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	err = cc.Play(context.Background(), "nobody")
	if st, ok := rtmp.IsStatusError(err); !ok || !strings.Contains(st.Description, "3092") {
		t.Fatalf("play of a stream no origin has: %v, want a refusal with 3092", err)
	}
}

// TestEdgeTokenTraverse: the edge replays each client's connect to the
// origin, and refuses the clients the origin refuses (here: an unknown
// vhost, for an origin without a default vhost).
func TestEdgeTokenTraverse(t *testing.T) {
	origin := startCastd(t, "listen 127.0.0.1:{{rtmp}};\nvhost good.test {}\n")
	edge := startCastd(t, edgeConf(fmt.Sprintf("origin 127.0.0.1:%d; token_traverse on;", origin.rtmp)))
	play := func(tc string) error {
		cc, err := rtmp.Dial(context.Background(), edge.rtmpURL(tc), rtmp.ClientOptions{})
		if err != nil {
			return err
		}
		defer cc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return cc.Play(ctx, "tt")
	}
	if err := play("live?vhost=bad.test"); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a client the origin refuses: %v, want a refusal", err)
	}
	edge.waitLog(t, "token traverse: origin", time.Second)
	// Accepted: the play then waits for a stream, which is no error here.
	if err := play("live?vhost=good.test"); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a client the origin accepts: %v", err)
	}
}
