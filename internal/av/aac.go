package av

import (
	"errors"
	"fmt"
)

// MPEG-4 audio object types (ISO/IEC 14496-3 Table 1.1) this package names.
const (
	AACObjectMain = 1
	AACObjectLC   = 2
	AACObjectSSR  = 3
	AACObjectLTP  = 4
	AACObjectSBR  = 5  // HE-AAC
	AACObjectPS   = 29 // HE-AAC v2
)

// aacSampleRates maps samplingFrequencyIndex to Hz (Table 1.18); 13 and 14
// are reserved and 15 means an explicit 24-bit frequency follows.
var aacSampleRates = [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// aacChannels maps channelConfiguration to a channel count (Table 1.19 and
// its later amendments); 0 means the count comes from a program config element.
var aacChannels = [16]int{0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0}

// AACConfig is a parsed AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1).
type AACConfig struct {
	// ObjectType is the audioObjectType as first signalled: 5 (SBR) or 29 (PS)
	// for HE-AAC with explicit hierarchical signalling. SRS reports this one.
	ObjectType int
	// CoreObjectType is the object type of the underlying coder, e.g. 2 (LC)
	// for HE-AAC; it equals ObjectType for plain AAC. ADTS headers carry it.
	CoreObjectType  int
	SampleRateIndex int // 15 when the frequency is explicit
	SampleRate      int // of the core coder, in Hz
	ChannelConfig   int
	Channels        int // from ChannelConfig, or counted in the program config element

	// SBR and PS report explicit signalling of spectral band replication and
	// parametric stereo; OutputSampleRate is the rate after SBR, or SampleRate.
	SBR              bool
	PS               bool
	OutputSampleRate int

	FrameLength int // samples per frame: 1024, or 960 when frameLengthFlag is set
}

// ParseAudioSpecificConfig parses an AudioSpecificConfig, the body of an AAC
// sequence header. Only the general audio object types (AAC and its
// relatives) are parsed past the common fields.
func ParseAudioSpecificConfig(b []byte) (AACConfig, error) {
	var c AACConfig
	if len(b) < 2 {
		return c, fmt.Errorf("av: AudioSpecificConfig needs 2 bytes, have %d", len(b))
	}
	r := NewBitReader(b)
	c.ObjectType = readAACObjectType(r)
	var err error
	if c.SampleRateIndex, c.SampleRate, err = readAACSampleRate(r); err != nil {
		return c, err
	}
	c.ChannelConfig = int(r.ReadBits(4))
	c.CoreObjectType = c.ObjectType
	c.OutputSampleRate = c.SampleRate
	if c.ObjectType == AACObjectSBR || c.ObjectType == AACObjectPS {
		c.SBR, c.PS = true, c.ObjectType == AACObjectPS
		if _, c.OutputSampleRate, err = readAACSampleRate(r); err != nil {
			return c, err
		}
		c.CoreObjectType = readAACObjectType(r)
		if c.CoreObjectType == 22 { // ER BSAC
			r.Skip(4) // extensionChannelConfiguration
		}
	}
	if err := r.Err(); err != nil {
		return c, fmt.Errorf("av: AudioSpecificConfig: %w", err)
	}
	if c.ObjectType == 0 || c.CoreObjectType == 0 {
		return c, errors.New("av: AudioSpecificConfig object type 0 is invalid")
	}
	c.Channels = aacChannels[c.ChannelConfig]
	c.FrameLength = 1024
	if !isGeneralAudioObject(c.CoreObjectType) {
		return c, nil // other coders: the common fields are all we report
	}
	if err := c.readGASpecificConfig(r, b); err != nil {
		return c, err
	}
	c.readSyncExtension(r)
	return c, nil
}

func readAACObjectType(r *BitReader) int {
	t := int(r.ReadBits(5))
	if t == 31 { // escape: 32 + the next 6 bits
		t = 32 + int(r.ReadBits(6))
	}
	return t
}

func readAACSampleRate(r *BitReader) (index, rate int, err error) {
	index = int(r.ReadBits(4))
	switch {
	case index == 15:
		rate = int(r.ReadBits(24))
	case index < len(aacSampleRates):
		rate = aacSampleRates[index]
	}
	if r.Err() == nil && rate == 0 {
		return index, 0, fmt.Errorf("av: AAC sampling frequency index %d is invalid", index)
	}
	return index, rate, nil
}

// isGeneralAudioObject reports whether GASpecificConfig follows (1.6.2.1).
func isGeneralAudioObject(t int) bool {
	switch t {
	case 1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23:
		return true
	}
	return false
}

// readGASpecificConfig reads GASpecificConfig (4.4.1) for the frame length
// and, with channelConfiguration 0, the channel count of the program config
// element.
func (c *AACConfig) readGASpecificConfig(r *BitReader, asc []byte) error {
	if r.ReadFlag() { // frameLengthFlag
		c.FrameLength = 960
	}
	if r.ReadFlag() { // dependsOnCoreCoder
		r.Skip(14) // coreCoderDelay
	}
	extension := r.ReadFlag()
	if c.ChannelConfig == 0 {
		n, err := readAACProgramConfigChannels(r)
		if err != nil {
			return err
		}
		c.Channels = n
	}
	if c.CoreObjectType == 6 || c.CoreObjectType == 20 {
		r.Skip(3) // layerNr
	}
	if extension {
		switch c.CoreObjectType {
		case 22:
			r.Skip(16) // numOfSubFrame, layer_length
		case 17, 19, 20, 23:
			r.Skip(3) // resilience flags
		}
		r.Skip(1) // extensionFlag3
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("av: AudioSpecificConfig GASpecificConfig (%d bytes): %w", len(asc), err)
	}
	return nil
}

// readAACProgramConfigChannels reads a program_config_element (4.4.1.1) and
// counts its output channels: a channel pair element counts two.
func readAACProgramConfigChannels(r *BitReader) (int, error) {
	r.Skip(4 + 2 + 4) // element_instance_tag, object_type, sampling_frequency_index
	front, side, back := int(r.ReadBits(4)), int(r.ReadBits(4)), int(r.ReadBits(4))
	lfe, assoc, cc := int(r.ReadBits(2)), int(r.ReadBits(3)), int(r.ReadBits(4))
	if r.ReadFlag() { // mono_mixdown_present
		r.Skip(4)
	}
	if r.ReadFlag() { // stereo_mixdown_present
		r.Skip(4)
	}
	if r.ReadFlag() { // matrix_mixdown_idx_present
		r.Skip(3)
	}
	channels := lfe
	for i := 0; i < front+side+back; i++ {
		if r.ReadFlag() { // is_cpe
			channels += 2
		} else {
			channels++
		}
		r.Skip(4) // element tag
	}
	r.Skip(4*lfe + 4*assoc + 5*cc)
	r.ByteAlign()
	r.Skip(8 * int(r.ReadU8())) // comment_field_data
	if err := r.Err(); err != nil {
		return 0, fmt.Errorf("av: AAC program config element: %w", err)
	}
	return channels, nil
}

// readSyncExtension reads the backward-compatible SBR/PS signalling that may
// trail the config (1.6.5.2): sync word 0x2b7 then SBR, then 0x548 then PS.
// Trailing bits that do not form it are ignored, as decoders do.
func (c *AACConfig) readSyncExtension(r *BitReader) {
	if c.ObjectType == AACObjectSBR || c.ObjectType == AACObjectPS {
		return // already signalled up front
	}
	if r.BitsLeft() < 16 || r.ReadBits(11) != 0x2b7 {
		return
	}
	ext := readAACObjectType(r)
	if ext != AACObjectSBR {
		return
	}
	sbr := r.ReadFlag()
	if r.Err() != nil {
		return
	}
	c.SBR = sbr
	if !sbr {
		return
	}
	if _, rate, err := readAACSampleRate(r); err == nil && r.Err() == nil {
		c.OutputSampleRate = rate
	}
	if r.BitsLeft() >= 12 && r.ReadBits(11) == 0x548 {
		ps := r.ReadFlag()
		if r.Err() == nil {
			c.PS = ps
		}
	}
}
