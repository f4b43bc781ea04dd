package rtcpub

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/source"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/transcode"
)

// Media is what a run's WebRTC publishers send, prepared once and shared
// (read-only) by all of them.
type Media struct {
	// Source is the loop to pace: the file's H.264 frames and video
	// sequence headers and, when HasAudio, its audio as Opus packets
	// (audio frames whose Data is one Opus packet, not an FLV tag body),
	// in time order, with the file's Period. Start holds the video
	// sequence headers that precede the first frame.
	Source   *source.Source
	HasAudio bool
	// Audio says what the publishers send as audio, for the report:
	// "opus, transcoded from AAC at 64 kbps", "opus, as in the file", or
	// "none: " and why.
	Audio string
}

// NewTranscoder makes the AAC to Opus transcoder: transcode.NewAACToOpus,
// or a fake in tests.
type NewTranscoder func(asc []byte, bitrate int) (transcode.Transcoder, error)

// Prepare builds the Media of a source whose video is H.264. AAC audio is
// transcoded to Opus here, once (newTC nil uses transcode.NewAACToOpus);
// when that is impossible (a build without libavcodec, another audio
// codec), the publishers send video only and Audio says why.
func Prepare(src *source.Source, newTC NewTranscoder) (*Media, error) {
	if src.VideoCodec != av.CodecH264 {
		return nil, fmt.Errorf("rtcpub: WebRTC publishers send H.264; the file's video is %s", src.VideoCodec)
	}
	if newTC == nil {
		newTC = transcode.NewAACToOpus
	}
	m := &Media{}
	audio, note := opusLoop(src, newTC)
	m.Audio, m.HasAudio = note, len(audio) > 0
	m.Source = buildLoop(src, audio)
	return m, nil
}

// opusFrame is one Opus packet of the loop and its time in the loop.
type opusFrame struct {
	at   time.Duration
	data []byte
}

// opusLoop returns the loop's audio as Opus, and what it is for the report.
func opusLoop(src *source.Source, newTC NewTranscoder) ([]opusFrame, string) {
	codec, asc, loopBytes := audioFacts(src)
	switch codec {
	case av.CodecUnknown:
		return nil, "none: the file has no audio"
	case av.CodecOpus:
		frames := passThrough(src)
		if len(frames) == 0 {
			return nil, "none: the file's Opus track has no packets"
		}
		return frames, "opus, as in the file"
	case av.CodecAAC:
	default:
		return nil, fmt.Sprintf("none: WebRTC carries Opus and the file's audio is %s", codec)
	}
	if asc == nil {
		return nil, "none: the file's AAC has no AudioSpecificConfig"
	}
	bitrate := opusBitrate(loopBytes, src.Period)
	tc, err := newTC(asc, bitrate)
	if errors.Is(err, transcode.ErrUnavailable) {
		// Its message speaks of castd, whose transcoder it is.
		return nil, "none: this build of castbench cannot transcode AAC to Opus (" + err.Error() + ")"
	}
	if err != nil {
		return nil, "none: " + err.Error()
	}
	frames, err := transcodeLoop(src, tc)
	if cerr := tc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, "none: " + err.Error()
	}
	return frames, fmt.Sprintf("opus, transcoded from AAC at %d kbps", bitrate/1000)
}

// audioFacts returns the codec of the file's first audio tag, the AAC
// AudioSpecificConfig (nil when none), and the bytes of coded audio in
// one loop.
func audioFacts(src *source.Source) (codec av.Codec, asc []byte, loopBytes int) {
	for _, frames := range [][]source.Frame{src.Start, src.Frames} {
		for _, f := range frames {
			if f.Type != flv.TagAudio {
				continue
			}
			t, err := av.ParseFLVAudioTag(f.Data)
			if err != nil || t.PayloadOffset > len(f.Data) {
				continue // source.Load has parsed every tag: not reached
			}
			if codec == av.CodecUnknown {
				codec = t.Codec
			}
			switch {
			case t.Codec != codec:
			case t.IsSequenceHeader():
				if asc == nil && t.Codec == av.CodecAAC {
					asc = f.Data[t.PayloadOffset:]
				}
			case t.PacketType == av.AudioPacketCodedFrames:
				loopBytes += len(f.Data) - t.PayloadOffset
			}
		}
	}
	return codec, asc, loopBytes
}

