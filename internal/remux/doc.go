// Package remux turns hub packets (av.Packet values, whose payloads are
// FLV/RTMP message bodies) into other containers: an MPEG transport stream
// for HLS, HTTP-TS and SRT play (TSWriter), a raw ADTS stream for HTTP-AAC
// (ADTSWriter) and a raw MP3 stream for HTTP-MP3 (MP3Writer). TSToFLV goes
// the other way, from demuxed transport stream frames to hub packets, for
// SRT publishers and MPEG-TS over UDP.
//
// Every writer is stateful (sequence headers, continuity counters) and not
// safe for concurrent use: run one per stream, feed it the stream's packets
// in order, and share the bytes it produces with every viewer.
package remux
