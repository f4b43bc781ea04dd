package conf

import (
	"fmt"
	"strings"

	"github.com/castd/castd/internal/objstore"
)

// dvrUpload reads vhost.dvr.dvr_upload, castd's upload of finished
// recordings to S3-compatible storage. When it is enabled, what the
// uploads need is checked here, so a typo fails at startup (or reload)
// with the directive's file and line rather than at the first upload.
func (b *builder) dvrUpload(u *DVRUpload, d *Directive) {
	const p = "vhost.dvr.dvr_upload."
	u.Enabled = b.flag(d, p+"enabled", false)
	u.Region = b.str(d, p+"region", objstore.DefaultRegion)
	u.PathStyle = b.flag(d, p+"path_style", true)
	u.Key = strings.TrimSpace(b.str(d, p+"key", ""))
	u.RemoveLocal = b.flag(d, p+"remove_local", false)
	endpoint, hasEndpoint := b.lookup(d, p+"endpoint")
	bucket, hasBucket := b.lookup(d, p+"bucket")
	if hasEndpoint {
		u.Endpoint = endpoint.first()
	}
	if hasBucket {
		u.Bucket = bucket.first()
	}
	u.AccessKey = b.credential(d, p+"access_key", u.Enabled)
	u.SecretKey = Secret(b.credential(d, p+"secret_key", u.Enabled))
	u.SessionToken = Secret(b.credential(d, p+"session_token", u.Enabled))
	if !u.Enabled {
		return
	}
	switch {
	case !hasEndpoint:
		b.fail(errorAt(d, "dvr_upload: endpoint is required when enabled (e.g. https://s3.us-east-1.amazonaws.com)"))
	default:
		if _, err := objstore.ParseEndpoint(u.Endpoint); err != nil {
			b.fail(uploadError(endpoint, err))
		}
	}
	switch {
	case !hasBucket:
		b.fail(errorAt(d, "dvr_upload: bucket is required when enabled"))
	default:
		if err := objstore.CheckBucket(u.Bucket, u.PathStyle); err != nil {
			b.fail(uploadError(bucket, err))
		}
	}
	if (u.AccessKey == "") != (u.SecretKey == "") {
		b.fail(errorAt(d, "dvr_upload: set both access_key and secret_key, or neither for anonymous uploads"))
	}
	if u.Key != "" && !strings.Contains(u.Key, "[file]") && !strings.Contains(u.Key, "[timestamp]") && !strings.Contains(u.Key, "[999]") {
		b.warnf("%s: dvr_upload key %q names no [file], [timestamp] or [999]: files of a stream may get the same key and replace each other",
			posOrEnv(d.Get("key")), u.Key)
	}
}

// credential reads a key; "$NAME" is the environment variable NAME, as
// candidate's "$NAME" is. An unset or empty variable is an error when the
// upload is enabled: castd would otherwise sign with an empty key and every
// upload would be refused.
func (b *builder) credential(d *Directive, path string, required bool) string {
	v, ok := b.lookup(d, path)
	if !ok {
		return ""
	}
	s := v.first()
	name, isVar := strings.CutPrefix(s, "$")
	if !isVar {
		return s
	}
	if val, ok := b.getenv(name); ok {
		return val
	}
	if required {
		b.fail(v.errorf("the environment variable %s is not set", name))
	}
	return ""
}

// uploadError places a check's error at the directive, or the variable,
// that set the value.
func uploadError(v value, err error) *Error {
	if v.dir == nil {
		return &Error{Msg: fmt.Sprintf("env %s: dvr_upload: %v", v.env, err)}
	}
	return errorAt(v.dir, "dvr_upload: %v", err)
}

func posOrEnv(d *Directive) string {
	if p := d.Pos(); p != "" {
		return p
	}
	return "env"
}
