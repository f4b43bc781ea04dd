package remux

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/castd/castd/internal/av"
)

// RawStats counts what an ADTSWriter or MP3Writer did.
type RawStats struct {
	Frames      uint64
	Dropped     uint64
	DropReasons map[string]uint64
}

// ADTSWriter turns AAC packets into an ADTS stream (HTTP-AAC, SRS's
// .aac mounts): it remembers the AudioSpecificConfig and puts an ADTS
// header before each raw frame. Other packets are dropped, counted and
// logged once. Each frame's bytes depend only on the configuration, so a
// stream can be converted once and the bytes shared by every listener.
type ADTSWriter struct {
	w     io.Writer
	audio audioTrack
	out   []byte
	n     uint64
	drops drops
}

// NewADTSWriter returns an ADTSWriter writing to w (nil for the Append
// method only); log may be nil.
func NewADTSWriter(w io.Writer, log *slog.Logger) *ADTSWriter {
	return &ADTSWriter{w: w, drops: drops{log: log, what: "aac"}}
}

// WritePacket writes p's ADTS frame, if it has one, in one Write.
func (a *ADTSWriter) WritePacket(p *av.Packet) error {
	a.out = a.AppendPacket(a.out[:0], p)
	return writeRaw(a.w, a.out, "aac")
}

// AppendPacket appends p's ADTS frame, if it has one, to dst.
func (a *ADTSWriter) AppendPacket(dst []byte, p *av.Packet) []byte {
	if p.Kind != av.KindAudio {
		return dst
	}
	tag, err := av.ParseFLVAudioTag(p.Payload)
	if err != nil {
		a.drops.drop(dropMalformedAudio, err)
		return dst
	}
	if tag.Codec != av.CodecAAC {
		a.drops.drop(dropAudioCodec, tag.Codec.String())
		return dst
	}
	body := p.Payload[tag.PayloadOffset:]
	switch {
	case tag.IsSequenceHeader():
		if _, err := a.audio.setAACConfig(body); err != nil {
			a.drops.drop(dropBadAudioConfig, err)
		}
		return dst
	case tag.PacketType != av.AudioPacketCodedFrames || len(body) == 0:
		return dst
	case !a.audio.hasAAC:
		a.drops.drop(dropAudioBeforeConfig, "AAC")
		return dst
	case len(body) > av.MaxADTSPayload:
		a.drops.drop(dropAACTooLarge, len(body))
		return dst
	}
	h := a.audio.aac.ADTSHeader(len(body))
	a.n++
	return append(append(dst, h[:]...), body...)
}

// Stats returns the counters so far.
func (a *ADTSWriter) Stats() RawStats {
	return RawStats{Frames: a.n, Dropped: a.drops.total(), DropReasons: a.drops.byReason()}
}

// MP3StreamHeader returns the ID3v2.3 tag SRS sends at the start of an
// HTTP-MP3 stream: a 10-byte header declaring 10 bytes of padding, then
// the padding. Players skip it; some want a tag before the first frame.
func MP3StreamHeader() []byte {
	return []byte{'I', 'D', '3', 3, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
}

// MP3Writer passes MP3 packets' frames as they are (HTTP-MP3, SRS's .mp3
// mounts). WritePacket puts MP3StreamHeader before the first frame; the
// Append method does not, so shared bytes can start anywhere and each
// listener gets its own header. Other packets are dropped, counted and
// logged once.
type MP3Writer struct {
	w          io.Writer
	headerDone bool
	out        []byte
	n          uint64
	drops      drops
}

// NewMP3Writer returns an MP3Writer writing to w (nil for the Append
// method only); log may be nil.
func NewMP3Writer(w io.Writer, log *slog.Logger) *MP3Writer {
	return &MP3Writer{w: w, drops: drops{log: log, what: "mp3"}}
}

// WritePacket writes p's MP3 frame, if it has one, in one Write, behind
// the stream header the first time.
func (m *MP3Writer) WritePacket(p *av.Packet) error {
	m.out = m.out[:0]
	n := len(m.out)
	if !m.headerDone {
		m.out = append(m.out, MP3StreamHeader()...)
		n = len(m.out)
	}
	m.out = m.AppendPacket(m.out, p)
	if len(m.out) == n {
		return nil // no frame: the header waits for one
	}
	if err := writeRaw(m.w, m.out, "mp3"); err != nil {
		return err
	}
	m.headerDone = true
	return nil
}

// AppendPacket appends p's MP3 frame, if it has one, to dst.
func (m *MP3Writer) AppendPacket(dst []byte, p *av.Packet) []byte {
	if p.Kind != av.KindAudio {
		return dst
	}
	tag, err := av.ParseFLVAudioTag(p.Payload)
	if err != nil {
		m.drops.drop(dropMalformedAudio, err)
		return dst
	}
	if tag.Codec != av.CodecMP3 {
		m.drops.drop(dropAudioCodec, tag.Codec.String())
		return dst
	}
	body := p.Payload[tag.PayloadOffset:]
	if tag.PacketType != av.AudioPacketCodedFrames || len(body) == 0 {
		return dst
	}
	m.n++
	return append(dst, body...)
}

// Stats returns the counters so far.
func (m *MP3Writer) Stats() RawStats {
	return RawStats{Frames: m.n, Dropped: m.drops.total(), DropReasons: m.drops.byReason()}
}

func writeRaw(w io.Writer, b []byte, what string) error {
	if len(b) == 0 {
		return nil
	}
	if w == nil {
		return ErrNoWriter
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("remux: write %s: %w", what, err)
	}
	return nil
}
