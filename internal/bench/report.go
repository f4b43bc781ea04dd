package bench

import (
	"time"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/stats"
)

// SchemaVersion names the JSON report layout; it changes when a field
// changes meaning or goes away (adding fields keeps it).
const SchemaVersion = "castbench/1"

// Report is the result of a run, written as JSON by `castbench --json`.
// Durations and latencies are in milliseconds (suffix _ms) or seconds
// (_s), bitrates in kilobits per second (_kbps, 1000 bits). Bytes and
// bitrates count media payloads (RTMP message bodies, FLV tag bodies),
// not protocol framing (PES payloads for HLS). See docs/castbench.md.
type Report struct {
	Schema    string    `json:"schema"`
	Mode      string    `json:"mode"` // "publish", "play" or "publish-play"
	Started   time.Time `json:"started"`
	DurationS float64   `json:"duration_s"`
	// FailedChecks lists the sanity checks the run failed (no player
	// connected, no media...); castbench exits with 1 when it is not empty.
	FailedChecks []string       `json:"failed_checks"`
	Publish      *PublishReport `json:"publish,omitempty"`
	Play         *PlayReport    `json:"play,omitempty"`
}

// Conns counts connections (publishers or players).
type Conns struct {
	Wanted  int64 `json:"wanted"`  // asked for
	Started int64 `json:"started"` // began connecting (the ramp may not reach every one)
	Up      int64 `json:"up"`      // connected and still playing or publishing at the end
	EverUp  int64 `json:"ever_up"` // connected at some point
	Failed  int64 `json:"failed"`  // ended with an error, connected or not
	Dropped int64 `json:"dropped"` // connected, then failed
}

// SourceReport describes the published file.
type SourceReport struct {
	File        string  `json:"file"`
	VideoCodec  string  `json:"video_codec"`
	PeriodS     float64 `json:"period_s"`     // one loop
	BitrateKbps float64 `json:"bitrate_kbps"` // media bitrate of one loop
	Frames      int     `json:"frames"`       // tags in one loop
}

// PublishReport is what the publishers did.
type PublishReport struct {
	URL        string       `json:"url"`
	Source     SourceReport `json:"source"`
	Publishers Conns        `json:"publishers"`
	// FramesSent counts audio, video and data messages; StampedFrames the
	// video frames that carried a latency stamp.
	FramesSent    int64   `json:"frames_sent"`
	StampedFrames int64   `json:"stamped_frames"`
	BytesSent     int64   `json:"bytes_sent"`
	BitrateKbps   float64 `json:"bitrate_kbps"` // all publishers together, over the run
	// MaxLagMs is the longest a batch of frames went out after its time:
	// large values mean the publishers (or the server's reading) could not
	// keep up.
	MaxLagMs float64 `json:"max_lag_ms"`
	// WebRTCAudio says what WebRTC publishers send as audio: "opus,
	// transcoded from AAC at 64 kbps", "opus, as in the file", or "none: "
	// and why (a build without libavcodec, a file without audio...).
	// Absent for other publishers.
	WebRTCAudio string                         `json:"webrtc_audio,omitempty"`
	Errors      map[failure.Kind]failure.Count `json:"errors"`
}

// PlayReport is what the players saw.
type PlayReport struct {
	URLs    []string `json:"urls"`
	Streams int      `json:"streams"`
	Players Conns    `json:"players"`
	// TTFFMs is the time from the start of a player's connection attempt
	// to its first video frame, one value per player that got one.
	TTFFMs stats.Summary `json:"ttff_ms"`
	// LatencyMs is the end-to-end latency of stamped frames: receive time
	// minus the publisher's send time, one value per frame. Needs the
	// publisher's and the players' clocks to agree (same host, or NTP).
	LatencyMs stats.Summary `json:"latency_ms"`
	// ClockSkewFrames counts stamps from the future (recorded as 0 ms).
	ClockSkewFrames int64 `json:"clock_skew_frames"`
	// Bitrate: Total is every byte received over the run; PerPlayer has
	// one value per player that received media: its bytes over the wall
	// time since its first message, or over the stream time its video
	// covers when longer (GOP cache and merged-write bursts).
	Bitrate       BitrateReport `json:"bitrate_kbps"`
	BytesReceived int64         `json:"bytes_received"`
	VideoFrames   int64         `json:"video_frames"`
	AudioFrames   int64         `json:"audio_frames"`
	StampedFrames int64         `json:"stamped_frames"`
	Stalls        StallReport   `json:"stalls"`
	// Errors counts the errors that ended players, by kind.
	Errors map[failure.Kind]failure.Count `json:"errors"`
	// HLS is what HLS players measured beyond the figures above; absent
	// when none ran.
	HLS *HLSReport `json:"hls,omitempty"`
}

// HLSReport is what HLS players measured beyond every player's figures.
type HLSReport struct {
	Players       int64 `json:"players"`        // HLS players started
	PlaylistLoads int64 `json:"playlist_loads"` // playlists read, masters included
	Segments      int64 `json:"segments"`       // segments downloaded whole
	SegmentBytes  int64 `json:"segment_bytes"`  // segment bytes as sent (transport packets)
	// MissedSegments counts segments that left the playlist before their
	// player fetched them.
	MissedSegments int64 `json:"missed_segments"`
	// SegmentLatencyMs has one value per segment: from the moment its
	// player read the playlist that first listed it to the end of its
	// download.
	SegmentLatencyMs stats.Summary `json:"segment_latency_ms"`
	// Errors counts the errors players got over, by kind: segments
	// skipped, playlist reloads that failed.
	Errors map[failure.Kind]failure.Count `json:"errors"`
}

// BitrateReport is received bitrate in kbps.
type BitrateReport struct {
	Total     float64       `json:"total"`
	PerPlayer stats.Summary `json:"per_player"`
}

// StallReport counts gaps longer than the stall gap (1 s) between media
// messages, after a player's first one and until the end of the run; for
// HLS players, the times their modelled playback buffer ran dry.
type StallReport struct {
	Count   int64   `json:"count"`
	Players int64   `json:"players"` // players with at least one stall
	TotalS  float64 `json:"total_s"` // the stalled gaps added up
}
