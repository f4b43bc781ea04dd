package conf

import "log/slog"

// Secret is a setting that must never be shown: printing it (fmt, slog,
// JSON, XML) gives "******", or "" when it is unset. Reveal returns the
// value for the one place that uses it.
type Secret string

const secretMask = "******"

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return secretMask
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText masks the secret in JSON, XML and text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue masks the secret in slog records.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// secretPaths are the directives whose environment overrides are recorded
// masked in Config.Env, so a dump of the config shows no secret.
var secretPaths = map[string]bool{
	"vhost.dvr.dvr_upload.secret_key":    true,
	"vhost.dvr.dvr_upload.session_token": true,
}

// envRecord is the value Config.Env keeps for an override of path.
func envRecord(path, value string) string {
	if secretPaths[path] {
		return Secret(value).String()
	}
	return value
}
