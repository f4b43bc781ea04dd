package mp4

import "fmt"

// SegmentIndex is a segment index box (sidx, ISO/IEC 14496-12 8.16.3): it
// lets a DASH client map time to byte ranges without reading the moofs.
type SegmentIndex struct {
	ReferenceID uint32 // the indexed track's id
	Timescale   uint32
	// EarliestPresentationTime is the first sample's PTS of the first
	// referenced subsegment, in Timescale.
	EarliestPresentationTime uint64
	// FirstOffset is the distance in bytes from the end of this box to the
	// first referenced byte (0 when the moof follows directly).
	FirstOffset uint64
	References  []SegmentReference
}

// SegmentReference is one referenced subsegment (or, with ReferencesIndex,
// another sidx).
type SegmentReference struct {
	ReferencesIndex bool   // reference_type 1: Size covers a sidx
	Size            uint32 // referenced_size in bytes (31 bits)
	Duration        uint32 // subsegment_duration in Timescale
	StartsWithSAP   bool
	SAPType         uint8  // 1 for IDR/closed GOP, 2 when leading pictures follow, 0 unknown
	SAPDeltaTime    uint32 // 28 bits
}

// AppendSidx appends a version 1 sidx (64-bit times) to dst.
func AppendSidx(dst []byte, idx SegmentIndex) ([]byte, error) {
	if len(idx.References) > 0xffff {
		return dst, fmt.Errorf("mp4: sidx with %d references", len(idx.References))
	}
	w := NewBoxWriter(dst)
	w.BeginFull("sidx", 1, 0)
	w.U32(idx.ReferenceID)
	w.U32(idx.Timescale)
	w.U64(idx.EarliestPresentationTime)
	w.U64(idx.FirstOffset)
	w.U16(0) // reserved
	w.U16(uint16(len(idx.References)))
	for _, r := range idx.References {
		if r.Size >= 1<<31 || r.SAPType > 7 || r.SAPDeltaTime >= 1<<28 {
			return dst, fmt.Errorf("mp4: sidx reference %+v out of range", r)
		}
		v := r.Size
		if r.ReferencesIndex {
			v |= 1 << 31
		}
		w.U32(v)
		w.U32(r.Duration)
		v = uint32(r.SAPType)<<28 | r.SAPDeltaTime
		if r.StartsWithSAP {
			v |= 1 << 31
		}
		w.U32(v)
	}
	w.End()
	if err := w.Err(); err != nil {
		return dst, err
	}
	return w.Bytes(), nil
}
