// Package hls writes HLS for live streams as SRS does, and serves its
// playlists with SRS's hls_ctx sessions.
//
// An Egress follows the hub: when a stream of a vhost with hls enabled is
// published, a goroutine reads it through a viewer and a Muxer cuts it into
// MPEG-TS segments (optionally AES-128 encrypted) with a sliding live
// playlist. The stream's HLS state (sequence numbers, the window) outlives
// the publisher until hls_dispose, so a republish continues the playlist
// with a discontinuity. Its HTTP front gives each player a session (SRS's
// hls_ctx) that the API lists and can kick, and that calls on_play and
// on_stop.
//
// Files are written next to their final name and renamed into place, so
// a player or CDN never reads a partial segment, key or playlist.
package hls
