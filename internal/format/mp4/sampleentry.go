package mp4

import (
	"github.com/castd/castd/internal/av"
)

// writeStsd writes the sample description box with the track's one entry.
func writeStsd(w *BoxWriter, t *Track) {
	w.BeginFull("stsd", 0, 0)
	w.U32(1) // entry_count
	typ, err := t.sampleEntryType()
	if err != nil {
		w.fail(err)
	}
	w.Begin(typ)
	w.Zeros(6) // reserved
	w.U16(1)   // data_reference_index: the one 'url ' entry, data in this file
	if t.Kind == KindVideo {
		writeVisualSampleEntry(w, t)
	} else {
		writeAudioSampleEntry(w, t)
	}
	w.End()
	w.End()
}

// writeVisualSampleEntry writes the VisualSampleEntry fields
// (ISO/IEC 14496-12 12.1.3) and the codec's configuration box.
func writeVisualSampleEntry(w *BoxWriter, t *Track) {
	w.Zeros(16) // pre_defined, reserved, pre_defined[3]
	w.U16(uint16(t.Width))
	w.U16(uint16(t.Height))
	w.U32(0x00480000) // horizresolution, 72 dpi
	w.U32(0x00480000) // vertresolution
	w.U32(0)          // reserved
	w.U16(1)          // frame_count
	w.Zeros(32)       // compressorname: empty Pascal string
	w.U16(0x0018)     // depth: colour, no alpha
	w.U16(0xffff)     // pre_defined = -1
	switch t.Codec {
	case av.CodecH264:
		w.Begin("avcC")
	case av.CodecH265:
		w.Begin("hvcC")
	default:
		w.Begin("av1C")
	}
	// The FLV sequence header body is exactly the configuration record.
	w.Write(t.Config)
	w.End()
}

// writeAudioSampleEntry writes the AudioSampleEntry fields (12.2.3) and an
// esds (ISO/IEC 14496-14 5.6) for AAC or MPEG audio.
func writeAudioSampleEntry(w *BoxWriter, t *Track) {
	w.Zeros(8) // reserved
	w.U16(uint16(t.Channels))
	w.U16(16) // samplesize
	w.U16(0)  // pre_defined
	w.U16(0)  // reserved
	// samplerate is 16.16 fixed point; rates past 65535 Hz do not fit and
	// are left to the decoder configuration (and the media timescale).
	if t.SampleRate <= 0xffff {
		w.U32(uint32(t.SampleRate) << 16)
	} else {
		w.U32(0)
	}
	writeEsds(w, t)
}

// MPEG-4 Systems (ISO/IEC 14496-1) descriptor tags and values used in esds.
const (
	tagESDescriptor        = 0x03
	tagDecoderConfig       = 0x04
	tagDecoderSpecificInfo = 0x05
	tagSLConfig            = 0x06
	objectTypeAAC          = 0x40 // ISO/IEC 14496-3 audio
	streamTypeAudio        = 0x05
)

func writeEsds(w *BoxWriter, t *Track) {
	oti := uint8(objectTypeAAC)
	var dsi []byte
	if t.Codec == av.CodecAAC {
		dsi = t.Config
	} else {
		// MPEG-1/2 audio needs no decoder specific info: the frame
		// headers say everything (14496-1 Table 5 note).
		oti = mp3ObjectType(t.SampleRate)
	}
	dcdLen := 13
	if len(dsi) > 0 {
		dcdLen += descriptorHeaderSize(len(dsi)) + len(dsi)
	}
	esLen := 3 + descriptorHeaderSize(dcdLen) + dcdLen + 3

	w.BeginFull("esds", 0, 0)
	writeDescriptorHeader(w, tagESDescriptor, esLen)
	w.U16(0) // ES_ID: 0 in files, the track id identifies the stream
	w.U8(0)  // no dependsOn, URL or OCR stream
	writeDescriptorHeader(w, tagDecoderConfig, dcdLen)
	w.U8(oti)
	w.U8(streamTypeAudio<<2 | 1) // streamType, upStream 0, reserved 1
	w.U24(0)                     // bufferSizeDB: unknown
	w.U32(0)                     // maxBitrate: unknown
	w.U32(0)                     // avgBitrate: unknown (variable)
	if len(dsi) > 0 {
		writeDescriptorHeader(w, tagDecoderSpecificInfo, len(dsi))
		w.Write(dsi)
	}
	writeDescriptorHeader(w, tagSLConfig, 1)
	w.U8(0x02) // predefined: reserved for MP4 files
	w.End()
}

// descriptorHeaderSize is the tag byte plus the expandable length: seven
// bits per byte, the high bit saying another byte follows.
func descriptorHeaderSize(n int) int {
	switch {
	case n < 1<<7:
		return 2
	case n < 1<<14:
		return 3
	case n < 1<<21:
		return 4
	}
	return 5
}

func writeDescriptorHeader(w *BoxWriter, tag uint8, n int) {
	w.U8(tag)
	for shift := 7 * (descriptorHeaderSize(n) - 2); shift > 0; shift -= 7 {
		w.U8(byte(n>>shift) | 0x80)
	}
	w.U8(byte(n) & 0x7f)
}
