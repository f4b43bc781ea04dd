package rtmp

import (
	"errors"
	"fmt"

	"github.com/castd/castd/internal/format/amf"
)

// Command names (RTMP specification 1.0 §7.2, plus the FMLE extensions).
const (
	CmdConnect         = "connect"
	CmdCall            = "call"
	CmdClose           = "close"
	CmdCreateStream    = "createStream"
	CmdReleaseStream   = "releaseStream"
	CmdFCPublish       = "FCPublish"
	CmdFCUnpublish     = "FCUnpublish"
	CmdPublish         = "publish"
	CmdPlay            = "play"
	CmdPlay2           = "play2"
	CmdPause           = "pause"
	CmdSeek            = "seek"
	CmdCloseStream     = "closeStream"
	CmdDeleteStream    = "deleteStream"
	CmdGetStreamLength = "getStreamLength"
	CmdCheckBW         = "_checkbw"
	CmdResult          = "_result"
	CmdError           = "_error"
	CmdOnStatus        = "onStatus"
	CmdOnBWDone        = "onBWDone"
	CmdOnFCPublish     = "onFCPublish"
	CmdOnFCUnpublish   = "onFCUnpublish"

	DataSetDataFrame = "@setDataFrame"
	DataOnMetaData   = "onMetaData"
	DataSampleAccess = "|RtmpSampleAccess"
)

// ErrNotCommand is returned when decoding a message that is not a command.
var ErrNotCommand = errors.New("rtmp: not a command message")

// Command is a decoded AMF command message (types 20 and 17): a name, a
// transaction id, a command object (nil for AMF null) and the arguments.
type Command struct {
	Name          string
	TransactionID float64
	Object        any
	Args          []any
	AMF3          bool // arrived as an AMF3 command message (type 17)
}

// Arg returns argument i, or nil when absent.
func (c *Command) Arg(i int) any {
	if i < 0 || i >= len(c.Args) {
		return nil
	}
	return c.Args[i]
}

// StringArg returns argument i if it is a string.
func (c *Command) StringArg(i int) (string, bool) {
	s, ok := c.Arg(i).(string)
	return s, ok
}

// NumberArg returns argument i if it is a number.
func (c *Command) NumberArg(i int) (float64, bool) { return amf.Number(c.Arg(i)) }

// DecodeCommand decodes an AMF0 or AMF3 command message. AMF3 commands start
// with one format byte (0) followed by AMF0 values that may switch to AMF3.
func DecodeCommand(m *Message) (*Command, error) {
	body, amf3, err := amfBody(m, TypeCommandAMF0, TypeCommandAMF3)
	if err != nil {
		return nil, err
	}
	vs := decodeValues(body)
	cmd := &Command{AMF3: amf3}
	if len(vs) == 0 {
		return nil, fmt.Errorf("rtmp: decode command: no command name")
	}
	name, ok := vs[0].(string)
	if !ok || name == "" {
		return nil, fmt.Errorf("rtmp: decode command: name is %T, not a string", vs[0])
	}
	cmd.Name = name
	if len(vs) < 2 {
		return nil, fmt.Errorf("rtmp: decode command %q: no transaction id", name)
	}
	if cmd.TransactionID, ok = amf.Number(vs[1]); !ok {
		return nil, fmt.Errorf("rtmp: decode command %q: transaction id is %T", name, vs[1])
	}
	if len(vs) > 2 {
		cmd.Object = vs[2]
		cmd.Args = vs[3:]
	}
	return cmd, nil
}

// amfBody returns the AMF0 body of a command or data message.
func amfBody(m *Message, amf0Type, amf3Type uint8) ([]byte, bool, error) {
	switch m.Type {
	case amf0Type:
		return m.Payload, false, nil
	case amf3Type:
		if len(m.Payload) == 0 {
			return nil, true, fmt.Errorf("rtmp: empty AMF3 message")
		}
		return m.Payload[1:], true, nil
	}
	return nil, false, fmt.Errorf("%w: type %d", ErrNotCommand, m.Type)
}

// decodeValues decodes the AMF0 values of a message body. If the body does
// not decode as a whole (trailing garbage, a truncated last argument), it
// keeps the values that decode, as SRS keeps the fields it needs.
func decodeValues(b []byte) []any {
	if vs, err := amf.DecodeAll0(b); err == nil {
		return vs
	}
	var vs []any
	for len(b) > 0 {
		v, n, err := amf.Decode0(b)
		if err != nil || n <= 0 {
			break
		}
		vs = append(vs, v)
		b = b[n:]
	}
	return vs
}

