package av

import (
	"errors"
	"fmt"
)

// VideoInfo is what SRS's API reports for a stream's video (spec §2.3).
// Profile and Level are "" where SRS prints null (AV1, VP9) and "Other" for
// values SRS has no name for.
type VideoInfo struct {
	Codec         Codec
	Profile       string
	Level         string
	Width, Height int
}

// AudioInfo is what SRS's API reports for a stream's audio (spec §2.3).
type AudioInfo struct {
	Codec      Codec
	SampleRate int
	Channels   int
	Profile    string // the AAC object type name; "Other" for other codecs
}

// ErrNotSequenceHeader is returned when stream info needs a sequence header
// and the packet is a frame.
var ErrNotSequenceHeader = errors.New("av: packet is not a sequence header")

// VideoInfoFromSequenceHeader reads codec, profile, level and size from a
// video sequence header packet: AVC/HEVC configuration records with their
// first SPS, or an AV1 configuration record with its sequence header OBU.
func VideoInfoFromSequenceHeader(p *Packet) (VideoInfo, error) {
	t, err := p.VideoTag()
	if err != nil {
		return VideoInfo{}, err
	}
	if !t.IsSequenceHeader() {
		return VideoInfo{}, ErrNotSequenceHeader
	}
	info := VideoInfo{Codec: t.Codec}
	body := p.Payload[t.PayloadOffset:]
	switch t.Codec {
	case CodecH264:
		err = info.fromAVC(body)
	case CodecH265:
		err = info.fromHEVC(body)
	case CodecAV1:
		var c AV1Config
		c, err = ParseAV1Config(body)
		info.Width, info.Height = c.Width, c.Height
	case CodecVP9:
	default:
		info.Profile, info.Level = "Other", "Other"
	}
	if err != nil {
		return VideoInfo{}, fmt.Errorf("av: %s sequence header: %w", t.Codec, err)
	}
	return info, nil
}

func (v *VideoInfo) fromAVC(body []byte) error {
	c, err := ParseAVCConfig(body)
	if err != nil {
		return err
	}
	// SRS reports the record's indications, which mirror the SPS.
	v.Profile, v.Level = H264ProfileName(c.Profile), H264LevelName(c.Level)
	if len(c.SPS) == 0 {
		return errors.New("av: AVC config has no SPS")
	}
	sps, err := ParseH264SPS(c.SPS[0])
	if err != nil {
		return err
	}
	v.Width, v.Height = sps.Width, sps.Height
	return nil
}

func (v *VideoInfo) fromHEVC(body []byte) error {
	c, err := ParseHEVCConfig(body)
	if err != nil {
		return err
	}
	v.Profile, v.Level = H265ProfileName(c.ProfileIDC), H265LevelName(c.LevelIDC)
	if len(c.SPS) == 0 {
		return errors.New("av: HEVC config has no SPS")
	}
	sps, err := ParseH265SPS(c.SPS[0])
	if err != nil {
		return err
	}
	v.Width, v.Height = sps.Width, sps.Height
	return nil
}

