package mp4

import (
	"errors"
	"fmt"
)

// File is a parsed MP4 file, init segment, media segment or any
// concatenation of them, decoded enough to check structure and timing.
type File struct {
	Boxes        []*Box
	Type         *FileType // ftyp, if any
	SegmentTypes []FileType
	Movie        *Movie // moov, if any
	Fragments    []Fragment
	Indexes      []SegmentIndex
	MediaData    []*Box // mdat boxes
}

// Movie is a decoded moov.
type Movie struct {
	Timescale   uint32
	Duration    uint64
	NextTrackID uint32
	Tracks      []*TrackInfo
	// Fragmented reports an mvex: samples may follow in movie fragments.
	Fragmented       bool
	FragmentDuration uint64 // mehd, in Timescale
}

// TrackInfo is a decoded trak.
type TrackInfo struct {
	ID            uint32
	Flags         uint32 // tkhd
	Duration      uint64 // tkhd, movie timescale
	Width, Height uint32 // tkhd, integer part
	Handler       string // vide, soun, ...
	Timescale     uint32 // mdhd
	MediaDuration uint64 // mdhd
	Edits         []Edit
	Entry         SampleEntry
	Table         SampleTable
	Extends       TrackExtends // trex, when the movie is fragmented
}

// Fragment is a decoded moof.
type Fragment struct {
	Offset   int64 // of the moof
	Size     int64
	Sequence uint32
	Trafs    []TrackFragment
}

// ParseFile parses b and decodes its moov, moofs, sidx and type boxes.
func ParseFile(b []byte) (*File, error) {
	boxes, err := ParseBoxes(b)
	f := &File{Boxes: boxes}
	if err != nil {
		return f, err
	}
	for _, box := range boxes {
		if err := f.decodeTopLevel(box); err != nil {
			return f, fmt.Errorf("mp4: %s at %d: %w", box.Type, box.Offset, err)
		}
	}
	return f, nil
}

func (f *File) decodeTopLevel(box *Box) error {
	switch box.Type {
	case "ftyp", "styp":
		ft, err := parseFileType(box)
		if err != nil {
			return err
		}
		if box.Type == "ftyp" {
			f.Type = &ft
		} else {
			f.SegmentTypes = append(f.SegmentTypes, ft)
		}
	case "moov":
		if f.Movie != nil {
			return errors.New("mp4: second moov")
		}
		m, err := parseMovie(box)
		if err != nil {
			return err
		}
		f.Movie = m
	case "moof":
		fr := Fragment{Offset: box.Offset, Size: box.Size}
		if h := box.Child("mfhd"); h != nil {
			r := newFields("mfhd", h.Data)
			r.fullHeader()
			fr.Sequence = r.u32()
			if r.err != nil {
				return r.err
			}
		}
		for _, c := range box.Children {
			if c.Type != "traf" {
				continue
			}
			tf, err := parseTraf(c)
			if err != nil {
				return err
			}
			fr.Trafs = append(fr.Trafs, tf)
		}
		f.Fragments = append(f.Fragments, fr)
	case "sidx":
		idx, err := parseSidx(box)
		if err != nil {
			return err
		}
		f.Indexes = append(f.Indexes, idx)
	case "mdat":
		f.MediaData = append(f.MediaData, box)
	}
	return nil
}

func parseMovie(moov *Box) (*Movie, error) {
	m := &Movie{}
	hdr := moov.Child("mvhd")
	if hdr == nil {
		return nil, errors.New("mp4: moov has no mvhd")
	}
	r := newFields("mvhd", hdr.Data)
	v, _ := r.fullHeader()
	r.uv(v) // creation_time
	r.uv(v) // modification_time
	m.Timescale = r.u32()
	m.Duration = r.uv(v)
	r.skip(4 + 2 + 10 + 36 + 24)
	m.NextTrackID = r.u32()
	if r.err != nil {
		return nil, r.err
	}
	var trex []TrackExtends
	if mvex := moov.Child("mvex"); mvex != nil {
		m.Fragmented = true
		for _, c := range mvex.Children {
			switch c.Type {
			case "mehd":
				r := newFields("mehd", c.Data)
				v, _ := r.fullHeader()
				m.FragmentDuration = r.uv(v)
				if r.err != nil {
					return nil, r.err
				}
			case "trex":
				t, err := parseTrex(c)
				if err != nil {
					return nil, err
				}
				trex = append(trex, t)
			}
		}
	}
	for _, c := range moov.Children {
		if c.Type != "trak" {
			continue
		}
		t, err := parseTrak(c)
		if err != nil {
			return nil, fmt.Errorf("in trak at %d: %w", c.Offset, err)
		}
		for _, x := range trex {
			if x.TrackID == t.ID {
				t.Extends = x
			}
		}
		m.Tracks = append(m.Tracks, t)
	}
	return m, nil
}

func parseTrak(trak *Box) (*TrackInfo, error) {
	t := &TrackInfo{}
	tkhd := trak.Child("tkhd")
	if tkhd == nil {
		return nil, errors.New("mp4: trak has no tkhd")
	}
	r := newFields("tkhd", tkhd.Data)
	v, flags := r.fullHeader()
	t.Flags = flags
	r.uv(v)
	r.uv(v)
	t.ID = r.u32()
	r.skip(4)
	t.Duration = r.uv(v)
	r.skip(8 + 2 + 2 + 2 + 2 + 36)
	t.Width, t.Height = r.u32()>>16, r.u32()>>16
	if r.err != nil {
		return nil, r.err
	}
	if edts := trak.Child("edts"); edts != nil {
		if elst := edts.Child("elst"); elst != nil {
			var err error
			if t.Edits, err = parseElst(elst); err != nil {
				return nil, err
			}
		}
	}
	mdia := trak.Child("mdia")
	if mdia == nil {
		return nil, errors.New("mp4: trak has no mdia")
	}
	mdhd, hdlr := mdia.Child("mdhd"), mdia.Child("hdlr")
	if mdhd == nil || hdlr == nil {
		return nil, errors.New("mp4: mdia needs mdhd and hdlr")
	}
	r = newFields("mdhd", mdhd.Data)
	v, _ = r.fullHeader()
	r.uv(v)
	r.uv(v)
	t.Timescale = r.u32()
	t.MediaDuration = r.uv(v)
	r = newFields("hdlr", hdlr.Data)
	r.fullHeader()
	r.skip(4)
	t.Handler = string(r.bytes(4))
	if r.err != nil {
		return nil, r.err
	}
	stbl := Find(mdia.Children, "minf", "stbl")
	if stbl == nil {
		return nil, errors.New("mp4: trak has no minf/stbl")
	}
	if stsd := stbl.Child("stsd"); stsd != nil {
		var err error
		if t.Entry, err = parseStsd(stsd, t.Handler); err != nil {
			return nil, err
		}
	}
	if err := parseSampleTable(stbl, &t.Table); err != nil {
		return nil, err
	}
	return t, nil
}

// Track returns the track with the id, or nil.
func (m *Movie) Track(id uint32) *TrackInfo {
	for _, t := range m.Tracks {
		if t.ID == id {
			return t
		}
	}
	return nil
}
