package rtcpub

import (
	"fmt"
	"math/rand/v2"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/castd/castd/internal/bench/source"
	"github.com/castd/castd/internal/format/flv"
)

// RTP facts of what the publishers send.
const (
	// MTU bounds an RTP payload, as pion's and browsers' packetizers do.
	MTU           = 1200
	videoClock    = 90 // RTP ticks per millisecond (90 kHz)
	opusClock     = 48 // 48 kHz
	rtpVersion    = 2
	maxFrameBytes = 8 << 20 // a larger access unit is the file's fault
)

// RTPWriter takes a publisher's RTP packets: a pion TrackLocalStaticRTP,
// which sets the SSRC and payload type it negotiated.
type RTPWriter interface {
	WriteRTP(p *rtp.Packet) error
}

// Sender turns a publisher's paced frames into RTP: H.264 access units in
// Annex B through pion's payloader (FU-A, STAP-A for the parameter sets),
// Opus packets one per RTP packet. RTP timestamps come from the frames'
// stream timestamps, which keep increasing across loops: 90 kHz video at
// the presentation time, 48 kHz audio; sequence numbers and timestamps
// start at random values, as RFC 3550 asks. A Sender belongs to one
// goroutine; its buffers are reused from frame to frame.
type Sender struct {
	video, audio RTPWriter // audio nil: video only
	lengthSize   int
	params       ParamSets
	payloader    codecs.H264Payloader
	annexB       []byte
	pkt          rtp.Packet
	vseq, aseq   uint16
	vbase, abase uint32
}

// NewSender returns a Sender writing to video and, unless it is nil, audio.
// lengthSize is the NALU length size of the source's AVC configuration.
func NewSender(video, audio RTPWriter, lengthSize int) *Sender {
	return &Sender{
		video: video, audio: audio, lengthSize: lengthSize,
		vseq: uint16(rand.Uint32()), aseq: uint16(rand.Uint32()),
		vbase: rand.Uint32(), abase: rand.Uint32(),
	}
}

// Send writes a batch of frames; payloads[i] is what to send of batch[i]
// (the stamped copy of a video frame). Video sequence headers update the
// parameter sets and send nothing. It returns the frames sent and their
// RTP payload bytes.
func (s *Sender) Send(batch []source.Timed, payloads [][]byte) (frames, bytes int, err error) {
	for i, f := range batch {
		var n int
		switch {
		case f.Type == flv.TagVideo && f.Video.IsSequenceHeader():
			if err := s.params.Update(payloads[i], f.Video); err != nil {
				return frames, bytes, err
			}
			continue
		case f.Type == flv.TagVideo:
			if n, err = s.sendVideo(f, payloads[i]); err != nil {
				return frames, bytes, err
			}
		case f.Type == flv.TagAudio && s.audio != nil:
			if n, err = s.sendAudio(f.Timestamp, payloads[i]); err != nil {
				return frames, bytes, err
			}
		default:
			continue
		}
		frames++
		bytes += n
	}
	return frames, bytes, nil
}

// sendVideo packetizes one access unit; the last packet has the marker.
func (s *Sender) sendVideo(f source.Timed, body []byte) (int, error) {
	if !f.Stampable {
		return 0, nil // not H.264 coded frames: nothing a WebRTC player decodes
	}
	var err error
	if s.annexB, err = AppendAnnexB(s.annexB[:0], body, f.Video, s.lengthSize, s.params); err != nil {
		return 0, err
	}
	if len(s.annexB) > maxFrameBytes {
		return 0, fmt.Errorf("rtcpub: an access unit of %d bytes", len(s.annexB))
	}
	// The presentation time, modulo 2^32 as RTP timestamps are: the
	// composition offset may be negative.
	ts := s.vbase + (f.Timestamp+uint32(f.Video.CompositionTime))*videoClock
	payloads := s.payloader.Payload(MTU, s.annexB)
	bytes := 0
	for i, p := range payloads {
		s.pkt.Header = rtp.Header{Version: rtpVersion, Marker: i == len(payloads)-1, SequenceNumber: s.vseq, Timestamp: ts}
		s.pkt.Payload = p
		s.vseq++
		if err := s.video.WriteRTP(&s.pkt); err != nil {
			return bytes, fmt.Errorf("rtcpub: write video RTP: %w", err)
		}
		bytes += len(p)
	}
	return bytes, nil
}

// sendAudio sends one Opus packet.
func (s *Sender) sendAudio(timestamp uint32, opus []byte) (int, error) {
	s.pkt.Header = rtp.Header{Version: rtpVersion, SequenceNumber: s.aseq, Timestamp: s.abase + timestamp*opusClock}
	s.pkt.Payload = opus
	s.aseq++
	if err := s.audio.WriteRTP(&s.pkt); err != nil {
		return 0, fmt.Errorf("rtcpub: write audio RTP: %w", err)
	}
	return len(opus), nil
}