// AudioInfoFromPacket reads codec, rate, channels and profile from an audio
// packet: AAC from its sequence header, MP3 from a frame header, Opus from an
// enhanced-RTMP OpusHead, and any other codec from the FLV header bits.
func AudioInfoFromPacket(p *Packet) (AudioInfo, error) {
	t, err := p.AudioTag()
	if err != nil {
		return AudioInfo{}, err
	}
	info := AudioInfo{Codec: t.Codec, Profile: "Other", SampleRate: t.FLVSampleRate(), Channels: t.FLVChannels()}
	body := p.Payload[t.PayloadOffset:]
	switch {
	case t.Codec == CodecAAC:
		if !t.IsSequenceHeader() {
			return AudioInfo{}, ErrNotSequenceHeader
		}
		c, err := ParseAudioSpecificConfig(body)
		if err != nil {
			return AudioInfo{}, fmt.Errorf("av: AAC sequence header: %w", err)
		}
		info.SampleRate, info.Channels = c.OutputSampleRate, c.Channels
		if c.PS && c.Channels == 1 {
			info.Channels = 2 // parametric stereo decodes a mono core to stereo
		}
		info.Profile = AACObjectName(c.ObjectType)
	case t.Codec == CodecMP3 && t.PacketType == AudioPacketCodedFrames:
		h, err := ParseMP3Header(body)
		if err != nil {
			return AudioInfo{}, fmt.Errorf("av: MP3 frame: %w", err)
		}
		info.SampleRate, info.Channels = h.SampleRate, h.Channels
	case t.Codec == CodecOpus && t.Enhanced:
		if !t.IsSequenceHeader() {
			return AudioInfo{}, ErrNotSequenceHeader
		}
		ch, err := opusHeadChannels(body)
		if err != nil {
			return AudioInfo{}, err
		}
		info.SampleRate, info.Channels = 48000, ch // Opus always decodes at 48 kHz
	case t.Enhanced:
		return AudioInfo{}, fmt.Errorf("av: no stream info for enhanced audio %q", t.FourCC[:])
	}
	return info, nil
}

// opusHeadChannels reads the channel count of an OpusHead (RFC 7845 5.1).
func opusHeadChannels(b []byte) (int, error) {
	if len(b) < 19 || string(b[:8]) != "OpusHead" {
		return 0, errors.New("av: Opus sequence start is not an OpusHead")
	}
	if b[9] == 0 {
		return 0, errors.New("av: OpusHead has 0 channels")
	}
	return int(b[9]), nil
}

// H264ProfileName names an H.264 profile_idc as SRS's API does.
func H264ProfileName(profileIDC uint8) string {
	switch profileIDC {
	case 66:
		return "Baseline"
	case 77:
		return "Main"
	case 88:
		return "Extended"
	case 100:
		return "High"
	case 110:
		return "High(10)"
	case 122:
		return "High(422)"
	case 144:
		return "High(444)"
	case 244:
		return "High(444+Predictive)"
	}
	return "Other"
}

// H264LevelName names an H.264 level_idc as SRS's API does: levels 1 to 5.1
// only, so 1b (signalled as 1.1) shows as "1.1" and 5.2 and up as "Other".
func H264LevelName(levelIDC uint8) string {
	switch levelIDC {
	case 10, 20, 30, 40, 50:
		return fmt.Sprint(levelIDC / 10)
	case 11, 12, 13, 21, 22, 31, 32, 41, 51:
		return fmt.Sprintf("%d.%d", levelIDC/10, levelIDC%10)
	}
	return "Other"
}

// H265ProfileName names an H.265 general_profile_idc as SRS's API does.
func H265ProfileName(profileIDC uint8) string {
	switch profileIDC {
	case 1:
		return "Main"
	case 2:
		return "Main10"
	case 3:
		return "Main Still Picture"
	case 4:
		return "Rext"
	}
	return "Other"
}

// H265LevelName names an H.265 general_level_idc (30 × the level) as SRS's
// API does, for levels 1 to 6.2.
func H265LevelName(levelIDC uint8) string {
	switch levelIDC {
	case 30, 60, 90, 120, 150, 180:
		return fmt.Sprint(levelIDC / 30)
	case 63, 93, 123, 153, 156, 183, 186:
		return fmt.Sprintf("%d.%d", levelIDC/30, levelIDC%30/3)
	}
	return "Other"
}

// AACObjectName names an AAC audio object type as SRS's API does.
func AACObjectName(objectType int) string {
	switch objectType {
	case AACObjectMain:
		return "Main"
	case AACObjectLC:
		return "LC"
	case AACObjectSSR:
		return "SSR"
	case AACObjectSBR:
		return "HE"
	case AACObjectPS:
		return "HEv2"
	}
	return "Other"
}
