package stamp

import (
	"bytes"

	"github.com/castd/castd/internal/av"
)

// startCode is the three-byte Annex-B start code; a four-byte one is a zero
// byte and this.
var startCode = []byte{0, 0, 1}

// FindAnnexB is Find for an access unit in Annex-B form (NAL units behind
// 00 00 01 or 00 00 00 01 start codes), as MPEG-TS (HLS, HTTP-TS, SRT)
// carries it. data may be only the start of the access unit: the stamp
// precedes the first coded slice, so the first few hundred bytes hold it
// (after an AUD and parameter sets). A NAL unit cut by the end of data is
// looked at as far as it goes.
func (r *Reader) FindAnnexB(codec av.Codec, data []byte) (Stamp, bool) {
	i := bytes.Index(data, startCode)
	for i >= 0 {
		data = data[i+len(startCode):]
		next := bytes.Index(data, startCode)
		nalu := data
		if next >= 0 {
			nalu = data[:next]
		}
		// Zeros before the next start code are its leading byte or
		// trailing_zero_8bits, not part of this unit.
		for len(nalu) > 0 && nalu[len(nalu)-1] == 0 {
			nalu = nalu[:len(nalu)-1]
		}
		if len(nalu) > 0 {
			if s, found, stop := r.inNALU(codec, nalu); found || stop {
				return s, found
			}
		}
		i = next
	}
	return Stamp{}, false
}
