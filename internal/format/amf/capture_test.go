package amf

import (
	"bytes"
	"reflect"
	"testing"
)

// RTMP command and data message bodies captured from ffmpeg 5.1 (Lavf59.27.100)
// publishing and playing against a capture server, and connect/_result and
// onStatus bodies laid out as SRS sends them. Shared with the fuzz seeds.
var captures = []struct {
	name string
	hex  string
	want []any
}{
	{
		name: "ffmpeg publish connect",
		hex: "020007636f6e6e656374003ff00000000000000300036170700200046c69766500047479706502000a6e6f6e70726976617465" +
			"0008666c617368566572020024464d4c452f332e302028636f6d70617469626c653b204c61766635392e32372e31303029" +
			"0005746355726c02001b72746d703a2f2f3132372e302e302e313a31393335312f6c697665000009",
		want: []any{"connect", 1.0, Object{
			{"app", "live"},
			{"type", "nonprivate"},
			{"flashVer", "FMLE/3.0 (compatible; Lavf59.27.100)"},
			{"tcUrl", "rtmp://127.0.0.1:19351/live"},
		}},
	},
	{
		name: "ffmpeg play connect",
		hex: "020007636f6e6e656374003ff00000000000000300036170700200046c6976650008666c61736856657202000d4c4e5820392c" +
			"302c3132342c320005746355726c02001b72746d703a2f2f3132372e302e302e313a31393335322f6c697665000466706164" +
			"0100000c6361706162696c697469657300402e000000000000000b617564696f436f646563730040afce0000000000000b76" +
			"6964656f436f6465637300406f800000000000000d766964656f46756e6374696f6e003ff0000000000000000009",
		want: []any{"connect", 1.0, Object{
			{"app", "live"},
			{"flashVer", "LNX 9,0,124,2"},
			{"tcUrl", "rtmp://127.0.0.1:19352/live"},
			{"fpad", false},
			{"capabilities", 15.0},
			{"audioCodecs", 4071.0},
			{"videoCodecs", 252.0},
			{"videoFunction", 1.0},
		}},
	},
	{
		name: "ffmpeg releaseStream",
		hex:  "02000d72656c6561736553747265616d0040000000000000000502000a6c69766573747265616d",
		want: []any{"releaseStream", 2.0, nil, "livestream"},
	},
	{
		name: "ffmpeg FCPublish",
		hex:  "02000946435075626c6973680040080000000000000502000a6c69766573747265616d",
		want: []any{"FCPublish", 3.0, nil, "livestream"},
	},
	{
		name: "ffmpeg createStream",
		hex:  "02000c63726561746553747265616d00401000000000000005",
		want: []any{"createStream", 4.0, nil},
	},
	{
		name: "ffmpeg publish",
		hex:  "0200077075626c6973680040140000000000000502000a6c69766573747265616d0200046c697665",
		want: []any{"publish", 5.0, nil, "livestream", "live"},
	},
	{
		name: "ffmpeg play",
		hex:  "020004706c61790040100000000000000502000a6c69766573747265616d00c09f400000000000",
		want: []any{"play", 4.0, nil, "livestream", -2000.0},
	},
	{
		name: "ffmpeg @setDataFrame onMetaData",
		hex: "02000d40736574446174614672616d6502000a6f6e4d65746144617461080000000d00086475726174696f6e0040000000" +
			"0000000000057769647468004074000000000000000668656967687400406e000000000000000d766964656f646174617261" +
			"746500000000000000000000096672616d6572617465004039000000000000000c766964656f636f646563696400401c0000" +
			"00000000000d617564696f6461746172617465004050d88000000000000f617564696f73616d706c65726174650040e58880" +
			"00000000000f617564696f73616d706c6573697a65004030000000000000000673746572656f0100000c617564696f636f64" +
			"656369640040240000000000000007656e636f64657202000d4c61766635392e32372e313030000866696c6573697a650000" +
			"00000000000000000009",
		want: []any{"@setDataFrame", "onMetaData", ECMAArray{
			{"duration", 2.0},
			{"width", 320.0},
			{"height", 240.0},
			{"videodatarate", 0.0},
			{"framerate", 25.0},
			{"videocodecid", 7.0},
			{"audiodatarate", 67.3828125},
			{"audiosamplerate", 44100.0},
			{"audiosamplesize", 16.0},
			{"stereo", false},
			{"audiocodecid", 10.0},
			{"encoder", "Lavf59.27.100"},
			{"filesize", 0.0},
		}},
	},
	{
		name: "SRS connect _result",
		hex: "0200075f726573756c74003ff0000000000000030006666d7356657202000d464d532f332c352c332c383838000c6361706162" +
			"696c697469657300405fc0000000000000046d6f6465003ff00000000000000000090300056c6576656c0200067374617475" +
			"730004636f646502001d4e6574436f6e6e656374696f6e2e436f6e6e6563742e53756363657373000b6465736372697074" +
			"696f6e020014436f6e6e656374696f6e20737563636565646564000e6f626a656374456e636f64696e6700000000000000" +
			"00000004646174610800000002000776657273696f6e020005362e302e3000077372735f7069640040934800000000000000" +
			"09000009",
		want: []any{"_result", 1.0,
			Object{{"fmsVer", "FMS/3,5,3,888"}, {"capabilities", 127.0}, {"mode", 1.0}},
			Object{
				{"level", "status"},
				{"code", "NetConnection.Connect.Success"},
				{"description", "Connection succeeded"},
				{"objectEncoding", 0.0},
				{"data", ECMAArray{{"version", "6.0.0"}, {"srs_pid", 1234.0}}},
			}},
	},
	{
		name: "SRS onStatus NetStream.Publish.Start",
		hex: "0200086f6e537461747573000000000000000000050300056c6576656c0200067374617475730004636f64650200174e65" +
			"7453747265616d2e5075626c6973682e5374617274000b6465736372697074696f6e02001a53746172746564207075626c" +
			"697368696e672073747265616d2e0008636c69656e7469640200086b336a3978306132000009",
		want: []any{"onStatus", 0.0, nil, Object{
			{"level", "status"},
			{"code", "NetStream.Publish.Start"},
			{"description", "Started publishing stream."},
			{"clientid", "k3j9x0a2"},
		}},
	},
}

func TestCapturedBodies(t *testing.T) {
	for _, tc := range captures {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			got, err := DecodeAll0(b)
			if err != nil {
				t.Fatalf("DecodeAll0: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("DecodeAll0 =\n%#v\nwant\n%#v", got, tc.want)
			}
			enc, err := AppendAll0(nil, tc.want...)
			if err != nil {
				t.Fatalf("AppendAll0: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Fatalf("AppendAll0 =\n%x\nwant\n%x", enc, b)
			}
		})
	}
}

func TestConnectHelpers(t *testing.T) {
	vs, err := DecodeAll0(unhex(t, captures[0].hex))
	if err != nil {
		t.Fatal(err)
	}
	cmd := vs[2].(Object)
	if app, ok := cmd.String("app"); !ok || app != "live" {
		t.Errorf("app = %q, %v", app, ok)
	}
	if tc, ok := cmd.String("tcUrl"); !ok || tc != "rtmp://127.0.0.1:19351/live" {
		t.Errorf("tcUrl = %q, %v", tc, ok)
	}
	if _, ok := cmd.Number("objectEncoding"); ok {
		t.Error("objectEncoding present in ffmpeg's connect")
	}
}
