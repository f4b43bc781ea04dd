package mp4

import "fmt"

// SampleEntry is the first entry of a track's stsd.
type SampleEntry struct {
	Format             string // avc1, hvc1, av01, mp4a, ...
	DataReferenceIndex uint16
	Width, Height      uint16 // visual entries
	Channels           uint16 // audio entries
	SampleSize         uint16
	SampleRate         uint32 // audio, integer part of the 16.16 field
	// ConfigType names the box Config came from: avcC, hvcC or av1C (the
	// box body), or esds (its DecoderSpecificInfo, e.g. the
	// AudioSpecificConfig).
	ConfigType string
	Config     []byte
	ObjectType uint8 // esds objectTypeIndication
	Children   []*Box
}

// stsdEntryFixed is the size of the fields before a sample entry's child
// boxes: SampleEntry (8) plus VisualSampleEntry (70) or AudioSampleEntry (20).
const (
	visualEntryFixed = 8 + 70
	audioEntryFixed  = 8 + 20
)

func parseStsd(b *Box, handler string) (SampleEntry, error) {
	r := newFields("stsd", b.Data)
	r.fullHeader()
	if n := r.u32(); r.err == nil && n == 0 {
		return SampleEntry{}, fmt.Errorf("mp4: stsd has no sample entry")
	}
	if r.err != nil {
		return SampleEntry{}, r.err
	}
	entry, err := readBox(r.rest(), b.Offset+int64(b.HeaderSize)+8)
	if err != nil {
		return SampleEntry{}, fmt.Errorf("in stsd: %w", err)
	}
	e := SampleEntry{Format: entry.Type}
	er := newFields(entry.Type, entry.Data)
	er.skip(6)
	e.DataReferenceIndex = er.u16()
	childrenAt := 0
	switch handler {
	case "vide":
		er.skip(16)
		e.Width, e.Height = er.u16(), er.u16()
		er.skip(visualEntryFixed - 8 - 20)
		childrenAt = visualEntryFixed
	case "soun":
		version := er.u16() // QuickTime sound description version; 0 in ISO files
		er.skip(6)
		e.Channels, e.SampleSize = er.u16(), er.u16()
		er.skip(4)
		e.SampleRate = er.u32() >> 16
		childrenAt = audioEntryFixed
		switch version {
		case 1:
			er.skip(16)
			childrenAt += 16
		case 2:
			er.skip(36)
			childrenAt += 36
		}
	default:
		return e, nil // other handlers: the format is all we report
	}
	if er.err != nil {
		return e, er.err
	}
	e.Children, err = parseBoxes(entry.Data[childrenAt:], entry.Offset+int64(entry.HeaderSize+childrenAt), 0)
	if err != nil {
		return e, fmt.Errorf("in %s: %w", entry.Type, err)
	}
	for _, c := range e.Children {
		switch c.Type {
		case "avcC", "hvcC", "av1C":
			e.ConfigType, e.Config = c.Type, c.Data
		case "esds":
			e.ConfigType = "esds"
			if e.ObjectType, e.Config, err = parseEsds(c.Data); err != nil {
				return e, err
			}
		}
	}
	return e, nil
}

// parseEsds reads the objectTypeIndication and DecoderSpecificInfo of an
// ES_Descriptor (ISO/IEC 14496-1 7.2.6.5).
func parseEsds(b []byte) (uint8, []byte, error) {
	r := newFields("esds", b)
	r.fullHeader()
	tag, es := readDescriptor(r)
	if r.err != nil {
		return 0, nil, r.err
	}
	if tag != tagESDescriptor {
		return 0, nil, fmt.Errorf("mp4: esds starts with descriptor tag %d, want %d", tag, tagESDescriptor)
	}
	er := newFields("ES_Descriptor", es)
	er.skip(2) // ES_ID
	flags := er.u8()
	if flags&0x80 != 0 { // streamDependenceFlag
		er.skip(2)
	}
	if flags&0x40 != 0 { // URL_Flag
		er.skip(int(er.u8()))
	}
	if flags&0x20 != 0 { // OCRstreamFlag
		er.skip(2)
	}
	for er.err == nil && er.off < len(er.b) {
		tag, body := readDescriptor(er)
		if tag != tagDecoderConfig {
			continue
		}
		dr := newFields("DecoderConfigDescriptor", body)
		oti := dr.u8()
		dr.skip(12) // streamType, bufferSizeDB, maxBitrate, avgBitrate
		for dr.err == nil && dr.off < len(dr.b) {
			if tag, dsi := readDescriptor(dr); tag == tagDecoderSpecificInfo {
				return oti, dsi, dr.err
			}
		}
		return oti, nil, dr.err
	}
	if er.err != nil {
		return 0, nil, er.err
	}
	return 0, nil, fmt.Errorf("mp4: esds has no DecoderConfigDescriptor")
}

// readDescriptor reads a descriptor tag, its expandable size (at most four
// bytes) and its body.
func readDescriptor(r *fields) (uint8, []byte) {
	tag := r.u8()
	size := 0
	for i := 0; i < 4; i++ {
		c := r.u8()
		size = size<<7 | int(c&0x7f)
		if c&0x80 == 0 {
			break
		}
	}
	return tag, r.bytes(size)
}
