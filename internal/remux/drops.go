package remux

import (
	"fmt"
	"log/slog"
)

// dropReason says why a packet was not remuxed.
type dropReason uint8

const (
	dropMalformedVideo dropReason = iota
	dropVideoCodec
	dropVideoBeforeConfig
	dropBadVideoConfig
	dropMalformedAudio
	dropAudioCodec
	dropAudioBeforeConfig
	dropBadAudioConfig
	dropAACTooLarge
	dropStreamType
	dropWaitKeyframe
	dropNoTimestamp
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	dropMalformedVideo:    "malformed video frame",
	dropVideoCodec:        "video codec not supported",
	dropVideoBeforeConfig: "video frame before its sequence header",
	dropBadVideoConfig:    "malformed video sequence header",
	dropMalformedAudio:    "malformed audio frame",
	dropAudioCodec:        "audio codec not supported",
	dropAudioBeforeConfig: "audio frame before its sequence header",
	dropBadAudioConfig:    "malformed audio sequence header",
	dropAACTooLarge:       "AAC frame too large for ADTS",
	dropStreamType:        "elementary stream not supported",
	dropWaitKeyframe:      "video frame before the first keyframe",
	dropNoTimestamp:       "frame without a timestamp",
}

func (r dropReason) String() string { return dropReasonNames[r] }

// drops counts dropped packets by reason and logs each reason once, so a
// stream of unsupported packets costs a counter, not a log line per packet.
type drops struct {
	log    *slog.Logger
	what   string // the writer, for the log line
	counts [numDropReasons]uint64
}

func (d *drops) drop(r dropReason, detail any) {
	d.counts[r]++
	if d.counts[r] == 1 && d.log != nil {
		d.log.Warn(fmt.Sprintf("remux: %s: dropping packets: %s", d.what, r), "detail", detail)
	}
}

func (d *drops) total() uint64 {
	var n uint64
	for _, c := range d.counts {
		n += c
	}
	return n
}

// byReason returns the non-zero counts keyed by reason.
func (d *drops) byReason() map[string]uint64 {
	m := map[string]uint64{}
	for r, c := range d.counts {
		if c > 0 {
			m[dropReason(r).String()] = c
		}
	}
	return m
}
