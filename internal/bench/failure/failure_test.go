package failure

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/protocol/srt"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestKindOf(t *testing.T) {
	dialRefused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	readReset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	tests := []struct {
		err  error
		want Kind
	}{
		{nil, ""},
		{fmt.Errorf("rtmp: dial 127.0.0.1:1: %w", dialRefused), Dial},
		{&net.DNSError{Err: "no such host", Name: "nohost"}, Dial},
		{fmt.Errorf("rtmp: connect rtmp://h/live: %w", fmt.Errorf("rtmp: handshake: read S0S1S2: %w", io.EOF)), Handshake},
		{fmt.Errorf("rtmp: connect: %w: got 72", rtmp.ErrHandshakeVersion), Handshake},
		{fmt.Errorf("GET https://h/x.flv: %w", x509.UnknownAuthorityError{}), Handshake},
		{fmt.Errorf("rtmp: play: %w", &rtmp.StatusError{Command: "onStatus", Level: "error", Code: rtmp.CodePlayStreamNotFound}), Rejected},
		{&HTTPStatusError{URL: "http://h/x.flv", Status: "404 Not Found"}, HTTPStatus},
		{fmt.Errorf("rtmp: connect: %w (%w)", context.DeadlineExceeded, io.EOF), Timeout},
		{fmt.Errorf("read: %w", os.ErrDeadlineExceeded), Timeout},
		{&net.OpError{Op: "dial", Err: timeoutErr{}}, Timeout},
		{fmt.Errorf("rtmp: read chunk basic header: %w", io.EOF), EOF},
		{fmt.Errorf("flvscan: tag body of 10 bytes: %w", io.ErrUnexpectedEOF), EOF},
		{readReset, EOF},
		{fmt.Errorf("write: %w", syscall.EPIPE), EOF},
		{fmt.Errorf("rtmp: %w: type 0 inside a message", rtmp.ErrBadChunkHeader), BadData},
		{fmt.Errorf("rtmp: %w: 20000000 bytes", rtmp.ErrMessageTooLarge), BadData},
		{Mark(BadData, errors.New("flvscan: not an FLV stream")), BadData},
		{Mark(Dial, io.EOF), Dial}, // a mark wins over the chain
		{fmt.Errorf("wrapped: %w", Mark(HTTPStatus, errors.New("too many redirects"))), HTTPStatus},
		{fmt.Errorf("srt dial: %w", &srt.RejectError{Reason: srt.RejectPredefinedBase + 403}), Rejected},
		{fmt.Errorf("srt dial: %w", srt.ErrConnectTimeout), Timeout},
		{fmt.Errorf("tsscan: read: %w", srt.ErrPeerIdle), Timeout},
		{errors.New("something else"), Other},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if Mark(Dial, nil) != nil {
		t.Error("Mark(nil) is not nil")
	}
}

func TestKindOfRealErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = rtmp.Dial(context.Background(), "rtmp://"+addr+"/live", rtmp.ClientOptions{})
	if KindOf(err) != Dial {
		t.Errorf("refused dial %v: kind %q", err, KindOf(err))
	}
}

func TestCounter(t *testing.T) {
	var c Counter
	if c.Total() != 0 || c.String() != "" || len(c.Snapshot()) != 0 {
		t.Error("a new counter is not empty")
	}
	c.Add(nil)
	c.Add(io.EOF)
	c.Add(Mark(Timeout, errors.New("first timeout")))
	c.Add(Mark(Timeout, errors.New("second timeout")))
	c.Add(Mark(Dial, errors.New("refused")))
	if c.Total() != 4 {
		t.Errorf("total %d", c.Total())
	}
	if got := c.String(); got != "timeout=2 dial=1 eof=1" {
		t.Errorf("String() = %q", got)
	}
	if snap := c.Snapshot(); snap[Timeout] != (Count{Count: 2, Example: "first timeout"}) {
		t.Errorf("snapshot %+v", snap)
	}
}

func TestEnded(t *testing.T) {
	if Ended(context.Background()) {
		t.Error("background ended")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	if Ended(ctx) {
		t.Error("ended an hour early")
	}
	cancel()
	if !Ended(ctx) {
		t.Error("cancelled but not ended")
	}
}
