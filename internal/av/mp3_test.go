package av

import "testing"

func TestParseMP3Header(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want MP3Header
	}{
		// First frames of `ffmpeg -f lavfi -i sine=r=R -ac C -c:a libmp3lame -b:a B`.
		{"MPEG-1 L3 192k 48000 stereo (mp3 muxer Info frame)", "fffbb400",
			MP3Header{Version: 1, Layer: 3, Bitrate: 192000, SampleRate: 48000, ChannelMode: 0, Channels: 2, FrameLength: 576, Samples: 1152}},
		{"MPEG-1 L3 128k 44100 joint stereo (FLV)", "fffb9064",
			MP3Header{Version: 1, Layer: 3, Bitrate: 128000, SampleRate: 44100, ChannelMode: 1, Channels: 2, FrameLength: 417, Samples: 1152}},
		{"MPEG-2 L3 32k 22050 mono (FLV)", "fff340c4",
			MP3Header{Version: 2, Layer: 3, Bitrate: 32000, SampleRate: 22050, ChannelMode: 3, Channels: 1, FrameLength: 104, Samples: 576}},
		{"MPEG-2 L3 32k 22050 mono padded (FLV)", "fff342c4",
			MP3Header{Version: 2, Layer: 3, Bitrate: 32000, SampleRate: 22050, Padding: true, ChannelMode: 3, Channels: 1, FrameLength: 105, Samples: 576}},
		{"MPEG-2.5 L3 24k 8000 mono (mp3 muxer Info frame)", "ffe338c0",
			MP3Header{Version: 25, Layer: 3, Bitrate: 24000, SampleRate: 8000, ChannelMode: 3, Channels: 1, FrameLength: 216, Samples: 576}},
		// Layer I and II from the bit layout of ISO/IEC 11172-3 2.4.1.3.
		{"MPEG-1 L2 256k 48000 dual channel", "fffdc480",
			MP3Header{Version: 1, Layer: 2, Bitrate: 256000, SampleRate: 48000, ChannelMode: 2, Channels: 2, FrameLength: 768, Samples: 1152}},
		{"MPEG-1 L1 128k 44100 padded with CRC", "fffe4200",
			MP3Header{Version: 1, Layer: 1, CRC: true, Bitrate: 128000, SampleRate: 44100, Padding: true, Channels: 2, FrameLength: 140, Samples: 384}},
		{"MPEG-2 L1 256k 16000", "fff7e800",
			MP3Header{Version: 2, Layer: 1, Bitrate: 256000, SampleRate: 16000, Channels: 2, FrameLength: 768, Samples: 384}},
		{"free format", "fffb0400",
			MP3Header{Version: 1, Layer: 3, SampleRate: 48000, Channels: 2, Samples: 1152}},
	}
	for _, tt := range tests {
		got, err := ParseMP3Header(mustHex(t, tt.hex))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestParseMP3HeaderErrors(t *testing.T) {
	tests := []struct{ name, hex string }{
		{"short", "fffb90"},
		{"no sync", "fefb9064"},
		{"ADTS is not MPEG audio layer 1-3", "fff15080"},
		{"reserved version", "ffeb9064"},
		{"reserved layer", "fff99064"},
		{"bitrate index 15", "fffbf064"},
		{"sample rate index 3", "fffb9c64"},
	}
	for _, tt := range tests {
		if h, err := ParseMP3Header(mustHex(t, tt.hex)); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, h)
		}
	}
}
