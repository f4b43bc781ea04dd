// Package static serves files from http_server.dir and http_static mounts
// as SRS does: index.html for directories, fixed content types for media,
// byte ranges, FLV seeking with ?start= and MP4 ranges with ?range=.
package static

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/castd/castd/internal/httpx"
)

// contentTypes is castd's own table so answers do not depend on the host's
// mime.types (which differ between distributions).
var contentTypes = map[string]string{
	".ts":   "video/MP2T",
	".flv":  "video/x-flv",
	".m4v":  "video/x-m4v",
	".3gpp": "video/3gpp",
	".3gp":  "video/3gpp",
	".mp4":  "video/mp4",
	".m4s":  "video/iso.segment",
	".aac":  "audio/x-aac",
	".mp3":  "audio/mpeg",
	".m4a":  "audio/x-m4a",
	".ogg":  "audio/ogg",
	".m3u8": "application/vnd.apple.mpegurl",
	".mpd":  "application/dash+xml",
	".key":  "application/octet-stream",
	".txt":  "text/plain; charset=utf-8",
	".log":  "text/plain; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".htm":  "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".json": "application/json",
	".xml":  "text/xml; charset=utf-8",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".ico":  "image/x-icon",
	".svg":  "image/svg+xml",
	".webp": "image/webp",
	".wasm": "application/wasm",
}

// ContentType returns the content type for a file name.
func ContentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}

// Handler serves Dir at the URL prefix Mount ("/" for the server root,
// "/hls/" for a mount). It never serves outside Dir.
type Handler struct {
	Dir   string
	Mount string
}

func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpx.MethodNotAllowed(w)
		return
	}
	name := h.file(r.URL.Path)
	f, err := os.Open(name)
	if err != nil {
		httpx.NotFound(w)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		httpx.NotFound(w)
		return
	}
	w.Header().Set("Content-Type", ContentType(name))
	q := r.URL.Query()
	switch ext := strings.ToLower(path.Ext(name)); {
	case ext == ".flv" && q.Get("start") != "":
		serveFLVFrom(w, r, f, st.Size(), q.Get("start"))
		return
	case ext == ".mp4" && q.Get("range") != "" && r.Header.Get("Range") == "":
		r.Header.Set("Range", "bytes="+q.Get("range"))
	}
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// flvHeaderSize is the FLV header plus PreviousTagSize0.
const flvHeaderSize = 13

// serveFLVFrom implements SRS's FLV VOD seek: the file's FLV header, then
// the file from byte offset start (a tag boundary the player chose from the
// keyframes index in onMetaData).
func serveFLVFrom(w http.ResponseWriter, r *http.Request, f *os.File, size int64, startArg string) {
	start, err := strconv.ParseInt(startArg, 10, 64)
	if err != nil || start < 0 || start > size {
		http.Error(w, fmt.Sprintf("bad FLV start offset %q", startArg), http.StatusBadRequest)
		return
	}
	var head [flvHeaderSize]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || string(head[:3]) != "FLV" {
		http.Error(w, "not an FLV file", http.StatusBadRequest)
		return
	}
	if start < flvHeaderSize {
		start = flvHeaderSize
	}
	w.Header().Set("Content-Length", strconv.FormatInt(flvHeaderSize+size-start, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := w.Write(head[:]); err != nil {
		return
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return
	}
	_, _ = io.Copy(w, f)
}

// Exists reports whether urlPath names a regular file, so the live stream
// server can leave existing files (DVR recordings) to this handler.
func (h Handler) Exists(urlPath string) bool {
	st, err := os.Stat(h.file(urlPath))
	return err == nil && st.Mode().IsRegular()
}

// file maps a URL path to a file under Dir; cleaning the rooted path first
// keeps ".." from escaping Dir. Directories map to their index.html.
func (h Handler) file(urlPath string) string {
	rel := strings.TrimPrefix(urlPath, strings.TrimSuffix(h.Mount, "/"))
	if strings.HasSuffix(rel, "/") || rel == "" {
		rel += "index.html"
	}
	return filepath.Join(h.Dir, filepath.FromSlash(path.Clean("/"+rel)))
}
