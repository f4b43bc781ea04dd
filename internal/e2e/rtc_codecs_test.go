package e2e

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// codecMedia encodes 2 s of test video with ffmpeg for codec and returns
// its frames as a WebRTC sender takes them: VP9 frames, AV1 temporal
// units, H.265 access units in Annex B. bframes lets x265 use B-frames.
// A missing encoder skips the test, saying which.
func codecMedia(t *testing.T, codec av.Codec, bframes bool) [][]byte {
	t.Helper()
	ffmpeg := requireTool(t, "ffmpeg")
	encoders, err := exec.Command(ffmpeg, "-hide_banner", "-encoders").Output()
	if err != nil {
		t.Fatalf("ffmpeg -encoders: %v", err)
	}
	src := []string{"-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2", "-pix_fmt", "yuv420p"}
	file := filepath.Join(t.TempDir(), "v")
	var args []string
	var encoder string
	switch codec {
	case av.CodecVP9:
		encoder = "libvpx-vp9"
		args = []string{"-deadline", "realtime", "-cpu-used", "8", "-lag-in-frames", "0", "-b:v", "300k", "-g", "25", "-f", "ivf"}
	case av.CodecAV1:
		encoder = "libaom-av1"
		args = []string{"-usage", "realtime", "-cpu-used", "8", "-b:v", "300k", "-g", "25", "-f", "ivf"}
	case av.CodecH265:
		encoder = "libx265"
		params := "keyint=25:aud=1:repeat-headers=1:open-gop=0:log-level=error"
		if !bframes {
			params += ":bframes=0"
		}
		args = []string{"-preset", "ultrafast", "-x265-params", params, "-b:v", "300k", "-f", "hevc"}
	default:
		t.Fatalf("no test media for %s", codec)
	}
	if !strings.Contains(string(encoders), " "+encoder+" ") {
		t.Skipf("this ffmpeg has no %s encoder: the %s test needs it", encoder, codec)
	}
	cmd := append(append(src, "-c:v", encoder), append(args, file)...)
	if out, err := exec.Command(ffmpeg, cmd...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", encoder, err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if codec == av.CodecH265 {
		return hevcAccessUnits(t, b)
	}
	var frames [][]byte
	for p := 32; p+12 <= len(b); { // IVF: a 32-byte header, then 12-byte frame headers
		n := int(binary.LittleEndian.Uint32(b[p:]))
		if p+12+n > len(b) {
			t.Fatal("truncated IVF frame")
		}
		frames = append(frames, b[p+12:p+12+n])
		p += 12 + n
	}
	return frames
}

// hevcAccessUnits splits Annex B at its AUDs.
func hevcAccessUnits(t *testing.T, b []byte) [][]byte {
	t.Helper()
	nalus, err := av.SplitAnnexB(b)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][]byte
	var cur []byte
	for _, n := range nalus {
		if av.H265NALUType(n) == av.H265NALAUD && cur != nil {
			aus, cur = append(aus, cur), nil
		}
		cur = append(append(cur, 0, 0, 0, 1), n...)
	}
	return append(aus, cur)
}

var mimeOf = map[av.Codec]string{av.CodecVP9: webrtc.MimeTypeVP9, av.CodecAV1: webrtc.MimeTypeAV1, av.CodecH265: webrtc.MimeTypeH265}

