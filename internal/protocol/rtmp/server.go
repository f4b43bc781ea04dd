package rtmp

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/castd/castd/internal/format/amf"
)

// ClientType is what an RTMP client turned out to be, with SRS's names.
type ClientType int

const (
	ClientUnknown ClientType = iota
	// ClientPlay plays a stream.
	ClientPlay
	// ClientFMLEPublish publishes after releaseStream/FCPublish (FMLE, OBS,
	// ffmpeg).
	ClientFMLEPublish
	// ClientFlashPublish publishes with just createStream and publish.
	ClientFlashPublish
	// ClientHaivisionPublish sends FCPublish after createStream.
	ClientHaivisionPublish
)

func (t ClientType) String() string {
	switch t {
	case ClientPlay:
		return "rtmp-play"
	case ClientFMLEPublish:
		return "fmle-publish"
	case ClientFlashPublish:
		return "flash-publish"
	case ClientHaivisionPublish:
		return "haivision-publish"
	}
	return "unknown"
}

// IsPublish reports whether t publishes.
func (t ClientType) IsPublish() bool {
	return t == ClientFMLEPublish || t == ClientFlashPublish || t == ClientHaivisionPublish
}

// ServerInfo fills the data object of the connect _result, as SRS does.
// Empty fields are left out, except Version.
type ServerInfo struct {
	Version   string // "version"; default "3,5,3,888"
	Sig       string // "srs_sig"
	Server    string // "srs_server"
	License   string // "srs_license"
	URL       string // "srs_url"
	SrsVer    string // "srs_version"
	Authors   string // "srs_authors"
	ServerIP  string // "srs_server_ip"
	PID       int    // "srs_pid"
	ContextID string // "srs_id"
}

func (si ServerInfo) ecmaArray() amf.ECMAArray {
	var a amf.ECMAArray
	version := si.Version
	if version == "" {
		version = fmsVersionShort
	}
	a.Set("version", version)
	for _, kv := range [][2]string{
		{"srs_sig", si.Sig}, {"srs_server", si.Server}, {"srs_license", si.License},
		{"srs_url", si.URL}, {"srs_version", si.SrsVer}, {"srs_authors", si.Authors},
		{"srs_server_ip", si.ServerIP},
	} {
		if kv[1] != "" {
			a.Set(kv[0], kv[1])
		}
	}
	if si.PID != 0 {
		a.Set("srs_pid", si.PID)
	}
	if si.ContextID != "" {
		a.Set("srs_id", si.ContextID)
	}
	return a
}

// ServerOptions configures a ServerConn. Zero values pick SRS's defaults.
type ServerOptions struct {
	ChunkSize     int    // output chunk size; default 60000
	WindowAckSize uint32 // sent before the connect result; default 2500000
	PeerBandwidth uint32 // Set Peer Bandwidth (dynamic); default 2500000
	ServerInfo    ServerInfo
	Conn          ConnOptions
}

const (
	defaultServerChunkSize = 60000
	defaultWindowAckSize   = 2500000
	defaultPeerBandwidth   = 2500000
	defaultStreamID        = 1 // SRS answers every createStream with 1
	maxCreateStreams       = 8 // createStream calls accepted per Identify
)

// ErrUnpublish is returned by ReadMedia when the client stops publishing
// (FCUnpublish, closeStream or deleteStream). The connection stays usable:
// FMLE-style clients may publish again, so the adapter can call Identify.
var ErrUnpublish = errors.New("rtmp: client unpublished")

// ServerConn is the server side of one RTMP connection: handshake, connect,
// identification of the client as player or publisher, and the start of
// playing or publishing, with the messages SRS sends at each step.
//
// Goroutines: the connection's reading goroutine calls everything except
// WriteMedia, SendStreamEOF and Close; while playing, another goroutine may
// call WriteMedia and SendStreamEOF concurrently with ReadPlayControl, or
// one goroutine writes media and calls PollPlayControl. Close may be called
// from anywhere to abort both.
type ServerConn struct {
	nc       net.Conn
	conn     *Conn
	opt      ServerOptions
	connect  *ConnectRequest
	req      *StreamRequest
	streamID uint32
	pending  []*Message // sub-messages of an aggregate message
}

// NewServerConn wraps an accepted connection.
func NewServerConn(nc net.Conn, opt ServerOptions) *ServerConn {
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = defaultServerChunkSize
	}
	if opt.WindowAckSize == 0 {
		opt.WindowAckSize = defaultWindowAckSize
	}
	if opt.PeerBandwidth == 0 {
		opt.PeerBandwidth = defaultPeerBandwidth
	}
	return &ServerConn{nc: nc, conn: NewConn(nc, opt.Conn), opt: opt}
}

