package av

import "fmt"

// ADTSHeaderSize is the size of an ADTS header without CRC.
const ADTSHeaderSize = 7

// MaxADTSPayload is the largest raw AAC frame one ADTS header can describe.
const MaxADTSPayload = 1<<13 - 1 - ADTSHeaderSize

// ADTSHeader returns the 7-byte ADTS header (ISO/IEC 13818-7 6.2 / 14496-3
// 1.A.3) for one raw AAC frame of frameLen bytes, as MPEG-TS and raw .aac
// output need. HE-AAC is described by its core (implicit SBR signalling), and
// an explicit frequency by the nearest index. frameLen must not exceed
// MaxADTSPayload: the 13-bit length field would wrap.
func (c AACConfig) ADTSHeader(frameLen int) [ADTSHeaderSize]byte {
	profile := c.CoreObjectType - 1
	if profile < 0 || profile > 3 {
		profile = AACObjectLC - 1
	}
	index := c.SampleRateIndex
	if index >= len(aacSampleRates) {
		index = nearestAACSampleRateIndex(c.SampleRate)
	}
	ch := c.ChannelConfig & 0x07
	total := (frameLen + ADTSHeaderSize) & 0x1fff
	return [ADTSHeaderSize]byte{
		0xff,
		0xf1, // MPEG-4, layer 0, no CRC
		byte(profile<<6 | index<<2 | ch>>2),
		byte(ch<<6 | total>>11),
		byte(total >> 3),
		byte(total<<5 | 0x1f), // buffer fullness 0x7ff: variable rate
		0xfc,                  // the rest of the fullness, one raw data block
	}
}

func nearestAACSampleRateIndex(rate int) int {
	best := 0
	for i, r := range aacSampleRates {
		if abs(r-rate) < abs(aacSampleRates[best]-rate) {
			best = i
		}
	}
	return best
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// ADTSFrame describes one parsed ADTS header.
type ADTSFrame struct {
	Config       AACConfig
	HeaderLength int // 7, or 9 with CRC
	FrameLength  int // header included
	RawBlocks    int // number_of_raw_data_blocks_in_frame + 1
}

// ParseADTSHeader parses the ADTS header at the start of b. The returned
// Config describes the stream as an AudioSpecificConfig would.
func ParseADTSHeader(b []byte) (ADTSFrame, error) {
	var f ADTSFrame
	if len(b) < ADTSHeaderSize {
		return f, fmt.Errorf("av: ADTS header needs 7 bytes, have %d", len(b))
	}
	if b[0] != 0xff || b[1]&0xf6 != 0xf0 {
		return f, fmt.Errorf("av: ADTS sync word not found (%02x %02x)", b[0], b[1])
	}
	f.HeaderLength = ADTSHeaderSize
	if b[1]&0x01 == 0 { // protection_absent == 0: a CRC follows
		f.HeaderLength += 2
	}
	index := int(b[2]>>2) & 0x0f
	if index >= len(aacSampleRates) {
		return f, fmt.Errorf("av: ADTS sampling frequency index %d is invalid", index)
	}
	ch := int(b[2]&0x01)<<2 | int(b[3]>>6)
	f.Config = AACConfig{
		ObjectType:      int(b[2]>>6) + 1,
		SampleRateIndex: index,
		SampleRate:      aacSampleRates[index],
		ChannelConfig:   ch,
		Channels:        aacChannels[ch],
		FrameLength:     1024,
	}
	f.Config.CoreObjectType = f.Config.ObjectType
	f.Config.OutputSampleRate = f.Config.SampleRate
	f.FrameLength = int(b[3]&0x03)<<11 | int(b[4])<<3 | int(b[5]>>5)
	f.RawBlocks = int(b[6]&0x03) + 1
	if f.FrameLength < f.HeaderLength {
		return f, fmt.Errorf("av: ADTS frame length %d is shorter than its header", f.FrameLength)
	}
	return f, nil
}

// AudioSpecificConfig encodes c's object type, sampling frequency and channel
// configuration as a minimal AudioSpecificConfig (GASpecificConfig all zero;
// general audio object types only),
// e.g. to publish ADTS input over RTMP. HE-AAC is written as its core, which
// decoders upgrade implicitly. Channel configuration 0 needs a program config
// element this encoder does not write, so it is an error.
func (c AACConfig) AudioSpecificConfig() ([]byte, error) {
	if c.ChannelConfig <= 0 || c.ChannelConfig > 15 {
		return nil, fmt.Errorf("av: cannot write an AudioSpecificConfig for channel configuration %d", c.ChannelConfig)
	}
	if c.SampleRate <= 0 || c.SampleRate >= 1<<24 {
		return nil, fmt.Errorf("av: cannot write an AudioSpecificConfig for %d Hz", c.SampleRate)
	}
	var w bitWriter
	aot := c.CoreObjectType
	if aot == 0 {
		aot = c.ObjectType
	}
	if !isGeneralAudioObject(aot) {
		return nil, fmt.Errorf("av: cannot write an AudioSpecificConfig for object type %d", aot)
	}
	w.write(uint64(aot), 5)
	if c.SampleRateIndex < len(aacSampleRates) && aacSampleRates[c.SampleRateIndex] == c.SampleRate {
		w.write(uint64(c.SampleRateIndex), 4)
	} else {
		w.write(15, 4)
		w.write(uint64(c.SampleRate), 24)
	}
	w.write(uint64(c.ChannelConfig), 4)
	if c.FrameLength == 960 {
		w.write(1, 1)
	} else {
		w.write(0, 1)
	}
	w.write(0, 2) // dependsOnCoreCoder, extensionFlag
	return w.bytes(), nil
}
