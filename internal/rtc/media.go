package rtc

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Payload types castd registers, one per format from these on; an answer
// reuses the offer's numbers.
const (
	ptOpus = 111
	ptH264 = 102 // to 106
	ptH265 = 116 // and 117
	ptAV1  = 45
	ptVP9  = 98 // and 99
	ptVP8  = 96
)

// h264Profiles are the H.264 formats castd accepts, packetization mode 1
// (what browsers use; mode 0 has no FU-A): constrained baseline, baseline,
// main and high. castd does not transcode video, so a player gets the
// publisher's profile whatever was negotiated.
var h264Profiles = []string{"42e01f", "42001f", "4d001f", "640032", "64001f"}

// h264Fmtp is the fmtp line of a profile.
func h264Fmtp(profile string) string {
	return "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile
}

// h264Fmtps are the fmtp lines of h264Profiles.
func h264Fmtps() []string {
	out := make([]string, len(h264Profiles))
	for i, p := range h264Profiles {
		out[i] = h264Fmtp(p)
	}
	return out
}

// opusCodec and h264Codec are the codecs of castd's Opus and H.264 tracks.
var (
	opusCodec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: opusClockRate, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1"}
	h264Codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp("42e01f")}
)

// mediaSetup registers castd's codecs (Opus; H.264, H.265, AV1, VP9 and
// VP8, of which signalling keeps one in each answer) and the interceptors
// a vhost's rtc{} asks for: the counters always (first, next to the
// network), NACK generation and retransmission (nack), RTCP sender and
// receiver reports, and TWCC sequence numbers and feedback (twcc). PLI and
// FIR are always negotiated: players ask for keyframes and castd asks
// publishers.
// nackHistory is how many sent packets per stream a player can ask again.
const nackHistory = 512

func mediaSetup(o transportOptions) (*webrtc.MediaEngine, *interceptor.Registry, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: ptOpus}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, fmt.Errorf("rtc: register Opus: %w", err)
	}
	for _, vc := range videoCodecs {
		for i, fmtp := range vc.fmtps {
			c := webrtc.RTPCodecCapability{MimeType: vc.mime, ClockRate: 90000, SDPFmtpLine: fmtp}
			if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: c, PayloadType: vc.pt + webrtc.PayloadType(i)}, webrtc.RTPCodecTypeVideo); err != nil {
				return nil, nil, fmt.Errorf("rtc: register %s %q: %w", codecName(vc.codec), fmtp, err)
			}
		}
	}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.SDESMidURI}, k); err != nil {
			return nil, nil, fmt.Errorf("rtc: register the mid extension: %w", err)
		}
	}
	ir := &interceptor.Registry{}
	ir.Add(countingFactory{c: o.counters})
	me.RegisterFeedback(webrtc.RTCPFeedback{Type: "ccm", Parameter: "fir"}, webrtc.RTPCodecTypeVideo)
	if o.vhost.NACK {
		// nack and nack pli. The responder copies every packet it sends
		// into a history per stream (1024 packets by default, 1.6 MB per
		// player at 1 Mbps); 512 still covers 5 s at 1 Mbps, 1.3 s at 4.
		if err := webrtc.ConfigureNackWithOptions(me, ir, nil, nack.ResponderSize(nackHistory)); err != nil {
			return nil, nil, fmt.Errorf("rtc: NACK: %w", err)
		}
	} else {
		me.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, nil, fmt.Errorf("rtc: RTCP reports: %w", err)
	}
	if o.vhost.TWCC {
		if err := webrtc.ConfigureTWCCSender(me, ir); err != nil {
			return nil, nil, fmt.Errorf("rtc: TWCC feedback: %w", err)
		}
		ext, err := twcc.NewHeaderExtensionInterceptor()
		if err != nil {
			return nil, nil, fmt.Errorf("rtc: TWCC sequence numbers: %w", err)
		}
		ir.Add(ext)
	}
	return me, ir, nil
}
