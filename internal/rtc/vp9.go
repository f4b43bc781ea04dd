package rtc

import (
	"errors"
	"fmt"

	"github.com/castd/castd/internal/av"
)

// VP9 over RTP (RFC 9628). Each payload starts with a descriptor:
//
//	I P L F B E V Z             I: picture ID; P: inter-predicted; L: layer
//	M PictureID(7|15)    (I)    indices; F: flexible mode; B/E: a layer
//	TID(3) U SID(3) D    (L)    frame begins/ends here; V: scalability
//	TL0PICIDX            (L, !F) structure follows
//	P_DIFF(7) N          (F, P; up to 3)
//	SS                   (V)
//
// A picture (all its spatial layers) ends at the marker bit.

// vp9Descriptor is what castd needs of a VP9 payload descriptor.
type vp9Descriptor struct {
	begin, end bool
}

// parseVP9Descriptor returns a payload's descriptor and its VP9 data.
func parseVP9Descriptor(b []byte) (vp9Descriptor, []byte, error) {
	if len(b) < 1 {
		return vp9Descriptor{}, nil, errors.New("rtc: empty VP9 RTP payload")
	}
	h := b[0]
	d := vp9Descriptor{begin: h&0x08 != 0, end: h&0x04 != 0}
	flexible, predicted := h&0x10 != 0, h&0x40 != 0
	p := 1
	need := func(n int) error {
		if p+n > len(b) {
			return fmt.Errorf("rtc: VP9 descriptor of %d bytes is truncated", len(b))
		}
		return nil
	}
	if h&0x80 != 0 { // I
		if err := need(1); err != nil {
			return d, nil, err
		}
		if b[p]&0x80 != 0 { // M: 15 bits
			p++
		}
		p++
	}
	if h&0x20 != 0 { // L
		p++
		if !flexible {
			p++ // TL0PICIDX
		}
	}
	if flexible && predicted {
		for i := 0; ; i++ {
			if err := need(1); err != nil {
				return d, nil, err
			}
			more := b[p]&1 != 0
			p++
			if !more {
				break
			}
			if i == 2 {
				return d, nil, errors.New("rtc: VP9 descriptor has more than 3 reference indices")
			}
		}
	}
	if h&0x02 != 0 { // V
		var err error
		if p, err = skipVP9SS(b, p); err != nil {
			return d, nil, err
		}
	}
	if err := need(0); err != nil {
		return d, nil, err
	}
	return d, b[p:], nil
}

// skipVP9SS skips a scalability structure (RFC 9628 4.2.1).
func skipVP9SS(b []byte, p int) (int, error) {
	errShort := errors.New("rtc: VP9 scalability structure is truncated")
	if p >= len(b) {
		return p, errShort
	}
	layers := int(b[p]>>5) + 1
	sizes, groups := b[p]&0x10 != 0, b[p]&0x08 != 0
	p++
	if sizes {
		p += 4 * layers
	}
	if groups {
		if p >= len(b) {
			return p, errShort
		}
		n := int(b[p])
		p++
		for i := 0; i < n; i++ {
			if p >= len(b) {
				return p, errShort
			}
			refs := int(b[p]>>2) & 3
			p += 1 + refs
		}
	}
	if p > len(b) {
		return p, errShort
	}
	return p, nil
}

// vp9Format rebuilds VP9 layer frames (one unit each; a picture with
// several spatial layers has several).
type vp9Format struct {
	layer    []byte // the layer frame being rebuilt
	building bool
}

func (v *vp9Format) pending() bool                { return v.building }
func (v *vp9Format) reset()                       { v.layer, v.building = nil, false }
func (v *vp9Format) endFrame(*depacketizer) error { return nil }

