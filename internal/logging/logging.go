// Package logging gives castd SRS-style logs on top of log/slog:
//
//	[2024-10-15 12:01:33.120][INFO][4121][k3j9x0a2] RTMP client ip=10.0.0.5 ...
//
// Every connection gets an 8-character context id (the same id the HTTP API
// uses for clients and hooks send as client_id), attached with WithCID, so an
// operator can grep one session out of a busy server.
package logging

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// LevelTrace is below slog.LevelDebug: SRS's most verbose level.
const LevelTrace = slog.LevelDebug - 4

// ParseLevel maps SRS's level names to slog levels. It accepts both
// srs_log_level (v4 names: verbose, info, trace, warn, error, where "trace" is
// the normal level) and srs_log_level_v2 (trace, debug, info, warn, error);
// v2 is set to true for the latter.
func ParseLevel(name string, v2 bool) (slog.Level, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if v2 {
		switch n {
		case "trace":
			return LevelTrace, nil
		case "debug":
			return slog.LevelDebug, nil
		case "info":
			return slog.LevelInfo, nil
		case "warn":
			return slog.LevelWarn, nil
		case "error":
			return slog.LevelError, nil
		}
		return 0, fmt.Errorf("logging: unknown srs_log_level_v2 %q (want trace, debug, info, warn or error)", name)
	}
	switch n {
	case "verbose":
		return LevelTrace, nil
	case "info":
		return slog.LevelDebug, nil
	case "trace":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("logging: unknown srs_log_level %q (want verbose, info, trace, warn or error)", name)
}

func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "TRACE"
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARN"
	}
	return "ERROR"
}

// CIDKey is the attribute key of the context id.
const CIDKey = "cid"

type cidKey struct{}

// WithCID returns a context carrying the connection's context id; records
// logged with that context show it in the [cid] column.
func WithCID(ctx context.Context, cid string) context.Context {
	return context.WithValue(ctx, cidKey{}, cid)
}

// CIDFrom returns the context id stored by WithCID, or "".
func CIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(cidKey{}).(string)
	return s
}

// CID is a slog attribute carrying a context id; use it with Logger.With so
// every line of a connection's logger shows the id without a context.
func CID(cid string) slog.Attr { return slog.String(CIDKey, cid) }
