// Package version holds castd's version and the SRS version it is
// compatible with. The API reports the SRS numbers where SRS clients read
// them (/api/v1/versions), so tools that gate features on SRS's version keep
// working, and castd's own version beside them.
package version

// Version is castd's release.
const Version = "0.1.0"

// The SRS release whose behaviour castd follows.
const (
	SRSMajor    = 6
	SRSMinor    = 0
	SRSRevision = 157
	SRSVersion  = "6.0.157"
)

// Server is the HTTP Server header and the RTMP srs_server value.
const Server = "castd/" + Version

// Signature is what -g prints, in SRS's "name/version(code)" form.
const Signature = "castd/" + Version + "(SRS/" + SRSVersion + " compatible)"
