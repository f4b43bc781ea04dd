package rtc

import (
	"errors"
	"fmt"
)

// VP8 over RTP (RFC 7741). Each payload starts with a descriptor:
//
//	X R N S R PID(3)        X: an extension byte follows; S: a partition
//	I L T K RSV(4)   (X)    starts here; PID: its index
//	M PictureID(7|15) (I)
//	TL0PICIDX        (L)
//	TID(2) Y KEYIDX(5) (T or K)
//
// A frame starts with S=1 and PID=0 and ends at the marker bit.

// parseVP8Descriptor returns the VP8 data of a payload and whether it
// starts a frame.
func parseVP8Descriptor(b []byte) (data []byte, start bool, err error) {
	if len(b) < 1 {
		return nil, false, errors.New("rtc: empty VP8 RTP payload")
	}
	p := 1
	if b[0]&0x80 != 0 { // X
		if len(b) < 2 {
			return nil, false, errors.New("rtc: VP8 descriptor truncated in its extension")
		}
		ext := b[1]
		p = 2
		if ext&0x80 != 0 { // I
			if p >= len(b) {
				return nil, false, errors.New("rtc: VP8 descriptor truncated in its picture ID")
			}
			if b[p]&0x80 != 0 { // M: 15 bits
				p++
			}
			p++
		}
		if ext&0x40 != 0 { // L
			p++
		}
		if ext&0x30 != 0 { // T or K
			p++
		}
		if p > len(b) {
			return nil, false, fmt.Errorf("rtc: VP8 descriptor of %d bytes is truncated", len(b))
		}
	}
	return b[p:], b[0]&0x10 != 0 && b[0]&0x07 == 0, nil
}

// vp8Format rebuilds VP8 frames: one unit per frame.
type vp8Format struct {
	frame   []byte // the frame being rebuilt
	started bool
}

func (v *vp8Format) pending() bool { return false } // a frame ends with the packets it has
func (v *vp8Format) reset()        { v.frame, v.started = nil, false }

func (v *vp8Format) parse(b []byte, d *depacketizer) error {
	data, start, err := parseVP8Descriptor(b)
	if err != nil {
		return err
	}
	if start {
		if v.started {
			return errors.New("rtc: VP8 frame starts before the previous one ended")
		}
		v.started, v.frame = true, make([]byte, 0, 2*len(data))
	} else if !v.started {
		return errors.New("rtc: VP8 packet continues a frame whose start was lost")
	}
	if len(v.frame)+len(data) > d.room() {
		return fmt.Errorf("rtc: VP8 frame larger than %d bytes", maxFrameBytes)
	}
	v.frame = append(v.frame, data...)
	return nil
}

func (v *vp8Format) endFrame(d *depacketizer) error {
	frame := v.frame
	v.reset()
	if len(frame) == 0 {
		return nil
	}
	return d.addOwned(frame)
}

func (v *vp8Format) keyframe(units [][]byte) bool {
	_, ok := parseVP8KeyFrame(units[0])
	return ok
}

// vp8KeyFrame is what a VP8 key frame's header (RFC 6386 9.1) says.
type vp8KeyFrame struct {
	version       uint8
	width, height int
}

// parseVP8KeyFrame reads a key frame's header; ok is false for inter
// frames and malformed ones.
func parseVP8KeyFrame(f []byte) (vp8KeyFrame, bool) {
	// The 3-byte frame tag: key_frame is 0 for a key frame; then the start
	// code and two 16-bit little-endian sizes with 2-bit scales.
	if len(f) < 10 || f[0]&1 != 0 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
		return vp8KeyFrame{}, false
	}
	k := vp8KeyFrame{
		version: (f[0] >> 1) & 7,
		width:   int(f[6]) | int(f[7]&0x3f)<<8,
		height:  int(f[8]) | int(f[9]&0x3f)<<8,
	}
	return k, k.width > 0 && k.height > 0
}

// vp8Packetizer splits VP8 frames into payloads with a 4-byte descriptor:
// a 15-bit picture ID, as browsers send.
type vp8Packetizer struct {
	pictureID uint16
}

const vp8DescriptorSize = 4

func (v *vp8Packetizer) sequenceHeader([]byte) {}

func (v *vp8Packetizer) frame(dst [][]byte, frame []byte, keyframe bool) ([][]byte, bool, bool) {
	if len(frame) == 0 {
		return dst, false, false
	}
	_, key := parseVP8KeyFrame(frame)
	step := rtpMaxPayload - vp8DescriptorSize
	for off := 0; off < len(frame); off += step {
		end := min(off+step, len(frame))
		p := make([]byte, 0, vp8DescriptorSize+end-off)
		first := byte(0x80) // X
		if off == 0 {
			first |= 0x10 // S, partition 0
		}
		p = append(p, first, 0x80, 0x80|byte(v.pictureID>>8), byte(v.pictureID)) // I; M and the picture ID
		dst = append(dst, append(p, frame[off:end]...))
	}
	v.pictureID = (v.pictureID + 1) & 0x7fff
	return dst, key, true
}