// rtcPublishVideo sends frames in a loop at 25 fps over WHIP until ctx
// ends; a PLI makes it skip to the next key frame (every 25 frames).
func rtcPublishVideo(ctx context.Context, t *testing.T, url string, codec av.Codec, frames [][]byte) {
	t.Helper()
	pc := rtcPC(t)
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mimeOf[codec]}, "video", "pub")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	pli := false
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if _, ok := p.(*rtcp.PictureLossIndication); ok {
					mu.Lock()
					pli = true
					mu.Unlock()
				}
			}
		}
	}()
	whipTo(t, pc, url)
	go func() {
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			mu.Lock()
			if pli {
				pli, n = false, (n+24)/25*25
			}
			mu.Unlock()
			_ = track.WriteSample(media.Sample{Data: frames[n%len(frames)], Duration: 40 * time.Millisecond})
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

// TestRTCCodecsPlayedOverRTMP publishes H.265, AV1 and VP9 by WHIP and
// plays each stream with castd's RTMP client: the video must come as
// enhanced-RTMP tags av reads as the codec, a sequence header first, then
// a key frame, then frames.
func TestRTCCodecsPlayedOverRTMP(t *testing.T) {
	c := startCastd(t, rtcConf("", ""))
	for _, codec := range []av.Codec{av.CodecH265, av.CodecAV1, av.CodecVP9} {
		t.Run(codec.String(), func(t *testing.T) {
			frames := codecMedia(t, codec, false)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			name := "rtc-" + strings.ToLower(codec.String())
			rtcPublishVideo(ctx, t, c.apiURL("rtc/v1/whip/?app=live&stream="+name+"&codec="+map[av.Codec]string{
				av.CodecH265: "hevc", av.CodecAV1: "av1", av.CodecVP9: "vp9"}[codec]), codec, frames)
			c.waitPublished(t, name, 10*time.Second)
			cc := dialPlay(t, c, name)
			header, frames2 := false, 0
			for _, m := range readMedia(t, cc, 20, 10*time.Second) {
				if m.Type != rtmp.TypeVideo {
					continue
				}
				pkt, err := av.NewPacket(av.KindVideo, m.Timestamp, m.Payload)
				if err != nil || pkt.Codec != codec {
					t.Fatalf("RTMP video message %x: %+v, %v; want %s", m.Payload[:min(8, len(m.Payload))], pkt, err, codec)
				}
				tag, _ := pkt.VideoTag()
				switch {
				case !tag.Enhanced:
					t.Fatalf("a legacy %s tag; castd sends enhanced RTMP", codec)
				case pkt.SequenceHeader:
					if _, err := av.VideoInfoFromSequenceHeader(pkt); err != nil {
						t.Fatalf("sequence header: %v", err)
					}
					header = true
				case !header:
					t.Fatal("a frame before the sequence header")
				case frames2 == 0 && !pkt.Keyframe:
					t.Fatal("the first frame is no key frame")
				default:
					frames2++
				}
			}
			if frames2 < 10 {
				t.Fatalf("%d frames over RTMP", frames2)
			}
		})
	}
}

// hvcC builds an HEVCDecoderConfigurationRecord for the test publisher.
func hvcC(t *testing.T, vps, sps, pps []byte) []byte {
	t.Helper()
	s, err := av.ParseH265SPS(sps)
	if err != nil {
		t.Fatal(err)
	}
	rbsp := av.UnescapeRBSP(sps[2:])
	rec := append([]byte{1}, rbsp[1:13]...) // the SPS's general profile_tier_level
	rec = append(rec, 0xf0, 0, 0xfc, 0xfc|byte(s.ChromaFormatIDC), 0xf8|byte(s.BitDepthLuma-8), 0xf8|byte(s.BitDepthChroma-8),
		0, 0, byte(s.MaxSubLayers)<<3|(rbsp[0]&1)<<2|3, 3)
	for _, n := range [][]byte{vps, sps, pps} {
		rec = append(rec, 0x80|av.H265NALUType(n), 0, 1, byte(len(n)>>8), byte(len(n)))
		rec = append(rec, n...)
	}
	return rec
}

// TestRTMPPublishHEVCPlayedOverWHEP publishes enhanced-RTMP H.265 (with
// B-frames) with castd's RTMP client, plays it by WHEP with codec=hevc,
// and decodes what arrives with ffprobe.
func TestRTMPPublishHEVCPlayedOverWHEP(t *testing.T) {
	c := startCastd(t, rtcConf("rtmp_to_rtc on;", ""))
	aus := codecMedia(t, av.CodecH265, true)
	cc := dialPublish(t, c, "hevc", rtmp.ClientOptions{})
	var vps, sps, pps []byte
	bodies := make([][]byte, 0, len(aus))
	for _, au := range aus {
		nalus, err := av.SplitAnnexB(au)
		if err != nil {
			t.Fatal(err)
		}
		var keep [][]byte
		for _, n := range nalus {
			switch av.H265NALUType(n) {
			case av.H265NALVPS:
				vps = n
			case av.H265NALSPS:
				sps = n
			case av.H265NALPPS:
				pps = n
			case av.H265NALAUD:
			default:
				keep = append(keep, n)
			}
		}
		// CodedFramesX: no composition time (frames are sent in decoding
		// order; castd passes B-frames on as they are).
		head := byte(0x80 | 2<<4 | 3)
		if av.IsKeyframeNALUs(av.CodecH265, keep) {
			head = 0x80 | 1<<4 | 3
		}
		bodies = append(bodies, av.AppendAVCC(append([]byte{head}, "hvc1"...), keep...))
	}
	header := append([]byte{0x80 | 1<<4 | 0}, "hvc1"...)
	header = append(header, hvcC(t, vps, sps, pps)...)
	write(t, cc, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: header})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			if err := cc.WriteMedia([]rtmp.MediaMessage{{Type: rtmp.TypeVideo, Timestamp: uint32(n * 40), Payload: bodies[n%len(bodies)]}}); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	c.waitPublished(t, "hevc", 10*time.Second)

	pc := rtcPC(t)
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "got.hevc")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	samples, mime := 0, ""
	done := make(chan struct{})
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		defer close(done)
		mu.Lock()
		mime = track.Codec().MimeType
		mu.Unlock()
		sb := samplebuilder.New(128, markerTail{&codecs.H265Depacketizer{}}, 90000)
		for {
			p, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			sb.Push(p)
			for s := sb.Pop(); s != nil; s = sb.Pop() {
				mu.Lock()
				if _, err := out.Write(s.Data); err == nil {
					samples++
				}
				mu.Unlock()
			}
		}
	})
	whipTo(t, pc, c.apiURL("rtc/v1/whep/?app=live&stream=hevc&codec=hevc"))
	time.Sleep(3 * time.Second)
	_ = pc.Close()
	<-done
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.EqualFold(mime, webrtc.MimeTypeH265) || samples < 40 {
		t.Fatalf("the player got %d H.265 frames on a %q track in 3 s", samples, mime)
	}
	probe, err := exec.Command(requireTool(t, "ffprobe"), "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, probe)
	}
	fields := strings.Split(strings.TrimSpace(string(probe)), ",")
	n, _ := strconv.Atoi(fields[len(fields)-1])
	if fields[0] != "hevc" || fields[1] != "320" || fields[2] != "240" || n < samples-2 {
		t.Fatalf("ffprobe of what the player got: %q; want hevc 320x240 and about %d frames", probe, samples)
	}
	if out, err := exec.Command(requireTool(t, "ffmpeg"), "-hide_banner", "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("ffmpeg cannot decode what the player got cleanly: %v\n%s", err, out)
	}
}

// markerTail ends samples at the marker bit: pion's H.265 depacketizer
// also ends one at the end of every fragmented NAL unit.
type markerTail struct{ rtp.Depacketizer }

func (markerTail) IsPartitionTail(marker bool, _ []byte) bool { return marker }
