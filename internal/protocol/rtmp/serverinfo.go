package rtmp

import (
	"os"

	"github.com/castd/castd/internal/format/amf"
)

// UpnodeArgs is the extra connect argument SRS sends to the servers it
// pushes to or pulls from (forward, edge; debug_srs_upnode), so that both
// servers' logs can be matched: who connects, and cid, the context id of
// the connection on this side.
func (i ServerInfo) UpnodeArgs(cid string) amf.Object {
	return amf.Object{
		{Key: "srs_sig", Value: i.Sig},
		{Key: "srs_server", Value: i.Server},
		{Key: "srs_license", Value: i.License},
		{Key: "srs_url", Value: i.URL},
		{Key: "srs_version", Value: i.SrsVer},
		{Key: "srs_authors", Value: i.Authors},
		{Key: "srs_pid", Value: float64(i.PID)},
		{Key: "srs_ppid", Value: float64(os.Getppid())},
		{Key: "srs_id", Value: cid},
	}
}
