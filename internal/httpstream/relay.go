package httpstream

import (
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/relay"
	"github.com/castd/castd/internal/remux"
)

// Formats muxed from a stream's packets for HTTP viewers other than FLV,
// once per stream by a relay (internal/relay) whose output they read.
const (
	formatTS  = relay.TS
	formatAAC = relay.AAC
	formatMP3 = relay.MP3
)

// contentTypes are SRS's for its HTTP live mounts.
var contentTypes = map[string]string{
	formatTS:  "video/MP2T",
	formatAAC: "audio/x-aac",
	formatMP3: "audio/mpeg",
	"flv":     "video/x-flv",
}

// rawWriter writes already muxed bytes (TS, ADTS, MP3), one HTTP chunk per
// batch, after the format's stream header (MP3's ID3 tag) on the first.
type rawWriter struct {
	resp   *httpx.LiveResponse
	prefix []byte
	parts  [][]byte
}

func (w *rawWriter) write(ds []hub.Delivery) error {
	parts := w.parts[:0]
	if w.prefix != nil {
		parts = append(parts, w.prefix)
		w.prefix = nil
	}
	for _, d := range ds {
		parts = append(parts, d.Packet.Payload)
	}
	err := w.resp.Write(parts)
	clear(parts)
	w.parts = parts[:0]
	return err
}

// formatPrefix is what a viewer gets before the first media bytes.
func formatPrefix(format string) []byte {
	if format == formatMP3 {
		return remux.MP3StreamHeader() // SRS starts HTTP-MP3 with an ID3v2 tag
	}
	return nil
}
