package av

import (
	"bytes"
	"testing"
)

// buildASC writes an AudioSpecificConfig field by field (ISO/IEC 14496-3 1.6.2.1).
func buildASC(fields func(w *bitWriter)) []byte {
	var w bitWriter
	fields(&w)
	return w.bytes()
}

func TestParseAudioSpecificConfig(t *testing.T) {
	backwardCompatibleHEv2 := buildASC(func(w *bitWriter) {
		w.write(2, 5) // AAC LC core
		w.write(6, 4) // 24000
		w.write(1, 4) // mono core
		w.write(0, 3) // GASpecificConfig
		w.write(0x2b7, 11)
		w.write(5, 5) // SBR
		w.write(1, 1)
		w.write(3, 4) // 48000 output
		w.write(0x548, 11)
		w.write(1, 1) // PS
	})
	escapedType := buildASC(func(w *bitWriter) {
		w.write(31, 5)
		w.write(42-32, 6) // USAC
		w.write(3, 4)
		w.write(2, 4)
	})
	explicitRate := buildASC(func(w *bitWriter) {
		w.write(2, 5)
		w.write(15, 4)
		w.write(50000, 24)
		w.write(2, 4)
		w.write(0b100, 3) // frameLengthFlag: 960 samples
	})
	programConfig := buildASC(func(w *bitWriter) {
		w.write(2, 5)
		w.write(3, 4)
		w.write(0, 4) // channelConfiguration 0: a PCE follows
		w.write(0, 3) // GASpecificConfig flags
		// program_config_element (4.4.1.1)
		w.write(0, 4)        // element_instance_tag
		w.write(1, 2)        // object_type
		w.write(3, 4)        // sampling_frequency_index
		w.write(2, 4)        // front elements
		w.write(0, 4)        // side elements
		w.write(1, 4)        // back elements
		w.write(1, 2)        // LFE elements
		w.write(0, 3)        // assoc data
		w.write(1, 4)        // valid cc elements
		w.write(0, 3)        // no mixdowns
		w.write(0b0_0000, 5) // front: SCE
		w.write(0b1_0001, 5) // front: CPE
		w.write(0b1_0010, 5) // back: CPE
		w.write(0, 4)        // LFE tag
		w.write(0, 5)        // cc element
		for w.nbits%8 != 0 {
			w.write(0, 1)
		}
		w.write(3, 8) // comment_field_bytes
		w.write(0x616263, 24)
	})
	tests := []struct {
		name   string
		asc    []byte
		want   AACConfig
		srsTag string
	}{
		{"ffmpeg LC 22050 stereo", mustHex(t, "139056e500"), AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 7, SampleRate: 22050, ChannelConfig: 2, Channels: 2, OutputSampleRate: 22050, FrameLength: 1024}, "LC"},
		{"ffmpeg LC 44100 stereo", mustHex(t, "121056e500"), AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 4, SampleRate: 44100, ChannelConfig: 2, Channels: 2, OutputSampleRate: 44100, FrameLength: 1024}, "LC"},
		{"ffmpeg LC 48000 mono", mustHex(t, "118856e500"), AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 1, Channels: 1, OutputSampleRate: 48000, FrameLength: 1024}, "LC"},
		{"ffmpeg LC 48000 5.1", mustHex(t, "11b056e500"), AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 6, Channels: 6, OutputSampleRate: 48000, FrameLength: 1024}, "LC"},
		{"ffmpeg Main 44100 stereo", mustHex(t, "0a1056e500"), AACConfig{ObjectType: 1, CoreObjectType: 1, SampleRateIndex: 4, SampleRate: 44100, ChannelConfig: 2, Channels: 2, OutputSampleRate: 44100, FrameLength: 1024}, "Main"},
		{"bare LC", mustHex(t, "1210"), AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 4, SampleRate: 44100, ChannelConfig: 2, Channels: 2, OutputSampleRate: 44100, FrameLength: 1024}, "LC"},
		{"HE-AAC hierarchical 48k", mustHex(t, "2b118800"), AACConfig{ObjectType: 5, CoreObjectType: 2, SampleRateIndex: 6, SampleRate: 24000, ChannelConfig: 2, Channels: 2, SBR: true, OutputSampleRate: 48000, FrameLength: 1024}, "HE"},
		{"HE-AAC v2 hierarchical 48k", mustHex(t, "eb098800"), AACConfig{ObjectType: 29, CoreObjectType: 2, SampleRateIndex: 6, SampleRate: 24000, ChannelConfig: 1, Channels: 1, SBR: true, PS: true, OutputSampleRate: 48000, FrameLength: 1024}, "HEv2"},
		{"HE-AAC v2 backward compatible", backwardCompatibleHEv2, AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 6, SampleRate: 24000, ChannelConfig: 1, Channels: 1, SBR: true, PS: true, OutputSampleRate: 48000, FrameLength: 1024}, "LC"},
		{"escaped object type", escapedType, AACConfig{ObjectType: 42, CoreObjectType: 42, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 2, Channels: 2, OutputSampleRate: 48000, FrameLength: 1024}, "Other"},
		{"explicit 50 kHz, 960 samples", explicitRate, AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 15, SampleRate: 50000, ChannelConfig: 2, Channels: 2, OutputSampleRate: 50000, FrameLength: 960}, "LC"},
		{"program config element 5.1", programConfig, AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 0, Channels: 6, OutputSampleRate: 48000, FrameLength: 1024}, "LC"},
		{"channel config 7 is 7.1", mustHex(t, "11b8"), AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 7, Channels: 8, OutputSampleRate: 48000, FrameLength: 1024}, "LC"},
	}
	for _, tt := range tests {
		got, err := ParseAudioSpecificConfig(tt.asc)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
		if name := AACObjectName(got.ObjectType); name != tt.srsTag {
			t.Errorf("%s: profile %q, want %q", tt.name, name, tt.srsTag)
		}
	}
}

func TestParseAudioSpecificConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		asc  []byte
	}{
		{"empty", nil},
		{"one byte", []byte{0x12}},
		{"object type 0", mustHex(t, "0210")},
		{"reserved frequency index 13", mustHex(t, "16900000")},
		{"explicit frequency cut", mustHex(t, "17801f")},
		{"SBR extension frequency reserved", mustHex(t, "2b168800")},
		{"PCE cut", mustHex(t, "118000")},
		{"escape cut", mustHex(t, "f8")},
	}
	for _, tt := range tests {
		if c, err := ParseAudioSpecificConfig(tt.asc); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, c)
		}
	}
}

func TestADTSHeaderMatchesFFmpeg(t *testing.T) {
	// The first ADTS header of `ffmpeg -f lavfi -i sine=r=44100 -ac 2 -c:a aac -f adts`.
	real := mustHex(t, "fff150802b3ffc")
	f, err := ParseADTSHeader(real)
	if err != nil {
		t.Fatal(err)
	}
	if f.HeaderLength != 7 || f.FrameLength != 345 || f.RawBlocks != 1 {
		t.Errorf("frame %+v", f)
	}
	c := f.Config
	if c.ObjectType != AACObjectLC || c.SampleRate != 44100 || c.Channels != 2 || c.SampleRateIndex != 4 {
		t.Errorf("config %+v", c)
	}
	if asc, err := c.AudioSpecificConfig(); err != nil || !bytes.Equal(asc, []byte{0x12, 0x10}) {
		t.Errorf("AudioSpecificConfig() = %x, %v; want 1210", asc, err)
	}
	// The same header from the sequence header ffmpeg put in FLV.
	fromASC, err := ParseAudioSpecificConfig(mustHex(t, "121056e500"))
	if err != nil {
		t.Fatal(err)
	}
	if h := fromASC.ADTSHeader(345 - 7); !bytes.Equal(h[:], real) {
		t.Errorf("ADTSHeader = %x, want %x", h, real)
	}
}

func TestADTSHeaderRoundTrip(t *testing.T) {
	configs := []string{"1210", "118856e500", "1390", "0a10", "11b0", "2b118800", "eb098800"}
	for _, hexASC := range configs {
		c, err := ParseAudioSpecificConfig(mustHex(t, hexASC))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 200, 2047, 2048, MaxADTSPayload} {
			h := c.ADTSHeader(n)
			f, err := ParseADTSHeader(h[:])
			if err != nil {
				t.Fatalf("%s/%d: %v", hexASC, n, err)
			}
			if f.FrameLength != n+ADTSHeaderSize || f.Config.ObjectType != c.CoreObjectType ||
				f.Config.SampleRate != c.SampleRate || f.Config.ChannelConfig != c.ChannelConfig {
				t.Errorf("%s/%d: header %x parses back as %+v", hexASC, n, h, f)
			}
		}
	}
	// An explicit frequency has no ADTS index: the nearest one is used.
	c := AACConfig{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 15, SampleRate: 47000, ChannelConfig: 2}
	h := c.ADTSHeader(10)
	if f, err := ParseADTSHeader(h[:]); err != nil || f.Config.SampleRate != 48000 {
		t.Errorf("explicit 47000 Hz: %+v, %v", f, err)
	}
	want := buildASC(func(w *bitWriter) {
		w.write(2, 5)
		w.write(15, 4)
		w.write(47000, 24)
		w.write(2, 4)
		w.write(0, 3)
	})
	if asc, err := c.AudioSpecificConfig(); err != nil || !bytes.Equal(asc, want) {
		t.Errorf("explicit AudioSpecificConfig() = %x, %v; want %x", asc, err, want)
	}
	for _, bad := range []AACConfig{
		{ObjectType: 2, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 0}, // needs a PCE
		{ObjectType: 0, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 2},
		{ObjectType: 42, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 2}, // USAC: no GASpecificConfig
		{ObjectType: 2, SampleRateIndex: 15, SampleRate: 0, ChannelConfig: 2},
	} {
		if asc, err := bad.AudioSpecificConfig(); err == nil {
			t.Errorf("%+v: wrote %x", bad, asc)
		}
	}
}

func TestParseADTSHeaderErrors(t *testing.T) {
	tests := []struct{ name, hex string }{
		{"short", "fff15080"},
		{"no sync", "fef150802b3ffc"},
		{"layer bits set", "fff350802b3ffc"},
		{"frequency index 13", "fff174802b3ffc"},
		{"length shorter than header", "fff15080001ffc"},
	}
	for _, tt := range tests {
		if f, err := ParseADTSHeader(mustHex(t, tt.hex)); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, f)
		}
	}
	withCRC, err := ParseADTSHeader(mustHex(t, "fff050802b3ffc0000"))
	if err != nil || withCRC.HeaderLength != 9 {
		t.Errorf("CRC header: %+v, %v", withCRC, err)
	}
}
