// Package dvr records live streams to FLV and MP4 files, as SRS's DVR does:
// one file per publish (session plan) or one per dvr_duration (segment
// plan), written as "<file>.tmp" and renamed into place when complete.
//
// A Recorder reads one stream from a hub viewer (which applies the DVR's
// own time_jitter) and owns its files; the server starts one per publish
// and turns each finished File into an on_dvr hook. Recover finalizes the
// ".tmp" files a killed process left behind.
package dvr
