// Package mpegts muxes and demuxes MPEG transport streams (ISO/IEC 13818-1):
// 188-byte packets carrying one program's PAT, PMT and PES streams.
//
// The Muxer appends packets to a caller's []byte (so a stream muxed once can
// be shared by every viewer) or writes them to an io.Writer, one Write per
// call, without allocating per packet. The Demuxer reads packets from an
// io.Reader, follows the PAT and PMT, and returns one Frame per PES packet.
//
// The package knows nothing of codecs beyond the PMT stream types: callers
// hand it Annex-B access units, ADTS frames or MPEG audio frames.
package mpegts
