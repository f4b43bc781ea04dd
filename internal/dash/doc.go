// Package dash writes MPEG-DASH for live streams, as SRS's dash{} block
// configures it: per track an init segment (video-init.mp4,
// audio-init.mp4) and fragmented MP4 media segments (video-<n>.m4s,
// audio-<n>.m4s) next to a dynamic MPD.
//
// A Packager turns one stream's packets into those files. Segments are
// cut at video keyframes once dash_fragment is reached (audio-only streams
// by duration), and the audio track is cut at the same instants, so both
// tracks have segments of the same length and number. The MPD describes
// each track with a SegmentTemplate and a SegmentTimeline carrying the
// exact duration of every segment, so a player never computes a segment
// that does not exist.
//
// Media time follows the wall clock: the first frame of a stream maps to
// availabilityStartTime plus a fixed base, and every later publish of the
// stream (or a jump of the encoder's clock) is re-anchored to the wall
// clock, never back. A player that computes the live edge from the clock
// (dash.js does, through the MPD's UTCTiming) therefore finds the newest
// segment about one segment behind "now".
//
// Each publish, each re-anchoring and each change of the track set or of a
// decoder configuration starts a new Period, with its own init segments
// (video-init-<n>.mp4 after the first), that starts where its first frame
// is; the segment numbers keep increasing across Periods. So a Period's
// SegmentTimeline never has a gap: dash.js stalls for good at a gap inside
// a Period, and moves across Periods without trouble.
//
// An Egress follows the hub: it reads each published stream of a vhost with
// DASH enabled through a viewer, keeps the stream's DASH state across
// republishes and deletes the files dash_dispose after the last publisher
// left. Files are written next to their final name and renamed into place,
// so a player never reads a partial segment or MPD.
package dash