// EncodeCommand returns an AMF0 command message body.
func EncodeCommand(name string, tid float64, object any, args ...any) ([]byte, error) {
	vs := append([]any{name, tid, object}, args...)
	b, err := amf.AppendAll0(nil, vs...)
	if err != nil {
		return nil, fmt.Errorf("rtmp: encode command %q: %w", name, err)
	}
	return b, nil
}

// writeCommand encodes and sends an AMF0 command on a message stream.
func (c *Conn) writeCommand(csid, streamID uint32, name string, tid float64, object any, args ...any) error {
	p, err := EncodeCommand(name, tid, object, args...)
	if err != nil {
		return err
	}
	if err := c.WriteMessage(&Message{Type: TypeCommandAMF0, CSID: csid, StreamID: streamID, Payload: p}); err != nil {
		return fmt.Errorf("rtmp: send %s: %w", name, err)
	}
	return nil
}

// WriteCommand sends an AMF0 command. Commands on message stream 0 go on
// chunk stream 3, the others on chunk stream 5, as SRS does.
func (c *Conn) WriteCommand(streamID uint32, name string, tid float64, object any, args ...any) error {
	csid := CSIDConnection
	if streamID != 0 {
		csid = CSIDStreamCommand
	}
	return c.writeCommand(csid, streamID, name, tid, object, args...)
}

// DecodeData decodes an AMF0 or AMF3 data message (types 18 and 15).
func DecodeData(m *Message) ([]any, error) {
	body, _, err := amfBody(m, TypeDataAMF0, TypeDataAMF3)
	if err != nil {
		return nil, err
	}
	vs, err := amf.DecodeAll0(body)
	if err != nil {
		return nil, fmt.Errorf("rtmp: decode data message: %w", err)
	}
	return vs, nil
}

// MetadataBody returns the AMF0 body of a data message with a leading
// "@setDataFrame" removed, so what remains starts with "onMetaData" as FLV
// script tags do. The result shares the message payload. ok is false when
// the message is not script data or is ffmpeg's 4-byte timecode data, which
// SRS drops (#3803).
func MetadataBody(m *Message) (body []byte, name string, ok bool) {
	b, _, err := amfBody(m, TypeDataAMF0, TypeDataAMF3)
	if err != nil || len(b) == 0 || len(b) == 4 && b[0] == 0x00 {
		return nil, "", false
	}
	v, n, err := amf.Decode0(b)
	if err != nil {
		return nil, "", false
	}
	name, isString := v.(string)
	if !isString {
		return nil, "", false
	}
	if name == DataSetDataFrame {
		rest := b[n:]
		v, _, err := amf.Decode0(rest)
		if err != nil {
			return nil, "", false
		}
		inner, isString := v.(string)
		if !isString {
			return nil, "", false
		}
		return rest, inner, true
	}
	return b, name, true
}

// ConnectRequest is a decoded connect command.
type ConnectRequest struct {
	TransactionID  float64
	App            string
	TcURL          string
	PageURL        string
	SwfURL         string
	FlashVer       string
	ObjectEncoding float64
	// Object is the whole command object, with every property the client sent.
	Object amf.Object
	// Args is the optional argument after the command object when it is an
	// object (SRS's debug_srs_upnode sends the client's args to the origin).
	Args amf.Object
}

// ParseConnect decodes a connect command. A tcUrl is required, as in SRS.
func ParseConnect(cmd *Command) (*ConnectRequest, error) {
	if cmd.Name != CmdConnect {
		return nil, fmt.Errorf("rtmp: parse connect: command is %q", cmd.Name)
	}
	obj, ok := toObject(cmd.Object)
	if !ok {
		return nil, fmt.Errorf("rtmp: parse connect: command object is %T", cmd.Object)
	}
	req := &ConnectRequest{TransactionID: cmd.TransactionID, Object: obj}
	if req.TcURL, ok = obj.String("tcUrl"); !ok {
		return nil, fmt.Errorf("rtmp: parse connect: no tcUrl")
	}
	req.App, _ = obj.String("app")
	req.PageURL, _ = obj.String("pageUrl")
	req.SwfURL, _ = obj.String("swfUrl")
	req.FlashVer, _ = obj.String("flashVer")
	req.ObjectEncoding, _ = numberProp(obj, "objectEncoding")
	if args, ok := toObject(cmd.Arg(0)); ok {
		req.Args = args
	}
	return req, nil
}

