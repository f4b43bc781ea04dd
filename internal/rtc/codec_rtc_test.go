package rtc

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
)

// codecParam is a codec's value for ?codec=.
func codecParam(c av.Codec) string {
	switch c {
	case av.CodecH265:
		return "hevc"
	case av.CodecAV1:
		return "av1"
	}
	return strings.ToLower(c.String())
}

// codecPublisher sends a codec's test video in a loop at 25 fps, as a
// browser would: pion packetizes it.
type codecPublisher struct {
	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticSample
	frames []testVideoFrame
	plis   atomic.Int64 // PLIs castd sent
}

func newCodecPublisher(t *testing.T, codec av.Codec) *codecPublisher {
	t.Helper()
	vc, _ := videoCodecOf(codec)
	p := &codecPublisher{pc: newClientPC(t), frames: testVideo(t, codec)}
	var err error
	if p.track, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: vc.mime, ClockRate: 90000}, "video", "test"); err != nil {
		t.Fatal(err)
	}
	sender, err := p.pc.AddTrack(p.track)
	if err != nil {
		t.Fatal(err)
	}
	go func() { // the interceptors work while RTCP is read
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				if _, ok := pk.(*rtcp.PictureLossIndication); ok {
					p.plis.Add(1)
				}
			}
		}
	}()
	return p
}

// onlyCodec makes the publisher offer its codec alone, as a browser
// that can encode nothing else does.
func (p *codecPublisher) onlyCodec(t *testing.T, mime string) {
	t.Helper()
	tr := p.pc.GetTransceivers()[0]
	var keep []webrtc.RTPCodecParameters
	for _, c := range tr.Sender().GetParameters().Codecs {
		if strings.EqualFold(c.MimeType, mime) {
			keep = append(keep, c)
		}
	}
	if err := tr.SetCodecPreferences(keep); err != nil {
		t.Fatal(err)
	}
}

// run sends frames until ctx ends; after a PLI it skips to the next key
// frame, as an encoder answers with one.
func (p *codecPublisher) run(ctx context.Context) {
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	var plis int64
	for n := 0; ; n++ {
		if got := p.plis.Load(); got != plis {
			plis, n = got, (n+24)/25*25
		}
		_ = p.track.WriteSample(media.Sample{Data: p.frames[n%len(p.frames)].data, Duration: 40 * time.Millisecond})
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// codecPlayer receives a stream and matches every frame pion's sample
// builder rebuilds against the test video.
type codecPlayer struct {
	pc    *webrtc.PeerConnection
	codec av.Codec

	mu        sync.Mutex
	mime      string
	frames    int
	keyframes int
	firstKey  bool
	unknown   int // frames that are no frame of the test video
}

func newCodecPlayer(t *testing.T, codec av.Codec) *codecPlayer {
	t.Helper()
	c, ok := codecCaseOf(codec)
	if !ok {
		t.Fatalf("no codec case for %s", codec)
	}
	p := &codecPlayer{pc: newClientPC(t), codec: codec}
	known := map[string]int{}
	for i, f := range testVideo(t, codec) {
		known[string(joinUnits(c.same(t, f.data)))] = i
	}
	if _, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	p.pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		p.mu.Lock()
		p.mime = track.Codec().MimeType
		p.mu.Unlock()
		sb := samplebuilder.New(64, c.depacketizer(), 90000)
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			sb.Push(pkt)
			for s := sb.Pop(); s != nil; s = sb.Pop() {
				q := &quietTB{TB: t} // not the test's goroutine: no FailNow here
				i, ok := known[string(joinUnits(c.same(q, s.Data)))]
				ok = ok && !q.failed
				p.mu.Lock()
				switch {
				case !ok:
					p.unknown++
				default:
					if p.frames == 0 {
						p.firstKey = i%25 == 0
					}
					p.frames++
					if i%25 == 0 {
						p.keyframes++
					}
				}
				p.mu.Unlock()
			}
		}
	})
	return p
}

// quietTB records a helper's fatal error instead of stopping the test,
// for goroutines other than the test's own.
type quietTB struct {
	testing.TB
	failed bool
}

func (q *quietTB) Helper()               {}
func (q *quietTB) Fatal(...any)          { q.failed = true }
func (q *quietTB) Fatalf(string, ...any) { q.failed = true }

func codecCaseOf(codec av.Codec) (codecCase, bool) {
	for _, c := range codecCases() {
		if c.codec == codec {
			return c, true
		}
	}
	return codecCase{}, false
}