func (v *vp9Format) parse(b []byte, d *depacketizer) error {
	desc, data, err := parseVP9Descriptor(b)
	if err != nil {
		return err
	}
	if desc.begin {
		if v.building {
			return errors.New("rtc: VP9 layer frame begins before the previous one ended")
		}
		v.building, v.layer = true, make([]byte, 0, 2*len(data))
	} else if !v.building {
		return errors.New("rtc: VP9 packet continues a frame whose start was lost")
	}
	if len(v.layer)+len(data) > d.room() {
		return fmt.Errorf("rtc: VP9 frame larger than %d bytes", maxFrameBytes)
	}
	v.layer = append(v.layer, data...)
	if !desc.end {
		return nil
	}
	layer := v.layer
	v.reset()
	if len(layer) == 0 {
		return errors.New("rtc: empty VP9 layer frame")
	}
	return d.addOwned(layer)
}

func (v *vp9Format) keyframe(units [][]byte) bool {
	h, err := parseVP9FrameHeader(units[0])
	return err == nil && h.keyframe
}

// vp9FrameHeader is the start of a VP9 uncompressed header (VP9 bitstream
// specification 6.2), up to the frame size of key frames.
type vp9FrameHeader struct {
	profile       uint8
	showExisting  bool
	keyframe      bool
	bitDepth      uint8
	colorSpace    uint8 // 0 unknown, 1 BT.601, 2 BT.709, 3 SMPTE-170, 4 SMPTE-240, 5 BT.2020, 6 reserved, 7 sRGB
	fullRange     bool
	subX, subY    bool
	width, height int
}

// parseVP9FrameHeader reads a frame's header; for key frames, its colour
// configuration and size too.
func parseVP9FrameHeader(f []byte) (vp9FrameHeader, error) {
	var h vp9FrameHeader
	r := av.NewBitReader(f)
	if r.ReadBits(2) != 2 {
		return h, errors.New("rtc: VP9 frame marker is wrong")
	}
	low := r.ReadBit()
	h.profile = r.ReadBit()<<1 | low
	if h.profile == 3 {
		r.Skip(1)
	}
	if h.showExisting = r.ReadFlag(); h.showExisting {
		return h, r.Err()
	}
	h.keyframe = r.ReadBit() == 0
	r.Skip(2) // show_frame, error_resilient_mode
	if !h.keyframe {
		return h, r.Err()
	}
	if r.ReadBits(24) != 0x498342 {
		if r.Err() != nil {
			return h, fmt.Errorf("rtc: VP9 key frame header: %w", r.Err())
		}
		return h, errors.New("rtc: VP9 key frame has no sync code")
	}
	h.bitDepth = 8
	if h.profile >= 2 {
		h.bitDepth = 10
		if r.ReadFlag() {
			h.bitDepth = 12
		}
	}
	h.colorSpace = uint8(r.ReadBits(3))
	oddProfile := h.profile == 1 || h.profile == 3
	if h.colorSpace != 7 {
		h.fullRange = r.ReadFlag()
		h.subX, h.subY = true, true
		if oddProfile {
			h.subX, h.subY = r.ReadFlag(), r.ReadFlag()
			r.Skip(1)
		}
	} else {
		h.fullRange = true
		if oddProfile {
			r.Skip(1)
		}
	}
	h.width = int(r.ReadBits(16)) + 1
	h.height = int(r.ReadBits(16)) + 1
	if err := r.Err(); err != nil {
		return h, fmt.Errorf("rtc: VP9 key frame header: %w", err)
	}
	return h, nil
}

// config is the VPCodecConfigurationRecord of a key frame's stream.
func (h vp9FrameHeader) config() vpConfig {
	c := vpConfig{profile: h.profile, level: vpLevel(h.width, h.height), bitDepth: h.bitDepth, fullRange: h.fullRange,
		primaries: 2, transfer: 2, matrix: 2}
	switch {
	case h.subX && h.subY:
		c.chromaSubsampling = 0
	case h.subX:
		c.chromaSubsampling = 2
	default:
		c.chromaSubsampling = 3
	}
	// The VP9 colour space names the matrix (ISO/IEC 23091-2 code points).
	switch h.colorSpace {
	case 1, 3:
		c.matrix = 6
	case 2:
		c.matrix = 1
	case 4:
		c.matrix = 7
	case 5:
		c.matrix = 9
	case 7:
		c.matrix = 0
	}
	return c
}

