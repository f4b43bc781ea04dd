package conf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const uploadConf = base + `
vhost v {
    dvr {
        enabled on;
        dvr_upload {
            enabled     on;
            endpoint    http://127.0.0.1:9000;
            region      eu-central-1;
            bucket      recordings;
            path_style  on;
            access_key  $AK;
            secret_key  $SK;
            key         [app]/[stream]/[2006]/[file];
            remove_local on;
        }
    }
}
`

func parseEnv(text string, kv ...string) (*Config, error) {
	return Parse("test.conf", []byte(text), Options{ReadFile: noFiles, LookupEnv: envMap(kv...)})
}

func TestDVRUploadParse(t *testing.T) {
	c, err := parseEnv(uploadConf, "AK", "AKIDTEST", "SK", "s3cr3t/+key")
	if err != nil {
		t.Fatal(err)
	}
	got := c.Vhost("v").DVR.Upload
	want := DVRUpload{Enabled: true, Endpoint: "http://127.0.0.1:9000", Region: "eu-central-1", Bucket: "recordings",
		PathStyle: true, AccessKey: "AKIDTEST", SecretKey: "s3cr3t/+key", Key: "[app]/[stream]/[2006]/[file]", RemoveLocal: true}
	if got != want {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if got.SecretKey.Reveal() != "s3cr3t/+key" {
		t.Errorf("Reveal %q", got.SecretKey.Reveal())
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %q", c.Warnings)
	}
}

func TestDVRUploadDefaults(t *testing.T) {
	c := mustParse(t, base+"vhost v { dvr { enabled on; dvr_upload { enabled on; endpoint https://s3.amazonaws.com; bucket b-1; } } }")
	got := c.Vhost("v").DVR.Upload
	want := DVRUpload{Enabled: true, Endpoint: "https://s3.amazonaws.com", Region: "us-east-1", Bucket: "b-1", PathStyle: true}
	if got != want {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	// Without the block, or with it off, nothing is checked.
	for _, text := range []string{
		base + "vhost v { dvr { enabled on; } }",
		base + "vhost v { dvr { dvr_upload { enabled off; endpoint ftp://x; access_key $UNSET; } } }",
	} {
		if _, err := parseEnv(text); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

func TestDVRUploadLiteralKeysAndEnvOverrides(t *testing.T) {
	// Literal keys are used as written; SRS_* variables override directives
	// as for every other one, and may themselves hold $NAME.
	text := base + "vhost v { dvr { dvr_upload { enabled on; endpoint http://h:9000; bucket b; access_key lit; secret_key lit2; } } }"
	c, err := parseEnv(text)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Vhost("v").DVR.Upload; u.AccessKey != "lit" || u.SecretKey != "lit2" {
		t.Errorf("literal keys %#v", u)
	}
	c, err = parseEnv(text, "SRS_VHOST_DVR_DVR_UPLOAD_SECRET_KEY", "$REAL", "REAL", "from-env",
		"SRS_VHOST_DVR_DVR_UPLOAD_BUCKET", "other")
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Vhost("v").DVR.Upload; u.SecretKey != "from-env" || u.Bucket != "other" {
		t.Errorf("env overrides %#v", u)
	}
	// The override is recorded masked.
	for _, e := range c.Env {
		if strings.Contains(e.Value, "REAL") || strings.Contains(e.Value, "from-env") {
			t.Errorf("Config.Env shows a secret: %+v", e)
		}
	}
}

func TestDVRUploadErrors(t *testing.T) {
	block := func(body string) string {
		return base + "vhost v {\n    dvr {\n        dvr_upload {\n" + body + "\n        }\n    }\n}\n"
	}
	const on = "            enabled on;\n"
	tests := []struct {
		name, text string
		env        []string
		want       string
	}{
		{"no endpoint", block(on + "            bucket b;"), nil, "test.conf:4: dvr_upload: endpoint is required"},
		{"no bucket", block(on + "            endpoint http://h;"), nil, "test.conf:4: dvr_upload: bucket is required"},
		{"bad scheme", block(on + "            endpoint s3://h;\n            bucket b;"), nil,
			`test.conf:6: dvr_upload: endpoint "s3://h": want an http:// or https:// URL`},
		{"endpoint with a path", block(on + "            endpoint http://h/bucket;\n            bucket b;"), nil,
			"test.conf:6: dvr_upload: endpoint \"http://h/bucket\": only scheme, host and port are allowed"},
		{"endpoint from env", block(on + "            bucket b;"), []string{"SRS_VHOST_DVR_DVR_UPLOAD_ENDPOINT", "nope"},
			"env SRS_VHOST_DVR_DVR_UPLOAD_ENDPOINT: dvr_upload: endpoint \"nope\""},
		{"virtual-hosted bucket", block(on + "            endpoint http://h;\n            path_style off;\n            bucket My_Bucket;"), nil,
			`test.conf:8: dvr_upload: bucket "My_Bucket" is not DNS-compatible`},
		{"unset variable", block(on + "            endpoint http://h;\n            bucket b;\n            access_key $NOPE;\n            secret_key x;"), nil,
			"test.conf:8: access_key: the environment variable NOPE is not set"},
		{"empty variable", block(on + "            endpoint http://h;\n            bucket b;\n            access_key a;\n            secret_key $EMPTY;"),
			[]string{"EMPTY", ""}, "test.conf:9: secret_key: the environment variable EMPTY is not set"},
		{"half credentials", block(on + "            endpoint http://h;\n            bucket b;\n            access_key a;"), nil,
			"test.conf:4: dvr_upload: set both access_key and secret_key"},
		{"unknown directive", block(on + "            secret  x;"), nil, `illegal directive "secret" in vhost.dvr.dvr_upload`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseEnv(tt.text, tt.env...)
			wantErr(t, err, tt.want)
		})
	}
}

func TestDVRUploadConstantKeyWarns(t *testing.T) {
	c := mustParse(t, base+"vhost v { dvr { dvr_upload { enabled on; endpoint http://h; bucket b; key [app]/[stream].flv; } } }")
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "may get the same key") {
		t.Errorf("warnings %q", c.Warnings)
	}
}

func TestDVRUploadSecretsNeverShown(t *testing.T) {
	const secret, token = "wJalrXUtnFEMI-TEST-SECRET", "SESSION-TOKEN-TEST"
	c, err := parseEnv(uploadConf+"vhost w { dvr { dvr_upload { session_token $TOK; } } }", "AK", "AKIDTEST", "SK", secret, "TOK", token)
	if err != nil {
		t.Fatal(err)
	}
	v := c.Vhost("v")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "upload", v.DVR.Upload, "secret", v.DVR.Upload.SecretKey)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "secret", v.DVR.Upload.SecretKey)
	js, err := json.Marshal(v.DVR.Upload)
	if err != nil {
		t.Fatal(err)
	}
	dumps := map[string]string{
		"%v":   fmt.Sprintf("%v", v),
		"%+v":  fmt.Sprintf("%+v", *v),
		"%#v":  fmt.Sprintf("%#v", v.DVR),
		"%s":   fmt.Sprintf("%s", v.DVR.Upload.SecretKey),
		"%q":   fmt.Sprintf("%q", v.DVR.Upload.SecretKey),
		"json": string(js),
		"slog": logged.String(),
		"w":    fmt.Sprintf("%+v", c.Vhost("w").DVR.Upload),
	}
	for how, s := range dumps {
		if strings.Contains(s, secret) || strings.Contains(s, token) {
			t.Errorf("%s shows a secret: %s", how, s)
		}
		if !strings.Contains(s, "******") {
			t.Errorf("%s shows no mask: %s", how, s)
		}
	}
	if c.Vhost("w").DVR.Upload.SessionToken.Reveal() != token {
		t.Error("session token not read")
	}
	if Secret("").String() != "" {
		t.Error("an unset secret should print as nothing")
	}
}

func TestDVRUploadDiff(t *testing.T) {
	a, err := parseEnv(uploadConf, "AK", "a", "SK", "s")
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseEnv(strings.Replace(uploadConf, "recordings", "other", 1), "AK", "a", "SK", "s")
	if err != nil {
		t.Fatal(err)
	}
	ch := Diff(a, b)
	if len(ch.VhostsChanged) != 1 || ch.VhostsChanged[0].Name != "v" || !strings.Contains(fmt.Sprint(ch.VhostsChanged[0]), "dvr") {
		t.Errorf("a changed bucket is not a dvr change: %+v", ch)
	}
	// A rotated secret is a change too (and the diff does not print it).
	c, _ := parseEnv(uploadConf, "AK", "a", "SK", "rotated")
	if ch := Diff(a, c); len(ch.VhostsChanged) != 1 || strings.Contains(fmt.Sprintf("%+v", ch), "rotated") {
		t.Errorf("rotated secret: %+v", ch)
	}
}
