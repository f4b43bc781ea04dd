package hls

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/security"
	"github.com/castd/castd/internal/stats"
	"github.com/castd/castd/internal/streamurl"
)

// Front serves hls_ctx sessions in front of the static files (next), on
// vhosts with hls and hls_ctx on:
//
//   - a playlist request without a known session creates one (stats,
//     security, on_play) and gets a one-entry master playlist that points
//     back at the playlist with ?hls_ctx=<id>;
//   - with a known session it gets the playlist file with the session
//     added to every segment URI (hls_ts_ctx);
//   - a segment request with a known session refreshes it and counts its
//     bytes; the file itself comes from next.
//
// Other requests, and every request on other vhosts, go to next. It is
// called again with the new config on every reload; sessions live on.
func (e *Egress) Front(cfg *conf.Config, next http.Handler) http.Handler {
	return &front{e: e, cfg: cfg, next: next}
}

type front struct {
	e    *Egress
	cfg  *conf.Config
	next http.Handler
}

const (
	playlistType = "application/vnd.apple.mpegurl"
	extPlaylist  = ".m3u8"
	extSegment   = ".ts"
)

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ext := strings.ToLower(path.Ext(r.URL.Path))
	if (ext != extPlaylist && ext != extSegment) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		f.next.ServeHTTP(w, r)
		return
	}
	req, err := streamurl.DiscoverHTTP(r.Host, r.URL.EscapedPath(), r.URL.RawQuery)
	if err != nil {
		f.next.ServeHTTP(w, r)
		return
	}
	v := f.cfg.Vhost(req.Vhost)
	if v == nil || !v.Enabled || !v.HLS.Enabled || !v.HLS.Ctx {
		f.next.ServeHTTP(w, r)
		return
	}
	id := r.URL.Query().Get(CtxParam)
	s, kicked := f.e.sessions.find(id)
	switch {
	case kicked:
		sessionNotFound(w, id)
	case ext == extSegment && s != nil:
		cw := &countingWriter{ResponseWriter: w}
		f.next.ServeHTTP(cw, r)
		f.e.sessions.touch(s, v, cw.n)
	case ext == extSegment:
		f.next.ServeHTTP(w, r)
	case s != nil:
		f.mediaPlaylist(w, r, v, s)
	case r.Method == http.MethodHead:
		f.next.ServeHTTP(w, r) // a probe makes no session
	default:
		f.newSession(w, r, v, req, id)
	}
}

// newSession answers a player's first playlist request, as SRS's
// serve_new_session: register the client, check security, call on_play,
// then send the master playlist. A refused player's connection is closed
// without an answer.
func (f *front) newSession(w http.ResponseWriter, r *http.Request, v *conf.Vhost, req *streamurl.Request, asked string) {
	file := capture(f.next, r)
	if file.status != http.StatusOK {
		file.replay(w, r) // no playlist (404...): no session
		return
	}
	e := f.e
	id := e.sessions.newID(asked)
	key := hub.Key{Vhost: v.Name, App: req.App, Name: req.Stream}
	ip := remoteIP(r)
	streamID := ""
	if st := e.opt.Hub.Stream(key); st != nil {
		streamID = st.ID
	}
	hr := hooks.Request{
		ClientID: id, IP: ip, Vhost: v.Name, App: key.App, Stream: key.Name, Param: req.Param,
		TcURL: "rtmp://" + v.Name + "/" + key.App, PageURL: r.Referer(), StreamURL: key.String(), StreamID: streamID,
	}
	s := e.sessions.add(id, key, v, hr, &stats.Client{
		ID: id, Type: stats.HLSPlay, IP: ip, Vhost: v.Name, App: key.App, Stream: key.Name,
		StreamURL: key.String(), StreamID: streamID, TcURL: httpTcURL(r, key.App), PageURL: r.Referer(),
	})
	log := e.opt.Log.With(logging.CID(id))
	err := security.Check(v.Security, security.Play, security.ClientAddr(r.RemoteAddr))
	if err == nil && e.opt.Hooks != nil {
		err = e.opt.Hooks.OnPlay(r.Context(), v.HTTPHooks, hr)
	}
	if err != nil {
		log.Warn("hls: play refused", "stream", key.String(), "ip", ip, "err", err)
		e.sessions.remove(s, err)
		httpx.CloseWithoutResponse(w)
		return
	}
	log.Info("hls: session start", "stream", key.String(), "ip", ip, "url", r.URL.String())
	body := MasterPlaylist(sessionURL(r.URL, id))
	e.sessions.touch(s, v, int64(len(body)))
	writePlaylist(w, r, body)
}

