package rtmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/format/amf"
)

// startServer runs handle for each accepted connection and returns the
// listen address. At the end of the test it stops accepting, waits for the
// handlers and reports their errors.
func startServer(t *testing.T, network, addr string, handle func(t *testing.T, s *ServerConn) error) string {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s %s: %v", network, addr, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := NewServerConn(nc, ServerOptions{ServerInfo: ServerInfo{Sig: "castd", SrsVer: "6.0.0", PID: 42, ContextID: "k3j9x0a2"}})
				defer s.Close()
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				errs <- handle(t, s)
				// Read until the client closes: closing with its bytes
				// unread would reset the connection under the client.
				for {
					if _, err := s.Conn().ReadMessage(); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		finished := make(chan struct{})
		go func() {
			wg.Wait()
			close(finished)
		}()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("server handlers did not finish")
			return
		}
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("server: %v", err)
			}
		}
	})
	return ln.Addr().String()
}

// serverSetup runs handshake, connect and accept.
func serverSetup(s *ServerConn) (*ConnectRequest, error) {
	if _, err := s.Handshake(); err != nil {
		return nil, err
	}
	req, err := s.ReadConnect()
	if err != nil {
		return nil, err
	}
	return req, s.AcceptConnect()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSessionPublishRepublish(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	video := pattern(70000, 1)
	audio := pattern(300, 2)
	meta, _ := amf.AppendAll0(nil, DataSetDataFrame, DataOnMetaData, amf.ECMAArray{{Key: "width", Value: 1280.0}})
	metaBody, _ := amf.AppendAll0(nil, DataOnMetaData, amf.ECMAArray{{Key: "width", Value: 1280.0}})

	addr := startServer(t, "tcp", "127.0.0.1:0", func(t *testing.T, s *ServerConn) error {
		req, err := serverSetup(s)
		if err != nil {
			return err
		}
		if req.App != "live?vhost=v1" || req.TcURL != "rtmp://"+s.NetConn().LocalAddr().String()+"/live?vhost=v1" || req.FlashVer != defaultFlashVer {
			return fmt.Errorf("connect request %+v", req)
		}
		for round := 0; round < 2; round++ {
			sr, err := s.Identify()
			if err != nil {
				return err
			}
			if sr.Type != ClientFMLEPublish || sr.Name != "cam?token=1" || sr.StreamID != 1 || sr.PublishType != "live" {
				return fmt.Errorf("round %d: stream request %+v", round, sr)
			}
			if err := s.StartPublish(); err != nil {
				return err
			}
			var got []*Message
			for {
				m, err := s.ReadMedia()
				if errors.Is(err, ErrUnpublish) {
					break
				}
				if err != nil {
					return err
				}
				got = append(got, m)
			}
			if len(got) != 3 {
				return fmt.Errorf("round %d: %d media messages", round, len(got))
			}
			if got[0].Type != TypeDataAMF0 || !bytes.Equal(got[0].Payload, metaBody) {
				return fmt.Errorf("metadata %v % x", got[0], got[0].Payload)
			}
			if got[1].Type != TypeVideo || got[1].Timestamp != 0x01000000 || !bytes.Equal(got[1].Payload, video) {
				return fmt.Errorf("video %v", got[1])
			}
			if got[2].Type != TypeAudio || got[2].Timestamp != 0x01000001 || !bytes.Equal(got[2].Payload, audio) {
				return fmt.Errorf("audio %v", got[2])
			}
		}
		return nil
	})

	c, err := Dial(testCtx(t), "rtmp://"+addr+"/live?vhost=v1", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.HandshakeResult().Mode != HandshakeComplex || !c.HandshakeResult().PeerSigned {
		t.Errorf("handshake %+v", c.HandshakeResult())
	}
	data, _ := c.ConnectInfo().Get("data")
	if arr, ok := data.(amf.ECMAArray); !ok {
		t.Errorf("connect data %T", data)
	} else if sig, _ := arr.String("srs_sig"); sig != "castd" {
		t.Errorf("srs_sig = %q", sig)
	}
	if code, _ := c.ConnectInfo().String("code"); code != CodeConnectSuccess {
		t.Errorf("connect code %q", code)
	}
	for round := 0; round < 2; round++ {
		if err := c.Publish(testCtx(t), "cam?token=1"); err != nil {
			t.Fatal(err)
		}
		if c.StreamID() != 1 {
			t.Errorf("stream id %d", c.StreamID())
		}
		if err := c.WriteMessage(&Message{Type: TypeDataAMF0, Payload: meta}); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteMedia([]MediaMessage{{TypeVideo, 0x01000000, video}, {TypeAudio, 0x01000001, audio}}); err != nil {
			t.Fatal(err)
		}
		if err := c.Unpublish("cam?token=1"); err != nil {
			t.Fatal(err)
		}
	}
	// Wait for the answers to the last FCUnpublish before closing.
	for {
		m, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if cmd, err := DecodeCommand(m); err == nil && cmd.Name == CmdOnStatus {
			if st := statusFromInfo(cmd.Name, cmd.Arg(0)); st.Code == CodeUnpublishSuccess {
				break
			}
		}
	}
}

func TestSessionPlay(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	video := pattern(100000, 3)
	audio := pattern(200, 4)
	addr := startServer(t, "tcp", "127.0.0.1:0", func(t *testing.T, s *ServerConn) error {
		if _, err := serverSetup(s); err != nil {
			return err
		}
		sr, err := s.Identify()
		if err != nil {
			return err
		}
		if sr.Type != ClientPlay || sr.Name != "cam" || sr.Start != -2 || sr.Duration != -1 || !sr.Reset {
			return fmt.Errorf("stream request %+v", sr)
		}
		if err := s.StartPlay(); err != nil {
			return err
		}
		// A writer goroutine sends media while this one reads controls.
		werr := make(chan error, 1)
		go func() {
			werr <- s.WriteMedia([]MediaMessage{{TypeVideo, 40, video}, {TypeAudio, 41, audio}})
		}()
		want := []PlayControlKind{PlayPause, PlayUnpause, PlayStop}
		for _, k := range want {
			pc, err := s.ReadPlayControl()
			if err != nil {
				return err
			}
			if pc.Kind != k {
				return fmt.Errorf("play control %+v, want kind %d", pc, k)
			}
		}
		return <-werr
	})

	c, err := Dial(testCtx(t), "rtmp://"+addr+"/live", ClientOptions{SimpleHandshake: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.HandshakeResult().Mode != HandshakeSimple {
		t.Errorf("handshake %+v", c.HandshakeResult())
	}
	if err := c.Play(testCtx(t), "cam"); err != nil {
		t.Fatal(err)
	}
	// |RtmpSampleAccess, then the media.
	m, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if vs, err := DecodeData(m); err != nil || vs[0] != DataSampleAccess || vs[1] != true || vs[2] != true {
		t.Errorf("sample access %v %v", vs, err)
	}
	for _, want := range []MediaMessage{{TypeVideo, 40, video}, {TypeAudio, 41, audio}} {
		m, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != want.Type || m.Timestamp != want.Timestamp || m.StreamID != 1 || !bytes.Equal(m.Payload, want.Payload) {
			t.Errorf("got %v", m)
		}
	}
	expectStatus := func(code string) {
		t.Helper()
		m, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := DecodeCommand(m)
		if err != nil || cmd.Name != CmdOnStatus {
			t.Fatalf("got %v %v", cmd, err)
		}
		if st := statusFromInfo(cmd.Name, cmd.Arg(0)); st.Code != code {
			t.Errorf("status %q, want %q", st.Code, code)
		}
	}
	if err := c.Conn().WriteCommand(1, CmdPause, 0, nil, true, 1234.0); err != nil {
		t.Fatal(err)
	}
	expectStatus(CodePauseNotify)
	if err := c.Conn().WriteCommand(1, CmdPause, 0, nil, false, 1234.0); err != nil {
		t.Fatal(err)
	}
	expectStatus(CodeUnpauseNotify)
	if err := c.Conn().WriteCommand(1, CmdCloseStream, 0, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSessionRejections(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	tests := []struct {
		name   string
		server func(s *ServerConn) error
		client func(c *ClientConn) error
		code   string
		redir  string
	}{
		{
			name:   "connect rejected",
			server: func(s *ServerConn) error { return s.RejectConnect(CodeConnectRejected, "go away") },
			code:   CodeConnectRejected,
		},
		{
			name: "publish busy",
			server: func(s *ServerConn) error {
				if err := s.AcceptConnect(); err != nil {
					return err
				}
				if _, err := s.Identify(); err != nil {
					return err
				}
				return s.RejectStream(CodePublishBadName, DescStreamBusy)
			},
			client: func(c *ClientConn) error { return c.Publish(testCtx(t), "cam") },
			code:   CodePublishBadName,
		},
		{
			name: "play redirect 302",
			server: func(s *ServerConn) error {
				if err := s.AcceptConnect(); err != nil {
					return err
				}
				if _, err := s.Identify(); err != nil {
					return err
				}
				_, err := s.Redirect("rtmp://10.0.0.2:1935/live/cam?vhost=v", 50*time.Millisecond)
				return err
			},
			client: func(c *ClientConn) error { return c.Play(testCtx(t), "cam") },
			code:   CodeConnectRejected,
			redir:  "rtmp://10.0.0.2:1935/live",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startServer(t, "tcp", "127.0.0.1:0", func(t *testing.T, s *ServerConn) error {
				if _, err := s.Handshake(); err != nil {
					return err
				}
				if _, err := s.ReadConnect(); err != nil {
					return err
				}
				return tt.server(s)
			})
			c, err := Dial(testCtx(t), "rtmp://"+addr+"/live", ClientOptions{})
			if err == nil {
				defer c.Close()
				err = tt.client(c)
			}
			st, ok := IsStatusError(err)
			if !ok {
				t.Fatalf("err = %v, want a StatusError", err)
			}
			if st.Code != tt.code || st.Level != LevelError {
				t.Errorf("status %+v", st)
			}
			if tt.redir != "" {
				tc, url, ok := st.Redirect()
				if !ok || tc != tt.redir || url != "rtmp://10.0.0.2:1935/live/cam?vhost=v" {
					t.Errorf("redirect %q %q %v", tc, url, ok)
				}
			}
		})
	}
}

// rawClient drives a server with hand-written commands over a Conn.
type rawClient struct {
	t *testing.T
	c *Conn
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := NewConn(nc, ConnOptions{})
	t.Cleanup(func() { c.Close() })
	if _, err := ClientHandshake(c, HandshakeComplex); err != nil {
		t.Fatal(err)
	}
	return &rawClient{t: t, c: c}
}

func (r *rawClient) send(sid uint32, name string, tid float64, args ...any) {
	r.t.Helper()
	r.sendObj(sid, name, tid, nil, args...)
}

func (r *rawClient) sendObj(sid uint32, name string, tid float64, obj any, args ...any) {
	r.t.Helper()
	if err := r.c.WriteCommand(sid, name, tid, obj, args...); err != nil {
		r.t.Fatal(err)
	}
}

// next returns the next message as a short description.
func (r *rawClient) next() string {
	r.t.Helper()
	m, err := r.c.ReadMessage()
	if err != nil {
		r.t.Fatal(err)
	}
	switch {
	case m.IsCommand():
		cmd, err := DecodeCommand(m)
		if err != nil {
			r.t.Fatal(err)
		}
		s := fmt.Sprintf("%s %g sid=%d csid=%d", cmd.Name, cmd.TransactionID, m.StreamID, m.CSID)
		if o, ok := toObject(cmd.Arg(0)); ok {
			code, _ := o.String("code")
			desc, _ := o.String("description")
			level, _ := o.String("level")
			s += fmt.Sprintf(" [%s] %s %q", level, code, desc)
		} else if len(cmd.Args) > 0 {
			s += fmt.Sprintf(" %v", cmd.Args[0])
		}
		return s
	case m.Type == TypeDataAMF0:
		vs, _ := DecodeData(m)
		return fmt.Sprintf("data %v sid=%d", vs, m.StreamID)
	case m.Type == TypeUserControl:
		return fmt.Sprintf("user %d %d", m.Payload[1], m.Payload[5])
	}
	return fmt.Sprintf("type %d % x", m.Type, m.Payload)
}

func (r *rawClient) expect(want ...string) {
	r.t.Helper()
	for _, w := range want {
		if got := r.next(); got != w {
			r.t.Errorf("got  %s\nwant %s", got, w)
		}
	}
}

func connectBody() amf.Object {
	return amf.Object{{Key: "app", Value: "live"}, {Key: "tcUrl", Value: "rtmp://127.0.0.1/live"}, {Key: "objectEncoding", Value: 0.0}}
}

// TestServerMessageSequences checks the exact messages and order SRS sends.
func TestServerMessageSequences(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	type result struct {
		typ ClientType
		err error
	}
	results := make(chan result, 3)
	addr := startServer(t, "tcp", "127.0.0.1:0", func(t *testing.T, s *ServerConn) error {
		if _, err := serverSetup(s); err != nil {
			return err
		}
		sr, err := s.Identify()
		if err != nil {
			return err
		}
		results <- result{sr.Type, nil}
		if sr.Type == ClientPlay {
			return s.StartPlay()
		}
		if err := s.StartPublish(); err != nil {
			return err
		}
		_, err = s.ReadMedia()
		if !errors.Is(err, ErrUnpublish) {
			return fmt.Errorf("ReadMedia = %v, want ErrUnpublish", err)
		}
		return nil
	})
	connect := func(r *rawClient) {
		r.sendObj(0, CmdConnect, 1, connectBody())
		r.expect(
			"type 5 00 26 25 a0",
			"type 6 00 26 25 a0 02",
			"type 1 00 00 ea 60",
			`_result 1 sid=0 csid=3 [status] NetConnection.Connect.Success "Connection succeeded"`,
			"onBWDone 0 sid=0 csid=3",
		)
	}

	t.Run("fmle", func(t *testing.T) {
		r := dialRaw(t, addr)
		connect(r)
		r.send(0, CmdReleaseStream, 2, "cam")
		r.expect("_result 2 sid=0 csid=3 {}")
		r.send(0, CmdFCPublish, 3, "cam")
		r.expect("_result 3 sid=0 csid=3 {}")
		r.send(0, CmdCreateStream, 4)
		r.expect("_result 4 sid=0 csid=3 1")
		r.send(1, CmdPublish, 5, "cam", "live")
		r.expect(
			`onFCPublish 0 sid=1 csid=5 [] NetStream.Publish.Start "Started publishing stream."`,
			`onStatus 0 sid=1 csid=5 [status] NetStream.Publish.Start "Started publishing stream."`,
		)
		r.send(0, "someCall", 6)
		r.expect("_result 6 sid=0 csid=3 <nil>")
		r.send(0, CmdFCUnpublish, 7, "cam")
		r.expect(
			`onFCUnpublish 0 sid=1 csid=5 [] NetStream.Unpublish.Success "Stop publishing stream."`,
			"_result 7 sid=1 csid=5 {}",
			`onStatus 0 sid=1 csid=5 [status] NetStream.Unpublish.Success "Stream is now unpublished"`,
		)
		if res := <-results; res.typ != ClientFMLEPublish {
			t.Errorf("type %v", res.typ)
		}
	})
	t.Run("haivision", func(t *testing.T) {
		r := dialRaw(t, addr)
		connect(r)
		r.send(0, CmdCreateStream, 2)
		r.expect("_result 2 sid=0 csid=3 1")
		r.send(0, CmdFCPublish, 3, "cam")
		r.expect("_result 3 sid=0 csid=3 {}")
		r.send(1, CmdPublish, 0, "cam")
		r.expect(
			`onFCPublish 0 sid=1 csid=5 [] NetStream.Publish.Start "Started publishing stream."`,
			`onStatus 0 sid=1 csid=5 [status] NetStream.Publish.Start "Started publishing stream."`,
		)
		r.send(1, CmdDeleteStream, 0, 1.0)
		if res := <-results; res.typ != ClientHaivisionPublish {
			t.Errorf("type %v", res.typ)
		}
	})
	t.Run("flash play", func(t *testing.T) {
		r := dialRaw(t, addr)
		connect(r)
		r.send(0, CmdGetStreamLength, 2, "cam")
		r.expect("_result 2 sid=0 csid=3 <nil>")
		r.send(0, CmdCreateStream, 3)
		r.expect("_result 3 sid=0 csid=3 1")
		r.send(1, CmdPlay, 0, "cam", -1000.0)
		r.expect(
			"user 0 1",
			`onStatus 0 sid=1 csid=5 [status] NetStream.Play.Reset "Playing and resetting stream."`,
			`onStatus 0 sid=1 csid=5 [status] NetStream.Play.Start "Started playing stream."`,
			"data [|RtmpSampleAccess true true] sid=1",
		)
		if res := <-results; res.typ != ClientPlay {
			t.Errorf("type %v", res.typ)
		}
	})
}

func TestSessionIPv6(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	addr := startServer(t, "tcp6", "[::1]:0", func(t *testing.T, s *ServerConn) error {
		req, err := serverSetup(s)
		if err != nil {
			return err
		}
		if req.App != "live" {
			return fmt.Errorf("app %q", req.App)
		}
		return nil
	})
	c, err := Dial(testCtx(t), "rtmp://"+addr+"/live", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestMalformedAfterHandshake(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	tests := []struct {
		name string
		in   []byte
	}{
		{"garbage", pattern(5000, 9)},
		{"huge chunk size then data", cat(fmt0(2, 0, 4, 1, 0), u32(0x7FFFFFFF), fmt0(3, 0, 0xFFFFFF, 20, 0), pattern(100, 1))},
		{"too many chunk streams", func() []byte {
			var b []byte
			for i := 0; i < 100; i++ {
				b = append(b, 0x01, byte(i), 1)
				b = append(b, fmt0(0, 0, 2, 9, 1)[1:]...)
				b = append(b, 1)
			}
			return b
		}()},
		{"truncated header", []byte{0x03, 0x00, 0x00}},
		{"command that is not AMF", cat(fmt0(3, 0, 4, 20, 0), []byte{0xFF, 0xFF, 0xFF, 0xFF})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startServer(t, "tcp", "127.0.0.1:0", func(t *testing.T, s *ServerConn) error {
				if _, err := s.Handshake(); err != nil {
					return err
				}
				if _, err := s.ReadConnect(); err == nil {
					return fmt.Errorf("ReadConnect succeeded on malformed input")
				}
				return nil
			})
			r := dialRaw(t, addr)
			if _, err := r.c.rwc.Write(tt.in); err != nil {
				t.Fatal(err)
			}
			r.c.NetConn().(*net.TCPConn).CloseWrite()
		})
	}
}
