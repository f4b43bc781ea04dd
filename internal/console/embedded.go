package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/static"
)

// ui is the console's page, script and style sheet: plain files with no
// build step.
//
//go:embed ui
var ui embed.FS

// endpointsFile is castd's own answer (not a file in ui): the ports and
// URL templates the page builds play links from.
const endpointsFile = "endpoints.json"

// contentSecurityPolicy allows only the console's own files and the API
// on the same origin; the page has no inline script or style.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is one file served from memory, with a validator so browsers
// revalidate cheaply instead of keeping a stale console after an upgrade.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

func newAsset(name string, body []byte) asset {
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: static.ContentType(name), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// embedded serves the files of ui and endpoints.json.
type embedded struct {
	assets map[string]asset // by name under Path; "" is index.html
}

func newEmbedded(ep Endpoints) *embedded {
	e := &embedded{assets: map[string]asset{}}
	err := fs.WalkDir(ui, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := ui.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "ui/")
		e.assets[name] = newAsset(name, body)
		return nil
	})
	if err != nil {
		// The files are compiled in: only a broken build gets here, as
		// with regexp.MustCompile on a constant.
		panic(fmt.Sprintf("console: embedded files: %v", err))
	}
	e.assets[""] = e.assets["index.html"]
	body, err := json.Marshal(ep)
	if err != nil {
		panic(fmt.Sprintf("console: endpoints: %v", err)) // strings, ints and bools always marshal
	}
	e.assets[endpointsFile] = newAsset(endpointsFile, body)
	return e
}

func (e *embedded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The rest of the path is looked up as is, never joined to a file
	// system path: nothing but these assets can be reached.
	a, ok := e.assets[strings.TrimPrefix(r.URL.Path, Path)]
	if !ok {
		httpx.NotFound(w)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if a.contentType == "text/html; charset=utf-8" {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	// ServeContent answers If-None-Match with 304 and handles HEAD and
	// ranges; the zero time leaves Last-Modified out (the ETag validates).
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
