package mp4

import "math"

// Brands. Init segments claim iso6 (ISO/IEC 14496-12 E.3: movie fragments
// with tfdt, default-base-is-moof and version 1 trun signed composition
// offsets) plus dash; media segments claim msdh (DASH media segment).
// Progressive files claim what ffmpeg's mp4 muxer claims, which every
// player knows.
var (
	initBrands        = []string{"iso6", "dash", "mp41"}
	segmentBrands     = []string{"msdh"}
	progressiveBrands = []string{"isom", "iso2", "mp41"}
)

// writeFtyp writes a file type box (or a segment type box when typ is "styp").
func writeFtyp(w *BoxWriter, typ, major string, minor uint32, compatible []string, extra ...string) {
	w.Begin(typ)
	w.FourCC(major)
	w.U32(minor)
	for _, b := range compatible {
		w.FourCC(b)
	}
	for _, b := range extra {
		w.FourCC(b)
	}
	w.End()
}

// codecBrands are the brands a progressive file adds for its codecs.
func codecBrands(tracks []Track) []string {
	var out []string
	for _, t := range tracks {
		typ, _ := t.sampleEntryType()
		if typ == "avc1" || typ == "av01" {
			out = append(out, typ)
		}
	}
	return out
}

// unityMatrix is the identity transformation of mvhd and tkhd.
var unityMatrix = [9]uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000}

func writeMatrix(w *BoxWriter) {
	for _, v := range unityMatrix {
		w.U32(v)
	}
}

// writeMvhd writes the movie header; durations in movieTimescale.
func writeMvhd(w *BoxWriter, duration uint64, nextTrackID uint32) {
	if duration > math.MaxUint32 {
		w.BeginFull("mvhd", 1, 0)
		w.U64(0) // creation_time
		w.U64(0) // modification_time
		w.U32(movieTimescale)
		w.U64(duration)
	} else {
		w.BeginFull("mvhd", 0, 0)
		w.U32(0)
		w.U32(0)
		w.U32(movieTimescale)
		w.U32(uint32(duration))
	}
	w.U32(0x00010000) // rate 1.0
	w.U16(0x0100)     // volume 1.0
	w.Zeros(10)       // reserved
	writeMatrix(w)
	w.Zeros(24) // pre_defined
	w.U32(nextTrackID)
	w.End()
}

// trackTiming is what a trak's headers say about time: the media duration
// in the track's timescale and the presentation duration (edits included)
// in the movie timescale. Init segments use zeros.
type trackTiming struct {
	mediaDuration uint64
	movieDuration uint64
	edits         []edit
}

// edit is one entry of an edit list; mediaTime -1 is an empty edit.
type edit struct {
	duration  uint64 // movie timescale
	mediaTime int64  // track timescale
}

// writeTrak writes a track box; tables writes the sample tables after stsd.
func writeTrak(w *BoxWriter, t *Track, timing trackTiming, tables func(*BoxWriter)) {
	w.Begin("trak")
	writeTkhd(w, t, timing.movieDuration)
	if len(timing.edits) > 0 {
		writeEdts(w, timing.edits)
	}
	w.Begin("mdia")
	writeMdhd(w, t.Timescale, timing.mediaDuration)
	writeHdlr(w, t.Kind)
	w.Begin("minf")
	if t.Kind == KindVideo {
		w.BeginFull("vmhd", 0, 1) // flags 1 is mandated
		w.Zeros(8)                // graphicsmode copy, opcolor
		w.End()
	} else {
		w.BeginFull("smhd", 0, 0)
		w.Zeros(4) // balance, reserved
		w.End()
	}
	w.Begin("dinf")
	w.BeginFull("dref", 0, 0)
	w.U32(1)
	w.BeginFull("url ", 0, 1) // flag 1: the media data is in this file
	w.End()
	w.End()
	w.End()
	w.Begin("stbl")
	writeStsd(w, t)
	tables(w)
	w.End()
	w.End() // minf
	w.End() // mdia
	w.End() // trak
}

func writeTkhd(w *BoxWriter, t *Track, duration uint64) {
	const enabledInMovie = 0x000003 // track_enabled | track_in_movie
	if duration > math.MaxUint32 {
		w.BeginFull("tkhd", 1, enabledInMovie)
		w.U64(0)
		w.U64(0)
		w.U32(t.ID)
		w.U32(0)
		w.U64(duration)
	} else {
		w.BeginFull("tkhd", 0, enabledInMovie)
		w.U32(0)
		w.U32(0)
		w.U32(t.ID)
		w.U32(0)
		w.U32(uint32(duration))
	}
	w.Zeros(8) // reserved
	w.U16(0)   // layer
	w.U16(0)   // alternate_group
	if t.Kind == KindAudio {
		w.U16(0x0100)
	} else {
		w.U16(0)
	}
	w.U16(0) // reserved
	writeMatrix(w)
	if t.Kind == KindVideo {
		w.U32(uint32(t.Width) << 16)
		w.U32(uint32(t.Height) << 16)
	} else {
		w.U64(0)
	}
	w.End()
}

func writeEdts(w *BoxWriter, edits []edit) {
	w.Begin("edts")
	wide := false
	for _, e := range edits {
		if e.duration > math.MaxUint32 || e.mediaTime > math.MaxInt32 || e.mediaTime < math.MinInt32 {
			wide = true
		}
	}
	if wide {
		w.BeginFull("elst", 1, 0)
	} else {
		w.BeginFull("elst", 0, 0)
	}
	w.U32(uint32(len(edits)))
	for _, e := range edits {
		if wide {
			w.U64(e.duration)
			w.U64(uint64(e.mediaTime))
		} else {
			w.U32(uint32(e.duration))
			w.I32(int32(e.mediaTime))
		}
		w.U32(0x00010000) // media_rate 1.0
	}
	w.End()
	w.End()
}

// languageUnd is ISO 639-2 "und" packed as three 5-bit letters.
const languageUnd = ('u'-0x60)<<10 | ('n'-0x60)<<5 | ('d' - 0x60)

func writeMdhd(w *BoxWriter, timescale uint32, duration uint64) {
	if duration > math.MaxUint32 {
		w.BeginFull("mdhd", 1, 0)
		w.U64(0)
		w.U64(0)
		w.U32(timescale)
		w.U64(duration)
	} else {
		w.BeginFull("mdhd", 0, 0)
		w.U32(0)
		w.U32(0)
		w.U32(timescale)
		w.U32(uint32(duration))
	}
	w.U16(languageUnd)
	w.U16(0) // pre_defined
	w.End()
}

func writeHdlr(w *BoxWriter, k Kind) {
	w.BeginFull("hdlr", 0, 0)
	w.U32(0) // pre_defined
	if k == KindVideo {
		w.FourCC("vide")
	} else {
		w.FourCC("soun")
	}
	w.Zeros(12) // reserved
	if k == KindVideo {
		w.Write([]byte("VideoHandler\x00"))
	} else {
		w.Write([]byte("SoundHandler\x00"))
	}
	w.End()
}

// writeEmptyTables writes the sample tables of a track whose samples are all
// in movie fragments.
func writeEmptyTables(w *BoxWriter) {
	for _, typ := range [...]string{"stts", "stsc", "stco"} {
		w.BeginFull(typ, 0, 0)
		w.U32(0)
		w.End()
	}
	w.BeginFull("stsz", 0, 0)
	w.U32(0) // sample_size
	w.U32(0) // sample_count
	w.End()
}
