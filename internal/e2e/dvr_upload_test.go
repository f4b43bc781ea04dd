package e2e

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/objstore/s3test"
)

// dvrUploadConf records the default vhost to FLV segments, uploaded with
// the default key and kept, and vhost mp4.dvr to MP4 segments, uploaded
// under a key template and removed once uploaded. The fake S3 at {{s3}}
// checks every request's SigV4 signature.
const dvrUploadConf = `
listen              127.0.0.1:{{rtmp}};
daemon              off;
srs_log_tank        console;
pid                 {{dir}}/castd.pid;
http_api {
    enabled         on;
    listen          127.0.0.1:{{api}};
    raw_api {
        enabled     on;
    }
}
vhost __defaultVhost__ {
    dvr {
        enabled         on;
        dvr_plan        segment;
        dvr_duration    2;
        dvr_path        {{dir}}/flv/[app]/[stream].[timestamp].flv;
        dvr_upload {
            enabled     on;
            endpoint    {{s3}};
            region      eu-west-3;
            bucket      recordings;
            access_key  AKIDE2EUPLOAD;
            secret_key  {{secret}};
        }
    }
}
vhost mp4.dvr {
    dvr {
        enabled         on;
        dvr_plan        segment;
        dvr_duration    2;
        dvr_path        {{dir}}/mp4/[app]/[stream].[timestamp].mp4;
        dvr_upload {
            enabled     on;
            endpoint    {{s3}};
            region      eu-west-3;
            bucket      recordings;
            access_key  AKIDE2EUPLOAD;
            secret_key  {{secret}};
            key         mp4/[vhost]/[app]/[stream]/[2006]/[file];
            remove_local on;
        }
    }
}
`

const e2eSecret = "e2eSecretKey/never+shown"

// TestDVRUpload publishes 6 s to two vhosts recording 2 s segments and
// checks that every finished file reaches the fake S3 with its bytes
// intact, that the MP4 copies were removed after upload, and that the
// uploaded files play.
func TestDVRUpload(t *testing.T) {
	fake := s3test.New(s3test.Options{AccessKey: "AKIDE2EUPLOAD", SecretKey: e2eSecret, Region: "eu-west-3", Buckets: []string{"recordings"}})
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	c := startCastd(t, strings.NewReplacer("{{s3}}", hs.URL, "{{secret}}", e2eSecret).Replace(dvrUploadConf))
	d := &dvrSetup{c: c}
	pub := d.publishTee(t, "up", "av", 6*time.Second)
	if err := pub.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, pub.out.String())
	}

	// Every finished file is uploaded (or its failure logged) in the end.
	deadline := time.Now().Add(20 * time.Second)
	for {
		logs := c.logs.String()
		done, uploaded := strings.Count(logs, "dvr: file done "), strings.Count(logs, "dvr: uploaded ")
		tmps, _ := filepath.Glob(filepath.Join(c.dir, "*", "live", "*.tmp"))
		if done >= 4 && done == uploaded && len(tmps) == 0 {
			break
		}
		if strings.Contains(logs, "dvr: upload failed") || time.Now().After(deadline) {
			t.Fatalf("%d files done, %d uploaded, %d open; rejected by the fake: %q", done, uploaded, len(tmps), fake.Rejected())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := fake.Rejected(); len(r) > 0 {
		t.Errorf("the fake refused requests: %q", r)
	}

	// FLV: the default key is the path below dvr_path's fixed directory,
	// the local file stays and equals the object.
	flvs, _ := filepath.Glob(filepath.Join(c.dir, "flv", "live", "up.*.flv"))
	if len(flvs) < 2 {
		t.Fatalf("FLV files %v", flvs)
	}
	for _, f := range flvs {
		key := "live/" + filepath.Base(f)
		local, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj, ok := fake.Object("recordings", key)
		if !ok || !bytes.Equal(obj, local) {
			t.Errorf("%s: object %d bytes (%v), local file %d bytes", key, len(obj), ok, len(local))
		}
	}

	// MP4: uploaded under the template, local copies removed.
	if left, _ := filepath.Glob(filepath.Join(c.dir, "mp4", "live", "*")); len(left) != 0 {
		t.Errorf("remove_local left %v", left)
	}
	prefix := "mp4/mp4.dvr/live/up/" + time.Now().Format("2006") + "/up."
	var mp4s []string
	for _, k := range fake.Keys("recordings") {
		if strings.HasPrefix(k, "mp4/") {
			if !strings.HasPrefix(k, prefix) || !strings.HasSuffix(k, ".mp4") {
				t.Errorf("MP4 key %q, want %s*.mp4", k, prefix)
			}
			mp4s = append(mp4s, k)
		}
	}
	if len(mp4s) < 2 {
		t.Fatalf("MP4 objects %q", mp4s)
	}

	// The uploaded bytes play: ffprobe and a full decode of one of each.
	tmp := t.TempDir()
	for _, key := range []string{"live/" + filepath.Base(flvs[0]), mp4s[0]} {
		obj, _ := fake.Object("recordings", key)
		path := filepath.Join(tmp, filepath.Base(key))
		if err := os.WriteFile(path, obj, 0o644); err != nil {
			t.Fatal(err)
		}
		p := probeFile(t, path)
		if got := p.codecs(); got != "h264 320x240/aac" {
			t.Errorf("%s: codecs %q", key, got)
		}
		if dur := p.duration(t); dur < 1 || dur > 4 {
			t.Errorf("%s: %.2f s, want a 2 s segment", key, dur)
		}
	}

	// Every request was signed for the configured region and verified; the
	// secret shows nowhere: not in the log, not in the API.
	if len(fake.Ops()) < len(flvs)+len(mp4s) {
		t.Errorf("%d requests for %d objects", len(fake.Ops()), len(flvs)+len(mp4s))
	}
	for _, path := range []string{"api/v1/raw?rpc=raw", "api/v1/vhosts/", "api/v1/summaries", "api/v1/features"} {
		if body := httpGet(t, c.apiURL(path)); body == "" || strings.Contains(body, e2eSecret) {
			t.Errorf("%s: %q", path, body)
		}
	}
	if strings.Contains(c.logs.String(), e2eSecret) {
		t.Error("the secret key was logged")
	}
}