// SetChunkSize sets the chunk size AcceptConnect announces and then uses;
// the server learns the vhost (and its chunk_size) only from connect.
func (s *ServerConn) SetChunkSize(n int) {
	if n > 0 {
		s.opt.ChunkSize = n
	}
}

// SetWindowAckSize sets the window AcceptConnect asks the client to
// acknowledge (the vhost's out_ack_size).
func (s *ServerConn) SetWindowAckSize(n uint32) {
	if n > 0 {
		s.opt.WindowAckSize = n
	}
}

// Conn returns the chunk layer, for byte counters and lower-level writes.
func (s *ServerConn) Conn() *Conn { return s.conn }

// NetConn returns the underlying connection (deadlines, addresses).
func (s *ServerConn) NetConn() net.Conn { return s.nc }

// Handshake runs the server handshake. Set a deadline on the net.Conn first.
func (s *ServerConn) Handshake() (HandshakeResult, error) {
	return ServerHandshake(s.conn)
}

// ReadConnect reads messages until the connect command and returns it.
// Other messages before it are ignored, as SRS does.
func (s *ServerConn) ReadConnect() (*ConnectRequest, error) {
	for {
		cmd, _, err := s.readCommand()
		if err != nil {
			return nil, fmt.Errorf("rtmp: read connect: %w", err)
		}
		if cmd == nil || cmd.Name != CmdConnect {
			continue
		}
		req, err := ParseConnect(cmd)
		if err != nil {
			return nil, err
		}
		s.connect = req
		return req, nil
	}
}

// readCommand reads the next message and decodes it if it is a command.
// It returns a nil command for other messages.
func (s *ServerConn) readCommand() (*Command, *Message, error) {
	m, err := s.conn.ReadMessage()
	if err != nil {
		return nil, nil, err
	}
	if !m.IsCommand() {
		return nil, m, nil
	}
	cmd, err := DecodeCommand(m)
	if err != nil {
		return nil, m, err
	}
	return cmd, m, nil
}

// AcceptConnect answers the connect command like SRS: Window Acknowledgement
// Size, Set Peer Bandwidth and Set Chunk Size (before the result, which OBS
// needs, SRS #454), the _result, then onBWDone.
func (s *ServerConn) AcceptConnect() error {
	if s.connect == nil {
		return fmt.Errorf("rtmp: accept connect: no connect read")
	}
	if err := s.conn.SetWindowAckSize(s.opt.WindowAckSize); err != nil {
		return err
	}
	if err := s.conn.SetPeerBandwidth(s.opt.PeerBandwidth, BandwidthDynamic); err != nil {
		return err
	}
	if err := s.conn.SetChunkSize(s.opt.ChunkSize); err != nil {
		return err
	}
	props := amf.Object{
		{Key: "fmsVer", Value: fmsVersion},
		{Key: "capabilities", Value: float64(connectCapabilities)},
		{Key: "mode", Value: float64(connectMode)},
	}
	info := Status{Level: LevelStatus, Code: CodeConnectSuccess, Description: DescConnectSuccess, Extra: amf.Object{
		{Key: "objectEncoding", Value: s.connect.ObjectEncoding},
		{Key: "data", Value: s.opt.ServerInfo.ecmaArray()},
	}}
	if err := s.conn.writeCommand(CSIDConnection, 0, CmdResult, s.connect.TransactionID, props, info.Object()); err != nil {
		return err
	}
	return s.conn.writeCommand(CSIDConnection, 0, CmdOnBWDone, 0, nil)
}

// RejectConnect sends onStatus with level error and the given code, e.g.
// CodeConnectRejected. The caller then closes the connection.
func (s *ServerConn) RejectConnect(code, description string) error {
	return s.conn.SendStatus(0, Status{Level: LevelError, Code: code, Description: description})
}

// Redirect sends an RTMP 302 (SRS #1575): onStatus NetConnection.Connect.
// Rejected with ex {code 302, redirect: the tcUrl of url, redirect2: url},
// then waits up to wait for the client's call that acknowledges it. The wait
// uses the read deadline and clears it afterwards.
func (s *ServerConn) Redirect(url string, wait time.Duration) (accepted bool, err error) {
	ex := amf.Object{
		{Key: "code", Value: float64(302)},
		{Key: "redirect", Value: urlDir(url)},
		{Key: "redirect2", Value: url},
	}
	st := Status{Level: LevelError, Code: CodeConnectRejected, Description: DescRedirect, Extra: amf.Object{{Key: "ex", Value: ex}}}
	if err := s.conn.SendStatus(0, st); err != nil {
		return false, err
	}
	if wait <= 0 {
		return false, nil
	}
	if err := s.nc.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return false, fmt.Errorf("rtmp: redirect: %w", err)
	}
	defer s.nc.SetReadDeadline(time.Time{}) //nolint:errcheck // best effort reset
	for {
		cmd, _, err := s.readCommand()
		if err != nil {
			return false, nil // no answer in time is not an error
		}
		if cmd != nil {
			_, isString := cmd.Arg(0).(string)
			return isString, nil
		}
	}
}