// mediaPlaylist sends the playlist file with the session in its segment URIs.
func (f *front) mediaPlaylist(w http.ResponseWriter, r *http.Request, v *conf.Vhost, s *session) {
	file := capture(f.next, r)
	if file.status != http.StatusOK {
		file.replay(w, r)
		return
	}
	body := file.body.Bytes()
	if v.HLS.TSCtx {
		body = addSession(body, s.id)
	}
	f.e.sessions.touch(s, v, int64(len(body)))
	writePlaylist(w, r, body)
}

func writePlaylist(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", playlistType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-cache") // a live playlist changes every segment
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// sessionURL is the master playlist's entry: the request's path with the
// session first, then the player's own query (SRS's order).
func sessionURL(u *url.URL, id string) string {
	q := CtxParam + "=" + id
	if rest := withoutParam(u.RawQuery, CtxParam); rest != "" {
		q += "&" + rest
	}
	return u.EscapedPath() + "?" + q
}

// withoutParam removes every name=... pair from a raw query, keeping the
// rest as sent.
func withoutParam(raw, name string) string {
	var kept []string
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" || pair == name || strings.HasPrefix(pair, name+"=") {
			continue
		}
		kept = append(kept, pair)
	}
	return strings.Join(kept, "&")
}

// addSession appends hls_ctx=<id> to every segment URI of a playlist (the
// lines that are not tags or blank). SRS replaces ".ts" with
// ".ts?hls_ctx=<id>" in the whole text, which breaks URIs that already
// have a query; castd edits the URIs alone. Session ids need no escaping
// (validCtx), but the id is escaped anyway: it must never add a line.
func addSession(playlist []byte, id string) []byte {
	param := CtxParam + "=" + url.QueryEscape(id)
	out := make([]byte, 0, len(playlist)+64)
	for len(playlist) > 0 {
		line := playlist
		if i := bytes.IndexByte(playlist, '\n'); i >= 0 {
			line, playlist = playlist[:i+1], playlist[i+1:]
		} else {
			playlist = nil
		}
		uri := bytes.TrimRight(line, "\r\n")
		if len(uri) == 0 || uri[0] == '#' {
			out = append(out, line...)
			continue
		}
		end := len(uri)
		if i := bytes.IndexByte(uri, '#'); i >= 0 {
			end = i
		}
		sep := byte('?')
		if bytes.IndexByte(uri[:end], '?') >= 0 {
			sep = '&'
		}
		out = append(out, uri[:end]...)
		out = append(out, sep)
		out = append(out, param...)
		out = append(out, line[end:]...)
	}
	return out
}

// captured is a response of next kept in memory: the playlist file.
type captured struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	overflow bool
}

func (c *captured) Header() http.Header { return c.header }
func (c *captured) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *captured) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len()+len(b) > MaxPlaylistSize {
		c.overflow = true
		return 0, fmt.Errorf("hls: playlist over %d bytes", MaxPlaylistSize)
	}
	return c.body.Write(b)
}

// capture fetches the file a request names from next, as a plain GET of
// the whole file.
func capture(next http.Handler, r *http.Request) *captured {
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodGet
	for _, h := range []string{"Range", "If-Range", "If-Modified-Since", "If-None-Match", "If-Match", "If-Unmodified-Since"} {
		r2.Header.Del(h)
	}
	c := &captured{header: http.Header{}}
	next.ServeHTTP(c, r2)
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.overflow {
		c.status = http.StatusInternalServerError
		c.body.Reset()
		c.body.WriteString("castd: playlist too large\n")
		c.header = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	}
	return c
}

// replay sends a captured answer that is not a playlist (a 404...).
func (c *captured) replay(w http.ResponseWriter, r *http.Request) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(c.body.Bytes())
	}
}

// countingWriter counts the bytes of a segment sent to a session. Its
// ReadFrom keeps the file server's sendfile path.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(c.ResponseWriter, r)
	c.n += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func remoteIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// httpTcURL is the API's tcUrl of an HTTP player, as for HTTP-FLV.
func httpTcURL(r *http.Request, app string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/" + app
}