// opusBitrate is the bitrate of the file's audio, rounded to kbps and
// within what the encoder takes, so the publishers send about what the
// file holds.
func opusBitrate(loopBytes int, period time.Duration) int {
	if period <= 0 || loopBytes == 0 {
		return transcode.DefaultBitrate
	}
	bps := math.Round(float64(loopBytes)*8/period.Seconds()/1000) * 1000
	return int(min(max(bps, transcode.MinBitrate), transcode.MaxBitrate))
}

// codedAudio calls fn with each coded audio frame of the loop: its time
// and its codec data (the tag body after its header).
func codedAudio(src *source.Source, fn func(at time.Duration, data []byte) error) error {
	for _, f := range src.Frames {
		if f.Type != flv.TagAudio {
			continue
		}
		t, err := av.ParseFLVAudioTag(f.Data)
		if err != nil || t.PayloadOffset >= len(f.Data) || t.PacketType != av.AudioPacketCodedFrames || t.IsSequenceHeader() {
			continue
		}
		if err := fn(f.At, f.Data[t.PayloadOffset:]); err != nil {
			return err
		}
	}
	return nil
}

// passThrough returns the Opus packets of a file with Opus audio.
func passThrough(src *source.Source) []opusFrame {
	var out []opusFrame
	_ = codedAudio(src, func(at time.Duration, data []byte) error {
		out = append(out, opusFrame{at: at, data: data})
		return nil
	})
	return out
}

// tailFeed is how much of a third loop transcodeLoop feeds, so the
// encoder's delay does not cut the end of the second.
const tailFeed = 500 * time.Millisecond

// transcodeLoop turns the loop's AAC into Opus. The transcoder gets the
// loop twice (and the start of a third), with timestamps that keep going,
// and the Opus frames of the second pass are kept: they join up at the
// loop's ends as the audio does, without the encoder's start-up and the
// samples it holds back at the end. Corrupt AAC frames are skipped, as the
// transcoder does; an error means no frame at all came out.
func transcodeLoop(src *source.Source, tc transcode.Transcoder) ([]opusFrame, error) {
	var out []opusFrame
	var firstErr error
	period := src.Period
	for loop := range 3 {
		base := time.Duration(loop) * period
		err := codedAudio(src, func(at time.Duration, data []byte) error {
			if loop == 2 && at >= tailFeed {
				return errStopFeeding
			}
			frames, err := tc.Write(data, base+at)
			if err != nil {
				firstErr = keepFirst(firstErr, err)
				return nil
			}
			for _, f := range frames {
				if f.PTS >= period && f.PTS < 2*period {
					out = append(out, opusFrame{at: f.PTS - period, data: slices.Clone(f.Data)})
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopFeeding) {
			return nil, err
		}
	}
	if len(out) == 0 {
		if firstErr == nil {
			firstErr = errors.New("no Opus frame came out of the transcoder")
		}
		return nil, fmt.Errorf("rtcpub: transcode AAC to Opus: %w", firstErr)
	}
	return out, nil
}

var errStopFeeding = errors.New("enough fed")

// keepFirst keeps the first error.
func keepFirst(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// buildLoop makes the loop the publishers pace: the video frames as in
// src, the Opus frames in place of its audio, in time order (a stable sort
// keeps the video's decode order).
func buildLoop(src *source.Source, audio []opusFrame) *source.Source {
	out := &source.Source{
		Name: src.Name, Header: src.Header, Period: src.Period,
		VideoCodec: src.VideoCodec, NALULengthSize: src.NALULengthSize,
	}
	for _, f := range src.Start {
		if f.Type == flv.TagVideo {
			out.Start = append(out.Start, f)
		}
	}
	frames := make([]source.Frame, 0, len(src.Frames)+len(audio))
	for _, f := range src.Frames {
		if f.Type == flv.TagVideo {
			frames = append(frames, f)
			out.LoopBytes += int64(len(f.Data))
		}
	}
	for _, a := range audio {
		frames = append(frames, source.Frame{Type: flv.TagAudio, At: a.at, Data: a.data})
		out.LoopBytes += int64(len(a.data))
	}
	slices.SortStableFunc(frames, func(a, b source.Frame) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	out.Frames = frames
	return out
}
