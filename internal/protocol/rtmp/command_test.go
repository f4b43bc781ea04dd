package rtmp

import (
	"bytes"
	"testing"

	"github.com/castd/castd/internal/format/amf"
)

// amfStr and amfNum build AMF0 values by hand (AMF0 spec §2.2, §2.4).
func amfStr(s string) []byte { return append([]byte{0x02, byte(len(s) >> 8), byte(len(s))}, s...) }

func amfNum(hexBits ...byte) []byte { return append([]byte{0x00}, hexBits...) }

var (
	amfNull  = []byte{0x05}
	amfTwo   = amfNum(0x40, 0, 0, 0, 0, 0, 0, 0) // 2.0
	amfOne   = amfNum(0x3F, 0xF0, 0, 0, 0, 0, 0, 0)
	amfZero  = amfNum(0, 0, 0, 0, 0, 0, 0, 0)
	amfFalse = []byte{0x01, 0x00}
)

func amfObj(props ...[]byte) []byte {
	b := []byte{0x03}
	for _, p := range props {
		b = append(b, p...)
	}
	return append(b, 0, 0, 0x09)
}

func amfKey(k string, v []byte) []byte { return append(append([]byte{0, byte(len(k))}, k...), v...) }

func cmdMsg(typ uint8, body []byte) *Message { return &Message{Type: typ, Payload: body} }

func TestDecodeCommandVectors(t *testing.T) {
	createStream := cat(amfStr("createStream"), amfTwo, amfNull)
	tests := []struct {
		name    string
		m       *Message
		cmd     string
		tid     float64
		nargs   int
		wantErr bool
	}{
		{"createStream", cmdMsg(20, createStream), "createStream", 2, 0, false},
		{"AMF3 command skips the format byte", cmdMsg(17, cat([]byte{0}, createStream)), "createStream", 2, 0, false},
		{"publish", cmdMsg(20, cat(amfStr("publish"), amfZero, amfNull, amfStr("cam?k=v"), amfStr("live"))), "publish", 0, 2, false},
		{"trailing garbage is tolerated", cmdMsg(20, cat(createStream, []byte{0xFF, 0xEE})), "createStream", 2, 0, false},
		{"no command object", cmdMsg(20, cat(amfStr("_checkbw"), amfOne)), "_checkbw", 1, 0, false},
		{"empty", cmdMsg(20, nil), "", 0, 0, true},
		{"empty AMF3", cmdMsg(17, nil), "", 0, 0, true},
		{"name is a number", cmdMsg(20, cat(amfTwo, amfTwo)), "", 0, 0, true},
		{"empty name", cmdMsg(20, cat(amfStr(""), amfTwo)), "", 0, 0, true},
		{"no transaction id", cmdMsg(20, amfStr("connect")), "", 0, 0, true},
		{"transaction id is a string", cmdMsg(20, cat(amfStr("connect"), amfStr("1"))), "", 0, 0, true},
		{"not a command", cmdMsg(9, createStream), "", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := DecodeCommand(tt.m)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("decoded %+v, want error", cmd)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cmd.Name != tt.cmd || cmd.TransactionID != tt.tid || len(cmd.Args) != tt.nargs || cmd.AMF3 != (tt.m.Type == 17) {
				t.Errorf("got %+v", cmd)
			}
		})
	}
}

