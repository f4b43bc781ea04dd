package httpstream

import (
	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
)

// initialBatch is how many packets a writer's scratch first holds.
const initialBatch = 32

// tagFraming is an FLV tag header plus the PreviousTagSize that follows the body.
const tagFraming = flv.TagHeaderSize + 4

// guessWindowMs is how much stream time the has_audio/has_video guess may
// look at before it decides.
const guessWindowMs = 1000

// flvWriter turns a viewer's deliveries into FLV tags on a live response.
// Payloads are shared with every other viewer and written in place; only the
// 15 bytes of framing per tag are this viewer's own.
type flvWriter struct {
	resp       *httpx.LiveResponse
	remux      Remux
	headerSent bool
	hasAudio   bool
	hasVideo   bool
	pending    []hub.Delivery // held back until the header flags are known
	framing    []byte
	parts      [][]byte
	header     []byte
}

func newFLVWriter(resp *httpx.LiveResponse, remux Remux) *flvWriter {
	return &flvWriter{
		resp: resp, remux: remux,
		// Sized for a usual merged write (350 ms is about 30 packets); a
		// bigger batch grows them once. Per-player memory is what limits
		// how many players fit.
		framing: make([]byte, initialBatch*tagFraming),
		parts:   make([][]byte, 0, initialBatch*3+1),
	}
}

// guess applies SRS's has_audio/has_video rule (#939) to what is pending:
// a kind that sent only a sequence header and no frames is left out of the
// header, and when neither kind has frames both flags are set. Unlike SRS,
// whose first write waits mw_latency, the guess waits until both kinds have
// frames, a second of stream has passed or a batch is full, so a player
// that connected before the publisher is not judged on the headers alone.
func (f *flvWriter) guess() (ready bool) {
	var audio, video int
	for _, d := range f.pending {
		switch {
		case d.Packet.Kind == av.KindAudio && !d.Packet.SequenceHeader:
			audio++
		case d.Packet.Kind == av.KindVideo && !d.Packet.SequenceHeader:
			video++
		}
	}
	span := int64(0)
	if n := len(f.pending); n > 0 {
		span = int64(f.pending[n-1].Timestamp) - int64(f.pending[0].Timestamp)
	}
	if (audio == 0 || video == 0) && span < guessWindowMs && len(f.pending) < maxBatch {
		return false
	}
	f.hasAudio, f.hasVideo = audio > 0, video > 0
	if !f.hasAudio && !f.hasVideo {
		f.hasAudio, f.hasVideo = true, true
	}
	return true
}

func (f *flvWriter) write(ds []hub.Delivery) error {
	if !f.headerSent {
		if !f.remux.GuessHasAV {
			f.hasAudio, f.hasVideo = f.remux.HasAudio, f.remux.HasVideo
		} else {
			f.pending = append(f.pending, ds...)
			if !f.guess() {
				return nil
			}
			ds, f.pending = f.pending, nil
		}
	}
	parts := f.parts[:0]
	if !f.headerSent {
		f.header = flv.AppendHeader(f.header[:0], flv.Header{HasAudio: f.hasAudio, HasVideo: f.hasVideo})
		parts = append(parts, f.header)
		f.headerSent = true
	}
	if need := len(ds) * tagFraming; need > len(f.framing) {
		f.framing = make([]byte, need) // a batch bigger than any before
	}
	// Each tag's PreviousTagSize is followed, in the same scratch, by the
	// next tag's header, so the pair goes out as one iovec: 2n+1 per batch
	// instead of 3n. Fewer, larger iovecs are what the kernel's writev
	// costs by.
	fr := f.framing[:0]
	from := 0 // start of the framing not yet in parts
	for _, d := range ds {
		p := d.Packet
		if f.remux.DropIfNotMatch && (p.Kind == av.KindAudio && !f.hasAudio || p.Kind == av.KindVideo && !f.hasVideo) {
			continue
		}
		n := len(fr)
		fr = fr[:n+flv.TagHeaderSize]
		flv.PutTagHeader(fr[n:], uint8(p.Kind), len(p.Payload), d.Timestamp)
		parts = append(parts, fr[from:], p.Payload)
		from = len(fr)
		fr = fr[:from+4]
		flv.PutPreviousTagSize(fr[from:], uint32(flv.TagHeaderSize+len(p.Payload)))
	}
	if from < len(fr) {
		parts = append(parts, fr[from:])
	}
	err := f.resp.Write(parts)
	clear(parts) // do not keep shared payloads alive
	f.parts = parts[:0]
	return err
}