// waitFrames waits for n frames of the test video, none corrupt.
func (p *codecPlayer) waitFrames(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p.mu.Lock()
		frames, unknown, firstKey, mime := p.frames, p.unknown, p.firstKey, p.mime
		p.mu.Unlock()
		if unknown > 0 {
			t.Fatalf("the player rebuilt %d frames that are not the publisher's", unknown)
		}
		if frames >= n {
			if !firstKey {
				t.Fatal("the player's first frame must be a key frame")
			}
			if vc, _ := videoCodecOf(p.codec); !strings.EqualFold(mime, vc.mime) {
				t.Fatalf("the player's track is %s, want %s", mime, vc.mime)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the player got %d frames in %v, want %d", frames, within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWHIPWHEPEachCodec publishes each codec's test video by WHIP and
// plays it by WHEP: the hub must hold enhanced-RTMP tags of the codec,
// starting at a key frame after its sequence header, and the player must
// get the publisher's frames unchanged. VP8 is offered alone without
// ?codec=; the others are picked with ?codec= from pion's full offer.
func TestWHIPWHEPEachCodec(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, codec := range []av.Codec{av.CodecVP8, av.CodecVP9, av.CodecAV1, av.CodecH265} {
		t.Run(codec.String(), func(t *testing.T) {
			t.Parallel() // one stream each
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pub := newCodecPublisher(t, codec)
			stream := "c-" + codecParam(codec)
			url := e.http.URL + "/rtc/v1/whip/?app=live&stream=" + stream
			if codec == av.CodecVP8 {
				pub.onlyCodec(t, webrtc.MimeTypeVP8)
			} else {
				url += "&codec=" + codecParam(codec)
			}
			whip(t, pub.pc, url)
			waitConnected(t, pub.pc)
			go pub.run(ctx)
			key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: stream}
			sn := waitPublishing(t, e.hub, key)
			if sn.VideoSH.Codec != codec || sn.Video == nil || sn.Video.Codec != codec {
				t.Fatalf("the stream's video is %v (%+v), want %s", sn.VideoSH.Codec, sn.Video, codec)
			}
			checkHubVideo(t, e.hub, key, codec)

			play := newCodecPlayer(t, codec)
			whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream="+stream)
			waitConnected(t, play.pc)
			play.waitFrames(t, 12, 10*time.Second)
		})
	}
}

// checkHubVideo reads the stream as an RTMP player would: a sequence
// header, then a key frame, then frames, all enhanced-RTMP tags of codec.
func checkHubVideo(t *testing.T, h *hub.Hub, key hub.Key, codec av.Codec) {
	t.Helper()
	v := h.Play(key, hub.ClientInfo{ID: "test", Protocol: "test"}, hub.StreamOptions{}, hub.ViewerOptions{})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	buf := make([]hub.Delivery, 16)
	frames, sawHeader := 0, false
	for frames < 5 {
		n, err := v.Read(ctx, buf)
		for _, d := range buf[:n] {
			if d.Packet.Kind != av.KindVideo {
				continue
			}
			tag, err := av.ParseFLVVideoTag(d.Packet.Payload)
			if err != nil || tag.Codec != codec || !tag.Enhanced {
				t.Fatalf("hub video tag %+v, %v; want an enhanced %s tag", tag, err, codec)
			}
			switch {
			case tag.IsSequenceHeader():
				sawHeader = true
			case !sawHeader:
				t.Fatal("a frame before the sequence header")
			case frames == 0 && !tag.IsKeyframe():
				t.Fatal("the first frame after the sequence header is no key frame")
			default:
				frames++
			}
		}
		if err != nil {
			t.Fatalf("read the hub after %d frames: %v", frames, err)
		}
	}
}

// postOffer posts an SDP offer and returns the status and body; a
// refused offer closes the connection without a response.
func postOffer(url, offer string) (int, string, error) {
	resp, err := http.Post(url, "application/sdp", strings.NewReader(offer))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// answerVideoCodecs lists the encoding names of an answer's video section.
func answerVideoCodecs(t *testing.T, answer string) []string {
	t.Helper()
	var s sdp.SessionDescription
	if err := s.UnmarshalString(answer); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range s.MediaDescriptions {
		if m.MediaName.Media != "video" {
			continue
		}
		for _, a := range m.Attributes {
			if a.Key == "rtpmap" {
				_, enc, _ := strings.Cut(a.Value, " ")
				name, _, _ := strings.Cut(enc, "/")
				names = append(names, name)
			}
		}
	}
	return names
}

// TestAnswerKeepsOneVideoCodec checks which codec the answer keeps:
// ?codec= when the offer has it, else castd's favourite, and refusals
// with a clear log line otherwise.
func TestAnswerKeepsOneVideoCodec(t *testing.T) {
	e := newTestEnv(t, nil)
	// A WebRTC-published VP8 stream, straight into the hub.
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "vp8"}
	pub, err := e.hub.Publish(key, hub.ClientInfo{ID: "p", Protocol: protocolRTC}, hub.DefaultStreamOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	header := exSequenceStart(fourCCVP8, vpConfig{level: 20, bitDepth: 8, primaries: 2, transfer: 2, matrix: 2}.record())
	pkt, err := av.NewPacket(av.KindVideo, 0, header)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Write(pkt); err != nil {
		t.Fatal(err)
	}

	sendOffer := func(t *testing.T, only string) string { // pion's full offer, or one codec alone
		p := newCodecPublisher(t, av.CodecVP8)
		if only != "" {
			p.onlyCodec(t, only)
		}
		return clientOffer(t, p.pc)
	}
	recvOffer := func(t *testing.T, only string) string {
		pc := newClientPC(t)
		tr, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			t.Fatal(err)
		}
		if only != "" {
			var keep []webrtc.RTPCodecParameters
			for _, c := range tr.Receiver().GetParameters().Codecs {
				if strings.EqualFold(c.MimeType, only) {
					keep = append(keep, c)
				}
			}
			if err := tr.SetCodecPreferences(keep); err != nil {
				t.Fatal(err)
			}
		}
		return clientOffer(t, pc)
	}
	cases := []struct {
		name   string
		url    string
		offer  func(*testing.T) string
		want   string // the answer's one video codec, "" for a refusal
		logHas string
	}{
		{"publish: H.264 by default", "/rtc/v1/whip/?stream=a", func(t *testing.T) string { return sendOffer(t, "") }, "H264", ""},
		{"publish: codec=vp9", "/rtc/v1/whip/?stream=b&codec=vp9", func(t *testing.T) string { return sendOffer(t, "") }, "VP9", ""},
		{"publish: codec=hevc", "/rtc/v1/whip/?stream=c&codec=hevc", func(t *testing.T) string { return sendOffer(t, "") }, "H265", ""},
		{"publish: codec=AV1", "/rtc/v1/whip/?stream=d&codec=AV1", func(t *testing.T) string { return sendOffer(t, "") }, "AV1", ""},
		{"publish: a VP8-only offer", "/rtc/v1/whip/?stream=e", func(t *testing.T) string { return sendOffer(t, webrtc.MimeTypeVP8) }, "VP8", ""},
		{"publish: codec=vp9 but VP8 offered", "/rtc/v1/whip/?stream=f&codec=vp9", func(t *testing.T) string { return sendOffer(t, webrtc.MimeTypeVP8) },
			"", "codec=vp9 was asked but the SDP offer has no VP9 (it offers VP8)"},
		{"publish: unknown codec", "/rtc/v1/whip/?stream=g&codec=theora", func(t *testing.T) string { return sendOffer(t, "") },
			"", `codec \"theora\" is not supported`},
		{"play: the live stream's codec", "/rtc/v1/whep/?stream=vp8", func(t *testing.T) string { return recvOffer(t, "") }, "VP8", ""},
		{"play: an offer without the stream's codec", "/rtc/v1/whep/?stream=vp8", func(t *testing.T) string { return recvOffer(t, webrtc.MimeTypeH264) },
			"", "the stream's video is VP8, which the player's SDP offer lacks (it offers H.264)"},
		{"play: codec= against the stream's", "/rtc/v1/whep/?stream=vp8&codec=h264", func(t *testing.T) string { return recvOffer(t, "") },
			"", "the stream's video is VP8 but codec=h264 was asked"},
		{"play: no stream yet, codec=av1", "/rtc/v1/whep/?stream=later&codec=av1", func(t *testing.T) string { return recvOffer(t, "") }, "AV1", ""},
		{"play: no stream yet, H.264 by default", "/rtc/v1/whep/?stream=later2", func(t *testing.T) string { return recvOffer(t, "") }, "H264", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, err := postOffer(e.http.URL+c.url, c.offer(t))
			if c.want == "" {
				if err == nil {
					t.Fatalf("offer accepted: %d %s", status, body)
				}
				waitFor(t, "the refusal in the log", func() bool { return strings.Contains(e.logs.String(), c.logHas) })
				return
			}
			if err != nil || status != http.StatusCreated {
				t.Fatalf("POST: %d %v %s\n%s", status, err, body, e.logs.String())
			}
			for _, name := range answerVideoCodecs(t, body) {
				if !strings.EqualFold(name, c.want) {
					t.Fatalf("the answer's video codecs are %v, want %s alone", answerVideoCodecs(t, body), c.want)
				}
			}
			if len(answerVideoCodecs(t, body)) == 0 {
				t.Fatal("the answer has no video codec")
			}
		})
	}
}

// TestPLIReachesEachCodecsPublisher checks that pli_for_rtmp asks the
// publisher of every codec for key frames.
func TestPLIReachesEachCodecsPublisher(t *testing.T) {
	e := newTestEnv(t, func(_ *conf.RTCServer, v *Vhost) { v.RTC.PLIForRTMP = 300 * time.Millisecond })
	for _, codec := range []av.Codec{av.CodecVP8, av.CodecVP9, av.CodecAV1, av.CodecH265} {
		t.Run(codec.String(), func(t *testing.T) {
			t.Parallel()
			pub := newCodecPublisher(t, codec)
			whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=pli-"+codecParam(codec)+"&codec="+codecParam(codec))
			waitConnected(t, pub.pc)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go pub.run(ctx)
			// One PLI when the track starts, then one every pli_for_rtmp.
			start := pub.plis.Load()
			waitFor(t, codec.String()+" PLIs", func() bool { return pub.plis.Load() >= start+2 })
		})
	}
}