// urlDir returns url up to its last path element: the tcUrl of a stream URL.
func urlDir(url string) string {
	base, _, _ := strings.Cut(url, "?")
	if i := strings.LastIndexByte(base, '/'); i > len("rtmp://") {
		return base[:i]
	}
	return base
}

// StreamRequest is what the client asked for once identified.
type StreamRequest struct {
	Type ClientType
	// Name is the stream name as sent, including any ?query.
	Name     string
	StreamID uint32 // message stream id of the publish or play command
	// PublishType is "live", "record" or "append" for publishers.
	PublishType string
	// Start, Duration and Reset are the play arguments (-2, -1 and true
	// when the client left them out).
	Start    float64
	Duration float64
	Reset    bool
}

// Identify answers the commands that precede publish or play (createStream,
// releaseStream, FCPublish, getStreamLength, _checkbw and any call expecting
// a result) until publish or play arrives, and reports who the client is.
// It may be called again after ErrUnpublish for a republish.
func (s *ServerConn) Identify() (*StreamRequest, error) {
	var sawFMLEStart, sawCreateStream, sawFCPublishAfterCreate bool
	creates := 0
	for {
		cmd, m, err := s.readCommand()
		if err != nil {
			return nil, fmt.Errorf("rtmp: identify client: %w", err)
		}
		if cmd == nil {
			continue
		}
		switch cmd.Name {
		case CmdCreateStream:
			if creates++; creates > maxCreateStreams {
				return nil, fmt.Errorf("rtmp: identify client: more than %d createStream", maxCreateStreams)
			}
			sawCreateStream = true
			if err := s.conn.writeCommand(CSIDConnection, 0, CmdResult, cmd.TransactionID, nil, float64(defaultStreamID)); err != nil {
				return nil, err
			}
		case CmdReleaseStream, CmdFCPublish:
			if sawCreateStream && cmd.Name == CmdFCPublish {
				sawFCPublishAfterCreate = true
			} else {
				sawFMLEStart = true
			}
			if err := s.answerFMLEStart(cmd); err != nil {
				return nil, err
			}
		case CmdPublish:
			pub, err := ParsePublish(cmd)
			if err != nil {
				return nil, err
			}
			typ := ClientFlashPublish
			switch {
			case sawFMLEStart:
				typ = ClientFMLEPublish
			case sawFCPublishAfterCreate:
				typ = ClientHaivisionPublish
			}
			return s.identified(&StreamRequest{Type: typ, Name: pub.Name, StreamID: m.StreamID, PublishType: pub.Type}), nil
		case CmdPlay, CmdPlay2:
			play, err := ParsePlay(cmd)
			if err != nil {
				return nil, err
			}
			return s.identified(&StreamRequest{Type: ClientPlay, Name: play.Name, StreamID: m.StreamID,
				Start: play.Start, Duration: play.Duration, Reset: play.Reset}), nil
		default:
			if err := s.answerCall(cmd); err != nil {
				return nil, err
			}
		}
	}
}

func (s *ServerConn) identified(req *StreamRequest) *StreamRequest {
	s.req, s.streamID = req, req.StreamID
	return req
}

// Request returns the last identified stream request, or nil.
func (s *ServerConn) Request() *StreamRequest { return s.req }

// ConnectRequest returns the connect command read by ReadConnect, or nil.
func (s *ServerConn) ConnectRequest() *ConnectRequest { return s.connect }

// answerFMLEStart answers releaseStream, FCPublish and FCUnpublish with
// _result(tid, null, undefined), as FMLE expects.
func (s *ServerConn) answerFMLEStart(cmd *Command) error {
	return s.conn.writeCommand(CSIDConnection, 0, CmdResult, cmd.TransactionID, nil, amf.Undefined{})
}

// answerCall answers any other command with _result(tid, null, null) when
// its transaction id asks for an answer, as SRS does; id 0 needs none.
func (s *ServerConn) answerCall(cmd *Command) error {
	if cmd.TransactionID <= 0 {
		return nil
	}
	return s.conn.writeCommand(CSIDConnection, 0, CmdResult, cmd.TransactionID, nil, nil)
}