func TestParseConnect(t *testing.T) {
	// The connect ffmpeg sends, built by hand.
	body := cat(amfStr("connect"), amfOne, amfObj(
		amfKey("app", amfStr("live")),
		amfKey("flashVer", amfStr("LNX 9,0,124,2")),
		amfKey("tcUrl", amfStr("rtmp://127.0.0.1:1935/live")),
		amfKey("fpad", amfFalse),
		amfKey("capabilities", amfNum(0x40, 0x2E, 0, 0, 0, 0, 0, 0)),   // 15
		amfKey("objectEncoding", amfNum(0x40, 0x08, 0, 0, 0, 0, 0, 0)), // 3
	), amfObj(amfKey("token", amfStr("abc"))))
	cmd, err := DecodeCommand(cmdMsg(20, body))
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseConnect(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if req.App != "live" || req.TcURL != "rtmp://127.0.0.1:1935/live" || req.FlashVer != "LNX 9,0,124,2" || req.ObjectEncoding != 3 || req.TransactionID != 1 {
		t.Errorf("got %+v", req)
	}
	if tok, _ := req.Args.String("token"); tok != "abc" {
		t.Errorf("args = %v", req.Args)
	}
	if v, _ := req.Object.Bool("fpad"); v {
		t.Error("raw object lost fpad")
	}

	// No tcUrl: rejected like SRS. Non-object args: dropped.
	noTC, _ := DecodeCommand(cmdMsg(20, cat(amfStr("connect"), amfOne, amfObj(amfKey("app", amfStr("live"))))))
	if _, err := ParseConnect(noTC); err == nil {
		t.Error("connect without tcUrl accepted")
	}
	strArgs, _ := DecodeCommand(cmdMsg(20, cat(amfStr("connect"), amfOne, amfObj(amfKey("tcUrl", amfStr("rtmp://h/a"))), amfStr("x"))))
	if req, err := ParseConnect(strArgs); err != nil || req.Args != nil {
		t.Errorf("string args: %+v %v", req, err)
	}
	notObj, _ := DecodeCommand(cmdMsg(20, cat(amfStr("connect"), amfOne, amfNull)))
	if _, err := ParseConnect(notObj); err == nil {
		t.Error("null command object accepted")
	}
	// An AMF3 command object (objectEncoding 3 clients).
	obj3 := &Command{Name: CmdConnect, TransactionID: 1, Object: amf.Object3{DynamicProps: amf.Object{{Key: "tcUrl", Value: "rtmp://h/a"}, {Key: "objectEncoding", Value: int32(3)}}}}
	if req, err := ParseConnect(obj3); err != nil || req.TcURL != "rtmp://h/a" || req.ObjectEncoding != 3 {
		t.Errorf("AMF3 object: %+v %v", req, err)
	}
}

func TestParsePublishPlayPause(t *testing.T) {
	dec := func(parts ...[]byte) *Command {
		t.Helper()
		cmd, err := DecodeCommand(cmdMsg(20, cat(parts...)))
		if err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	pub, err := ParsePublish(dec(amfStr("publish"), amfZero, amfNull, amfStr("cam?token=1")))
	if err != nil || pub.Name != "cam?token=1" || pub.Type != "live" {
		t.Errorf("publish default: %+v %v", pub, err)
	}
	pub, err = ParsePublish(dec(amfStr("publish"), amfZero, amfNull, amfStr("cam"), amfStr("record")))
	if err != nil || pub.Type != "record" {
		t.Errorf("publish record: %+v %v", pub, err)
	}
	if _, err := ParsePublish(dec(amfStr("publish"), amfZero, amfNull)); err == nil {
		t.Error("publish without a name accepted")
	}

	play, err := ParsePlay(dec(amfStr("play"), amfZero, amfNull, amfStr("cam")))
	if err != nil || play.Name != "cam" || play.Start != -2 || play.Duration != -1 || !play.Reset {
		t.Errorf("play defaults: %+v %v", play, err)
	}
	play, err = ParsePlay(dec(amfStr("play"), amfZero, amfNull, amfStr("cam"), amfOne, amfTwo, amfFalse))
	if err != nil || play.Start != 1 || play.Duration != 2 || play.Reset {
		t.Errorf("play full: %+v %v", play, err)
	}
	play, err = ParsePlay(dec(amfStr("play"), amfZero, amfNull, amfStr("cam"), amfOne, amfTwo, amfZero))
	if err != nil || play.Reset {
		t.Errorf("play reset as number: %+v %v", play, err)
	}
	play, err = ParsePlay(dec(amfStr("play2"), amfZero, amfNull, amfObj(amfKey("streamName", amfStr("hd")), amfKey("start", amfOne))))
	if err != nil || play.Name != "hd" || play.Start != 1 {
		t.Errorf("play2: %+v %v", play, err)
	}
	if _, err := ParsePlay(dec(amfStr("play"), amfZero, amfNull, amfOne)); err == nil {
		t.Error("play with a numeric name accepted")
	}

	pause, err := ParsePause(dec(amfStr("pause"), amfZero, amfNull, []byte{0x01, 0x01}, amfTwo))
	if err != nil || !pause.Pause || pause.Time != 2 {
		t.Errorf("pause: %+v %v", pause, err)
	}
	if _, err := ParsePause(dec(amfStr("pause"), amfZero, amfNull)); err == nil {
		t.Error("pause without a flag accepted")
	}
}

func TestEncodeCommandBytes(t *testing.T) {
	got, err := EncodeCommand("createStream", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := cat(amfStr("createStream"), amfTwo, amfNull); !bytes.Equal(got, want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
}

func TestMetadataBody(t *testing.T) {
	meta := cat(amfStr("onMetaData"), []byte{0x08, 0, 0, 0, 1}, amfKey("width", amfTwo), []byte{0, 0, 9})
	tests := []struct {
		name string
		m    *Message
		want []byte
		key  string
		ok   bool
	}{
		{"setDataFrame stripped", cmdMsg(18, cat(amfStr("@setDataFrame"), meta)), meta, "onMetaData", true},
		{"onMetaData as is", cmdMsg(18, meta), meta, "onMetaData", true},
		{"AMF3 data", cmdMsg(15, cat([]byte{0}, meta)), meta, "onMetaData", true},
		{"other script data", cmdMsg(18, amfStr("onTextData")), amfStr("onTextData"), "onTextData", true},
		{"ffmpeg timecode", cmdMsg(18, []byte{0, 0, 1, 2}), nil, "", false},
		{"not a string", cmdMsg(18, amfTwo), nil, "", false},
		{"setDataFrame alone", cmdMsg(18, amfStr("@setDataFrame")), nil, "", false},
		{"garbage", cmdMsg(18, []byte{0x02, 0xFF}), nil, "", false},
		{"video", cmdMsg(9, meta), nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, key, ok := MetadataBody(tt.m)
			if ok != tt.ok || key != tt.key || !bytes.Equal(body, tt.want) {
				t.Errorf("got %q %v % x", key, ok, body)
			}
		})
	}
	vs, err := DecodeData(cmdMsg(18, meta))
	if err != nil || len(vs) != 2 || vs[0] != "onMetaData" {
		t.Errorf("DecodeData = %v, %v", vs, err)
	}
}

func TestSplitAggregate(t *testing.T) {
	tag := func(typ byte, ts uint32, body []byte) []byte {
		h := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body)), byte(ts >> 16), byte(ts >> 8), byte(ts), byte(ts >> 24), 0, 0, 0}
		return cat(h, body, u32(uint32(11+len(body))))
	}
	agg := &Message{Type: TypeAggregate, Timestamp: 5000, StreamID: 1, Payload: cat(
		tag(9, 100, []byte{0x17, 1}), tag(8, 120, []byte{0xAF, 1}), tag(9, 140, nil), tag(9, 0x01000000, []byte{0x27}))}
	subs, err := SplitAggregate(agg)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ uint8
		ts  uint32
	}{{9, 5000}, {8, 5020}, {9, 5000 + 0x01000000 - 100}}
	if len(subs) != len(want) {
		t.Fatalf("%d sub-messages", len(subs))
	}
	for i, w := range want {
		if subs[i].Type != w.typ || subs[i].Timestamp != w.ts || subs[i].StreamID != 1 {
			t.Errorf("sub %d = %v", i, subs[i])
		}
	}
	bad := &Message{Type: TypeAggregate, Payload: []byte{9, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 1}}
	if _, err := SplitAggregate(bad); err == nil {
		t.Error("oversized tag accepted")
	}
	if _, err := SplitAggregate(&Message{Type: TypeAggregate, Payload: []byte{9, 0}}); err == nil {
		t.Error("truncated header accepted")
	}
}

