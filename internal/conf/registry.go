package conf

import (
	"strings"
	"sync"
)

// Status says what castd does with a directive SRS accepts.
type Status uint8

const (
	// StatusPending: SRS acts on it, castd accepts it but has not built the
	// feature yet. The server logs it once as "not supported yet".
	StatusPending Status = iota
	// StatusImplemented: castd honours it.
	StatusImplemented
	// StatusIgnored: accepted so SRS configs keep loading, but it never has
	// an effect in castd (SRS-internal tuning, vendor integrations, removed
	// features).
	StatusIgnored
)

func (s Status) String() string {
	switch s {
	case StatusImplemented:
		return "implemented"
	case StatusIgnored:
		return "accepted, no effect"
	}
	return "not yet"
}

// Entry describes one directive castd knows.
type Entry struct {
	// Path is the dotted path from the root, e.g. "vhost.hls.hls_fragment"
	// or "vhost.transcode.engine.vcodec".
	Path   string
	Block  bool
	Status Status
	// Repeat marks directives that may legitimately appear several times in
	// one parent (vhost, stream_caster, ingest, transcode, engine, allow,
	// deny, exec publish). Other duplicates are accepted, and the first wins.
	Repeat bool
	// FreeForm marks blocks whose children are free-form options passed to
	// FFmpeg (perfile, vfilter, vparams, aparams); they are not validated.
	FreeForm bool
	// Multi marks directives that take a list of values; an environment
	// override is split on spaces.
	Multi bool
	// NoEnv marks directives that cannot be overridden from the environment
	// (rules, commands and anything inside repeatable blocks other than vhost).
	NoEnv   bool
	Default string // SRS's code default, as documented; "" when there is none
	Unit    string // "ms", "s", "bytes", ... for numbers with a unit
	Doc     string // one line
}

// Name is the last element of the path.
func (e Entry) Name() string { return e.Path[strings.LastIndexByte(e.Path, '.')+1:] }

// registryIndex is the table in order plus a lookup by path. It is built
// once and never modified.
type registryIndex struct {
	list   []Entry
	byPath map[string]int
	env    map[string][]string // environment names by path, computed once
}

var registry = sync.OnceValue(func() *registryIndex {
	list := registryTable()
	idx := &registryIndex{list: list, byPath: make(map[string]int, len(list)), env: map[string][]string{}}
	for i, e := range list {
		idx.byPath[e.Path] = i
		if e.Block || e.NoEnv {
			continue
		}
		if a, ok := envAliases[e.Path]; ok {
			idx.env[e.Path] = a
		} else {
			idx.env[e.Path] = []string{envName(e.Path)}
		}
	}
	return idx
})

// Directives returns every directive castd knows, in documentation order.
// The slice is a copy.
func Directives() []Entry {
	return append([]Entry(nil), registry().list...)
}

// Lookup returns the entry for a dotted path.
func Lookup(path string) (Entry, bool) {
	i, ok := registry().byPath[path]
	if !ok {
		return Entry{}, false
	}
	return registry().list[i], true
}

// envAliases are the environment names SRS reads instead of, or besides,
// the one derived from the path (cfg getters).
var envAliases = map[string][]string{
	// Both the doubled and the short form work for the log settings.
	"srs_log_tank":     {"SRS_SRS_LOG_TANK", "SRS_LOG_TANK"},
	"srs_log_level":    {"SRS_SRS_LOG_LEVEL", "SRS_LOG_LEVEL"},
	"srs_log_level_v2": {"SRS_SRS_LOG_LEVEL_V2", "SRS_LOG_LEVEL_V2"},
	"srs_log_file":     {"SRS_SRS_LOG_FILE", "SRS_LOG_FILE"},
	// The global chunk size is read from the vhost name; SRS_CHUNK_SIZE,
	// which SRS's full.conf mentions, is not read by its code.
	"chunk_size": {"SRS_VHOST_CHUNK_SIZE"},
	// SRS reads the misspelt MMS; accept both.
	"srt_server.mss":        {"SRS_SRT_SERVER_MSS", "SRS_SRT_SERVER_MMS"},
	"vhost.srt.srt_to_rtmp": {"SRS_VHOST_SRT_SRT_TO_RTMP", "SRS_VHOST_SRT_TO_RTMP"},
}

// EnvNames returns the environment variables that override a directive, in
// the order they are consulted, or nil when the directive has none. The
// name is the dotted path uppercased with "." turned into "_" and an SRS_
// prefix: vhost.hls.hls_fragment is SRS_VHOST_HLS_HLS_FRAGMENT. Vhost-level
// variables apply to every vhost.
func EnvNames(path string) []string {
	return append([]string(nil), registry().env[path]...)
}

func envName(path string) string {
	return "SRS_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}
