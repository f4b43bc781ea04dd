// Package mpegps demuxes MPEG program streams (ISO/IEC 13818-1 §2.5, and
// the MPEG-1 system streams of ISO/IEC 11172-1 that share its layout), as
// GB28181 devices send them inside RTP: pack headers, system headers, the
// program stream map (PSM) and PES packets.
//
// The Demuxer is fed bytes in pieces of any size (an RTP payload each) and
// returns one Frame per access unit: the PES packets of a stream that carry
// the same PTS, or carry none, are joined to the frame before them, as
// devices split large frames across PES packets. It keeps at most one
// unit (64 KiB) of unparsed input and one frame per stream, each bounded.
// Damage never stops it: it skips to the next pack header and counts it.
//
// The Muxer writes the same layout, one pack per frame, as a device does;
// castd uses it in tests and its device simulator.
//
// The package knows nothing of codecs beyond the PSM stream types, except
// a guess of the codec of a stream that no PSM announced (ffmpeg writes
// none): H.264 or H.265 from the NAL header, AAC or MP3 from the sync word.
package mpegps