func FuzzCommand(f *testing.F) {
	f.Add(uint8(20), cat(amfStr("connect"), amfOne, amfObj(amfKey("tcUrl", amfStr("rtmp://h/a")), amfKey("app", amfStr("a")))))
	f.Add(uint8(20), cat(amfStr("publish"), amfZero, amfNull, amfStr("cam?k=v"), amfStr("live")))
	f.Add(uint8(20), cat(amfStr("play"), amfZero, amfNull, amfStr("cam"), amfOne, amfTwo, amfFalse))
	f.Add(uint8(20), cat(amfStr("play2"), amfZero, amfNull, amfObj(amfKey("streamName", amfStr("hd")))))
	f.Add(uint8(20), cat(amfStr("pause"), amfZero, amfNull, []byte{1, 1}, amfTwo))
	f.Add(uint8(17), cat([]byte{0}, amfStr("createStream"), amfTwo, amfNull))
	f.Add(uint8(18), cat(amfStr("@setDataFrame"), amfStr("onMetaData"), []byte{0x08, 0, 0, 0, 0, 0, 0, 9}))
	f.Add(uint8(22), []byte{9, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x17, 0, 0, 0, 12})
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		m := &Message{Type: typ, Payload: body}
		MetadataBody(m)
		_, _ = DecodeData(m)
		if typ == TypeAggregate {
			_, _ = SplitAggregate(m)
		}
		cmd, err := DecodeCommand(m)
		if err != nil {
			return
		}
		if cmd.Name == "" {
			t.Fatal("decoded a command without a name")
		}
		_, _ = ParseConnect(cmd)
		_, _ = ParsePublish(cmd)
		_, _ = ParsePlay(cmd)
		_, _ = ParsePause(cmd)
		statusFromInfo(cmd.Name, cmd.Arg(0)).Redirect()
	})
}
