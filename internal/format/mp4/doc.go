// Package mp4 writes and reads the ISO base media file format (ISO/IEC
// 14496-12, "MP4") for castd's DASH, HLS fMP4 and DVR outputs.
//
// Writing:
//
//   - BoxWriter builds nested boxes in a byte slice, back-patching sizes.
//   - Track describes a track; TrackFromSequenceHeader and TrackFromMP3Frame
//     build one from castd packets, and Track.SampleFromPacket turns frames
//     into Samples (AVC/HEVC frames are already length-prefixed, so sample
//     data aliases the packet payload).
//   - InitSegment and MediaSegment (or AppendFragment for several tracks)
//     produce fragmented MP4 for DASH, HLS fMP4 and MSE; AppendSidx indexes
//     segments.
//   - FileWriter writes a progressive file for DVR with the moov at the end;
//     FragmentedWriter writes a fragmented file that stays playable when the
//     process dies, after RecoverFile cuts off the torn tail.
//
// Sample entries are avc1, hvc1, av01 and mp4a (AAC with an esds built from
// the AudioSpecificConfig; MP3 as objectTypeIndication 0x6B or, below
// 32 kHz, 0x69, as ffmpeg's mp4 muxer writes it: ffprobe and Chromium's
// <video> play it, but Chromium's MSE takes MP3 only as audio/mpeg). Sample
// times are in the track's timescale: 90 kHz for video (VideoTimescale),
// the sample rate for audio. See Sample for how durations are derived.
//
// Reading: ParseBoxes walks boxes with bounds checks and ParseFile decodes
// the boxes this package writes (and ffmpeg's) far enough to check structure
// and sample tables; File.Samples walks the samples of a track. Both return
// errors on truncated or malformed input and allocate no more than the
// input's size justifies.
package mp4