// StartPlay sends what SRS sends to a player before media: StreamBegin,
// onStatus NetStream.Play.Reset, onStatus NetStream.Play.Start and
// |RtmpSampleAccess(true, true). Like SRS it does not send
// NetStream.Data.Start, which makes ffmpeg report an empty data stream.
func (s *ServerConn) StartPlay() error {
	if err := s.conn.SendStreamBegin(s.streamID); err != nil {
		return err
	}
	details := amf.Object{{Key: "details", Value: "stream"}, {Key: "clientid", Value: statusClientID}}
	if err := s.conn.SendStatus(s.streamID, Status{Level: LevelStatus, Code: CodePlayReset, Description: DescPlayReset, Extra: details}); err != nil {
		return err
	}
	if err := s.conn.SendStatus(s.streamID, Status{Level: LevelStatus, Code: CodePlayStart, Description: DescPlayStart, Extra: details}); err != nil {
		return err
	}
	p, err := amf.AppendAll0(nil, DataSampleAccess, true, true)
	if err != nil {
		return fmt.Errorf("rtmp: encode %s: %w", DataSampleAccess, err)
	}
	return s.conn.WriteMessage(&Message{Type: TypeDataAMF0, CSID: CSIDStreamCommand, StreamID: s.streamID, Payload: p})
}

// StartPublish tells the publisher it may send media: FMLE and Haivision
// clients get onFCPublish(NetStream.Publish.Start) then onStatus; Flash
// clients get the onStatus only.
func (s *ServerConn) StartPublish() error {
	if s.req == nil || !s.req.Type.IsPublish() {
		return fmt.Errorf("rtmp: start publish: client is not a publisher")
	}
	if s.req.Type != ClientFlashPublish {
		fc := Status{Code: CodePublishStart, Description: DescPublishStart}
		if err := s.conn.writeCommand(CSIDStreamCommand, s.streamID, CmdOnFCPublish, 0, nil, fc.Object()); err != nil {
			return err
		}
	}
	return s.conn.SendStatus(s.streamID, Status{Level: LevelStatus, Code: CodePublishStart, Description: DescPublishStart,
		Extra: amf.Object{{Key: "clientid", Value: statusClientID}}})
}

// RejectStream sends onStatus with level error on the stream, e.g.
// CodePublishBadName with DescStreamBusy, or CodePlayStreamNotFound.
func (s *ServerConn) RejectStream(code, description string) error {
	return s.conn.SendStatus(s.streamID, Status{Level: LevelError, Code: code, Description: description})
}

// SendStatus sends any onStatus on the identified stream.
func (s *ServerConn) SendStatus(st Status) error { return s.conn.SendStatus(s.streamID, st) }

// ReadMedia returns the publisher's next audio, video or data message.
// Aggregate messages are split; AMF3 data becomes AMF0 data (type 18);
// "@setDataFrame" is stripped so metadata starts with "onMetaData"; ffmpeg's
// 4-byte timecode data is dropped. When the client unpublishes it answers
// like SRS and returns ErrUnpublish. Other commands are answered if they
// expect it and otherwise ignored.
func (s *ServerConn) ReadMedia() (*Message, error) {
	for {
		if len(s.pending) > 0 {
			m := s.pending[0]
			s.pending[0] = nil
			s.pending = s.pending[1:]
			return m, nil
		}
		m, err := s.conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		switch m.Type {
		case TypeAudio, TypeVideo:
			return m, nil
		case TypeDataAMF0, TypeDataAMF3:
			body, _, ok := MetadataBody(m)
			if !ok {
				continue
			}
			m.Type, m.Payload = TypeDataAMF0, body
			return m, nil
		case TypeAggregate:
			subs, err := SplitAggregate(m)
			if err != nil {
				return nil, err
			}
			s.pending = subs
		case TypeCommandAMF0, TypeCommandAMF3:
			cmd, err := DecodeCommand(m)
			if err != nil {
				continue // a garbled command does not end a publish
			}
			if err := s.handlePublishCommand(cmd); err != nil {
				return nil, err
			}
		}
	}
}