// joinVP9Superframe makes one VP9 frame of a picture's layer frames: a
// superframe (VP9 bitstream specification Annex B) whose index lists
// their sizes.
func joinVP9Superframe(frames [][]byte) []byte {
	if len(frames) == 1 {
		return frames[0]
	}
	largest, total := 0, 0
	for _, f := range frames {
		largest, total = max(largest, len(f)), total+len(f)
	}
	mag := 1
	for largest >= 1<<(8*mag) {
		mag++
	}
	marker := byte(0xc0 | (mag-1)<<3 | (len(frames) - 1))
	out := make([]byte, 0, total+2+mag*len(frames))
	for _, f := range frames {
		out = append(out, f...)
	}
	out = append(out, marker)
	for _, f := range frames {
		for i := 0; i < mag; i++ {
			out = append(out, byte(len(f)>>(8*i)))
		}
	}
	return append(out, marker)
}

// splitVP9Superframe returns the frames of a superframe, or the frame
// itself when it is not one.
func splitVP9Superframe(b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("rtc: empty VP9 frame")
	}
	marker := b[len(b)-1]
	if marker&0xe0 != 0xc0 {
		return [][]byte{b}, nil
	}
	count, mag := int(marker&7)+1, int(marker>>3&3)+1
	index := 2 + mag*count
	if len(b) < index || b[len(b)-index] != marker {
		return [][]byte{b}, nil
	}
	sizes := b[len(b)-index+1 : len(b)-1]
	data := b[:len(b)-index]
	frames := make([][]byte, 0, count)
	for i := 0; i < count; i++ {
		n := 0
		for j := 0; j < mag; j++ {
			n |= int(sizes[i*mag+j]) << (8 * j)
		}
		if n > len(data) {
			return nil, fmt.Errorf("rtc: VP9 superframe lists a %d-byte frame, %d bytes left", n, len(data))
		}
		frames = append(frames, data[:n])
		data = data[n:]
	}
	return frames, nil
}

// vp9Packetizer splits VP9 frames (superframes whole, as one picture)
// into payloads in non-flexible mode with a 15-bit picture ID, the form
// browsers send without spatial layers. Key frames carry a scalability
// structure with their size.
type vp9Packetizer struct {
	pictureID uint16
}

func (v *vp9Packetizer) sequenceHeader([]byte) {}

func (v *vp9Packetizer) frame(dst [][]byte, frame []byte, _ bool) ([][]byte, bool, bool) {
	if len(frame) == 0 {
		return dst, false, false
	}
	h, err := parseVP9FrameHeader(frame)
	if err != nil {
		return dst, false, false // not VP9; the next key frame recovers
	}
	var ss []byte
	if h.keyframe {
		// One spatial layer of this size (Y), one picture group (G) of one
		// picture: temporal layer 0, a switching-up point, one reference,
		// the previous picture.
		ss = []byte{0x18, byte(h.width >> 8), byte(h.width), byte(h.height >> 8), byte(h.height), 1, 0x14, 1}
	}
	pid := []byte{0x80 | byte(v.pictureID>>8), byte(v.pictureID)}
	v.pictureID = (v.pictureID + 1) & 0x7fff
	for off := 0; off < len(frame); {
		header := 3
		if off == 0 {
			header += len(ss)
		}
		end := min(off+rtpMaxPayload-header, len(frame))
		flags := byte(0x80) // I
		if !h.keyframe {
			flags |= 0x40 // P
		}
		if off == 0 {
			flags |= 0x08 // B
			if ss != nil {
				flags |= 0x02 // V
			}
		}
		if end == len(frame) {
			flags |= 0x04 // E
		}
		p := make([]byte, 0, header+end-off)
		p = append(p, flags)
		p = append(p, pid...)
		if off == 0 {
			p = append(p, ss...)
		}
		dst = append(dst, append(p, frame[off:end]...))
		off = end
	}
	return dst, h.keyframe, true
}