// PublishRequest is a decoded publish command.
type PublishRequest struct {
	TransactionID float64
	Name          string // as sent, including any ?query
	Type          string // "live" (default), "record" or "append"
}

// ParsePublish decodes a publish command.
func ParsePublish(cmd *Command) (*PublishRequest, error) {
	name, ok := cmd.StringArg(0)
	if cmd.Name != CmdPublish || !ok {
		return nil, fmt.Errorf("rtmp: parse publish: no stream name in %q", cmd.Name)
	}
	req := &PublishRequest{TransactionID: cmd.TransactionID, Name: name, Type: "live"}
	if t, ok := cmd.StringArg(1); ok && t != "" {
		req.Type = t
	}
	return req, nil
}

// PlayRequest is a decoded play (or play2) command.
type PlayRequest struct {
	TransactionID float64
	Name          string  // as sent, including any ?query
	Start         float64 // -2 (live, else recorded) when absent
	Duration      float64 // -1 (until the end) when absent
	Reset         bool    // true when absent
}

// ParsePlay decodes a play command, or a play2 command whose parameters
// object names the stream (streamName, start, len).
func ParsePlay(cmd *Command) (*PlayRequest, error) {
	req := &PlayRequest{TransactionID: cmd.TransactionID, Start: -2, Duration: -1, Reset: true}
	switch cmd.Name {
	case CmdPlay:
		name, ok := cmd.StringArg(0)
		if !ok {
			return nil, fmt.Errorf("rtmp: parse play: stream name is %T", cmd.Arg(0))
		}
		req.Name = name
		if v, ok := cmd.NumberArg(1); ok {
			req.Start = v
		}
		if v, ok := cmd.NumberArg(2); ok {
			req.Duration = v
		}
		switch r := cmd.Arg(3).(type) {
		case bool:
			req.Reset = r
		case float64:
			req.Reset = r != 0
		}
	case CmdPlay2:
		params := cmd.Arg(0)
		name, ok := lookup(params, "streamName")
		if req.Name, _ = name.(string); !ok || req.Name == "" {
			return nil, fmt.Errorf("rtmp: parse play2: no streamName")
		}
		if v, ok := numberProp(params, "start"); ok {
			req.Start = v
		}
		if v, ok := numberProp(params, "len"); ok {
			req.Duration = v
		}
	default:
		return nil, fmt.Errorf("rtmp: parse play: command is %q", cmd.Name)
	}
	return req, nil
}

// PauseRequest is a decoded pause command.
type PauseRequest struct {
	Pause bool    // true to pause, false to resume
	Time  float64 // stream time of the pause or resume, in ms
}

// ParsePause decodes a pause command.
func ParsePause(cmd *Command) (*PauseRequest, error) {
	flag, ok := cmd.Arg(0).(bool)
	if cmd.Name != CmdPause || !ok {
		return nil, fmt.Errorf("rtmp: parse pause: flag is %T", cmd.Arg(0))
	}
	t, _ := cmd.NumberArg(1)
	return &PauseRequest{Pause: flag, Time: t}, nil
}

// lookup returns a property of any AMF object-like value.
func lookup(v any, key string) (any, bool) {
	switch o := v.(type) {
	case amf.Object:
		return o.Get(key)
	case amf.ECMAArray:
		return o.Get(key)
	case amf.Object3:
		return o.Get(key)
	case amf.TypedObject:
		return o.Props.Get(key)
	}
	return nil, false
}

// toObject converts any AMF object-like value to an ordered amf.Object.
func toObject(v any) (amf.Object, bool) {
	switch o := v.(type) {
	case amf.Object:
		return o, true
	case amf.ECMAArray:
		return amf.Object(o), true
	case amf.TypedObject:
		return o.Props, true
	case amf.Object3:
		return append(append(amf.Object{}, o.Sealed...), o.DynamicProps...), true
	}
	return nil, false
}

// numberProp returns a numeric property of any AMF object-like value.
func numberProp(v any, key string) (float64, bool) {
	p, _ := lookup(v, key)
	return amf.Number(p)
}
