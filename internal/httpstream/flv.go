package httpstream

import (
	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
)

// tagFraming is an FLV tag header plus the PreviousTagSize that follows the body.
const tagFraming = flv.TagHeaderSize + 4

// flvWriter turns a viewer's deliveries into FLV tags on a live response.
// Payloads are shared with every other viewer and written in place; only the
// 15 bytes of framing per tag are this viewer's own.
type flvWriter struct {
	resp       *httpx.LiveResponse
	remux      Remux
	headerSent bool
	hasAudio   bool
	hasVideo   bool
	framing    []byte
	parts      [][]byte
	header     []byte
}

func newFLVWriter(resp *httpx.LiveResponse, remux Remux) *flvWriter {
	return &flvWriter{
		resp: resp, remux: remux,
		framing: make([]byte, maxBatch*tagFraming),
		parts:   make([][]byte, 0, maxBatch*3+1),
	}
}

// decideHeader sets the FLV header's audio/video flags, as SRS: from the
// config, or with guess_has_av from what the first batch carries (a kind
// that only sent a sequence header while the other sent frames is dropped).
func (f *flvWriter) decideHeader(ds []hub.Delivery) {
	f.hasAudio, f.hasVideo = f.remux.HasAudio, f.remux.HasVideo
	if !f.remux.GuessHasAV {
		return
	}
	var audio, video, audioFrames, videoFrames int
	for _, d := range ds {
		switch d.Packet.Kind {
		case av.KindAudio:
			audio++
			if !d.Packet.SequenceHeader {
				audioFrames++
			}
		case av.KindVideo:
			video++
			if !d.Packet.SequenceHeader {
				videoFrames++
			}
		}
	}
	if audio+video == 0 {
		return // nothing to guess from yet: keep the configured flags
	}
	f.hasAudio, f.hasVideo = audio > 0, video > 0
	if audioFrames > 0 && videoFrames == 0 {
		f.hasVideo = false
	}
	if videoFrames > 0 && audioFrames == 0 {
		f.hasAudio = false
	}
}

func (f *flvWriter) write(ds []hub.Delivery) error {
	parts := f.parts[:0]
	if !f.headerSent {
		f.decideHeader(ds)
		f.header = flv.AppendHeader(f.header[:0], flv.Header{HasAudio: f.hasAudio, HasVideo: f.hasVideo})
		parts = append(parts, f.header)
		f.headerSent = true
	}
	for i, d := range ds {
		p := d.Packet
		if f.remux.DropIfNotMatch && (p.Kind == av.KindAudio && !f.hasAudio || p.Kind == av.KindVideo && !f.hasVideo) {
			continue
		}
		fr := f.framing[i*tagFraming : (i+1)*tagFraming]
		flv.PutTagHeader(fr[:flv.TagHeaderSize], uint8(p.Kind), len(p.Payload), d.Timestamp)
		flv.PutPreviousTagSize(fr[flv.TagHeaderSize:], uint32(flv.TagHeaderSize+len(p.Payload)))
		parts = append(parts, fr[:flv.TagHeaderSize], p.Payload, fr[flv.TagHeaderSize:])
	}
	err := f.resp.Write(parts)
	clear(parts) // do not keep shared payloads alive
	f.parts = parts[:0]
	return err
}
