package rtmp

import (
	"fmt"

	"github.com/castd/castd/internal/format/amf"
)

// onStatus levels.
const (
	LevelStatus  = "status"
	LevelWarning = "warning"
	LevelError   = "error"
)

// onStatus codes castd sends or understands.
const (
	CodeConnectSuccess      = "NetConnection.Connect.Success"
	CodeConnectRejected     = "NetConnection.Connect.Rejected"
	CodeConnectClosed       = "NetConnection.Connect.Closed"
	CodePlayReset           = "NetStream.Play.Reset"
	CodePlayStart           = "NetStream.Play.Start"
	CodePlayStop            = "NetStream.Play.Stop"
	CodePlayFailed          = "NetStream.Play.Failed"
	CodePlayStreamNotFound  = "NetStream.Play.StreamNotFound"
	CodePlayUnpublishNotify = "NetStream.Play.UnpublishNotify"
	CodePauseNotify         = "NetStream.Pause.Notify"
	CodeUnpauseNotify       = "NetStream.Unpause.Notify"
	CodePublishStart        = "NetStream.Publish.Start"
	CodePublishBadName      = "NetStream.Publish.BadName"
	CodeUnpublishSuccess    = "NetStream.Unpublish.Success"
	CodeDataStart           = "NetStream.Data.Start"
)

// The descriptions SRS sends with its status codes; clients show them.
const (
	DescConnectSuccess  = "Connection succeeded"
	DescPlayReset       = "Playing and resetting stream."
	DescPlayStart       = "Started playing stream."
	DescPause           = "Paused stream."
	DescUnpause         = "Unpaused stream."
	DescPublishStart    = "Started publishing stream."
	DescFCUnpublish     = "Stop publishing stream."
	DescUnpublish       = "Stream is now unpublished"
	DescRedirect        = "RTMP 302 Redirect"
	DescStreamBusy      = "Stream is busy"
	statusClientID      = "ASAICiss" // SRS's RTMP_SIG_CLIENT_ID
	fmsVersion          = "FMS/3,5,3,888"
	fmsVersionShort     = "3,5,3,888"
	connectCapabilities = 127
	connectMode         = 1
)

// Status is the info object of an onStatus command or a _result/_error.
type Status struct {
	Level       string
	Code        string
	Description string
	// Extra holds further properties, written after the three above
	// (details, clientid, ex, objectEncoding, data, ...).
	Extra amf.Object
}

// Object returns the AMF object clients receive.
func (s Status) Object() amf.Object {
	o := make(amf.Object, 0, 3+len(s.Extra))
	if s.Level != "" {
		o = append(o, amf.Property{Key: "level", Value: s.Level})
	}
	o = append(o, amf.Property{Key: "code", Value: s.Code}, amf.Property{Key: "description", Value: s.Description})
	return append(o, s.Extra...)
}

// SendStatus sends onStatus(0, null, status) on a message stream.
func (c *Conn) SendStatus(streamID uint32, s Status) error {
	return c.writeCommand(CSIDStreamCommand, streamID, CmdOnStatus, 0, nil, s.Object())
}

// StatusError is an error answer from the peer: a _error result, or an
// onStatus whose level is "error".
type StatusError struct {
	Command     string // "_error" or "onStatus"
	Level       string
	Code        string
	Description string
	Info        amf.Object // the whole info object
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("rtmp: %s %s: %s", e.Command, e.Code, e.Description)
}

// Ex returns the "ex" object SRS adds to a rejection, e.g. for RTMP 302.
func (e *StatusError) Ex() (amf.Object, bool) {
	v, _ := e.Info.Get("ex")
	return toObject(v)
}

// Redirect returns the targets of an RTMP 302 redirect: redirect is the new
// tcUrl and redirect2 the full URL with the stream (SRS #1575).
func (e *StatusError) Redirect() (tcURL, url string, ok bool) {
	ex, ok := e.Ex()
	if !ok {
		return "", "", false
	}
	tcURL, _ = ex.String("redirect")
	url, _ = ex.String("redirect2")
	return tcURL, url, tcURL != "" || url != ""
}

// statusFromInfo builds a StatusError from an info object.
func statusFromInfo(command string, v any) *StatusError {
	info, _ := toObject(v)
	e := &StatusError{Command: command, Info: info}
	e.Level, _ = info.String("level")
	e.Code, _ = info.String("code")
	e.Description, _ = info.String("description")
	return e
}

// StatusOf reads the info object of an onStatus or _error command.
func StatusOf(cmd *Command) *StatusError { return statusFromInfo(cmd.Name, cmd.Arg(0)) }