func (s *ServerConn) handlePublishCommand(cmd *Command) error {
	switch cmd.Name {
	case CmdFCUnpublish:
		fc := Status{Code: CodeUnpublishSuccess, Description: DescFCUnpublish}
		if err := s.conn.writeCommand(CSIDStreamCommand, s.streamID, CmdOnFCUnpublish, 0, nil, fc.Object()); err != nil {
			return err
		}
		if err := s.conn.writeCommand(CSIDStreamCommand, s.streamID, CmdResult, cmd.TransactionID, nil, amf.Undefined{}); err != nil {
			return err
		}
		if err := s.conn.SendStatus(s.streamID, Status{Level: LevelStatus, Code: CodeUnpublishSuccess, Description: DescUnpublish,
			Extra: amf.Object{{Key: "clientid", Value: statusClientID}}}); err != nil {
			return err
		}
		return fmt.Errorf("%w (%s)", ErrUnpublish, cmd.Name)
	case CmdCloseStream, CmdDeleteStream:
		return fmt.Errorf("%w (%s)", ErrUnpublish, cmd.Name)
	}
	return s.answerCall(cmd)
}

// PlayControlKind is a player request reported by ReadPlayControl.
type PlayControlKind int

const (
	// PlayPause asks to stop sending media (answered with Pause.Notify and
	// StreamEOF).
	PlayPause PlayControlKind = iota + 1
	// PlayUnpause asks to resume (answered with Unpause.Notify and
	// StreamBegin).
	PlayUnpause
	// PlayStop is closeStream or deleteStream: the player is done.
	PlayStop
)

// PlayControl is one player request.
type PlayControl struct {
	Kind PlayControlKind
	Time float64 // stream time of a pause or unpause, in ms
}

// ReadPlayControl reads from a player until it pauses, resumes or stops,
// answering the pause like SRS. Acknowledgements, pings and other commands
// are handled on the way. It runs on the reading goroutine while another
// goroutine calls WriteMedia.
func (s *ServerConn) ReadPlayControl() (PlayControl, error) {
	for {
		c, ok, err := s.readPlayControlOnce()
		if err != nil || ok {
			return c, err
		}
	}
}

// PollPlayControl handles what a player sent without waiting for more, so
// the goroutine that writes its media can also serve its requests. pending
// reports whether the connection has input waiting (see netx.InputProbe).
// It returns the first pause, unpause or stop found (ok), or ok false once
// no input is left; a message that has begun to arrive is read to its end
// within timeout.
func (s *ServerConn) PollPlayControl(pending func() (bool, error), timeout time.Duration) (c PlayControl, ok bool, err error) {
	for {
		if s.conn.br.Buffered() == 0 {
			ready, err := pending()
			if err != nil || !ready {
				return PlayControl{}, false, err
			}
		}
		_ = s.nc.SetReadDeadline(time.Now().Add(timeout))
		c, ok, err = s.readPlayControlOnce()
		_ = s.nc.SetReadDeadline(time.Time{})
		if err != nil || ok {
			return c, ok, err
		}
	}
}

// readPlayControlOnce reads one message from a player; ok is false when it
// was not a pause, unpause or stop.
func (s *ServerConn) readPlayControlOnce() (PlayControl, bool, error) {
	cmd, _, err := s.readCommand()
	if err != nil || cmd == nil {
		return PlayControl{}, false, err
	}
	switch cmd.Name {
	case CmdPause:
		p, err := ParsePause(cmd)
		if err != nil {
			return PlayControl{}, false, nil
		}
		if p.Pause {
			if err := s.conn.SendStatus(s.streamID, Status{Level: LevelStatus, Code: CodePauseNotify, Description: DescPause}); err != nil {
				return PlayControl{}, false, err
			}
			if err := s.conn.SendStreamEOF(s.streamID); err != nil {
				return PlayControl{}, false, err
			}
			return PlayControl{Kind: PlayPause, Time: p.Time}, true, nil
		}
		if err := s.conn.SendStatus(s.streamID, Status{Level: LevelStatus, Code: CodeUnpauseNotify, Description: DescUnpause}); err != nil {
			return PlayControl{}, false, err
		}
		if err := s.conn.SendStreamBegin(s.streamID); err != nil {
			return PlayControl{}, false, err
		}
		return PlayControl{Kind: PlayUnpause, Time: p.Time}, true, nil
	case CmdCloseStream, CmdDeleteStream:
		return PlayControl{Kind: PlayStop}, true, nil
	}
	return PlayControl{}, false, s.answerCall(cmd)
}

// WriteMedia writes a batch of media to the player on its stream id. See
// Conn.WriteMedia.
func (s *ServerConn) WriteMedia(batch []MediaMessage) error {
	return s.conn.WriteMedia(s.streamID, batch)
}

// SendStreamEOF tells the player the stream ended.
func (s *ServerConn) SendStreamEOF() error { return s.conn.SendStreamEOF(s.streamID) }

// Close closes the connection.
func (s *ServerConn) Close() error { return s.conn.Close() }
