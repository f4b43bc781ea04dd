package dash

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Front serves castd's MPDs with the current time in their UTCTiming
// element. The files carry the time they were written, up to a segment
// old; a player that took that for the server's clock would compute a live
// edge too early. MPDs are served by whatever serves the files (the HTTP
// root, an http_static mount); Front only rewrites a GET answer of 200
// whose body has castd's UTCTiming, and passes everything else on.
func Front(next http.Handler, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, ".mpd") || r.Header.Get("Range") != "" {
			next.ServeHTTP(w, r)
			return
		}
		// A 304 would let a player reuse an MPD with a stale time: ask for
		// the whole file.
		if r.Header.Get("If-Modified-Since") != "" || r.Header.Get("If-None-Match") != "" {
			r = r.Clone(r.Context())
			r.Header.Del("If-Modified-Since")
			r.Header.Del("If-None-Match")
		}
		c := &captureWriter{w: w, header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(c, r)
		if c.passing {
			return // too large to be ours: already passed on
		}
		body := c.body.Bytes()
		if c.status == http.StatusOK {
			if fresh, ok := refreshUTCTiming(body, now()); ok {
				body = fresh
				c.header.Set("Content-Length", strconv.Itoa(len(body)))
				c.header.Set("Cache-Control", "no-cache")
				c.header.Del("ETag") // it names the file, not this answer
			}
		}
		c.pass()
		_, _ = w.Write(body)
	})
}

// maxMPDSize bounds what Front holds in memory; a larger answer is passed
// on unchanged (castd's MPDs are a few kilobytes).
const maxMPDSize = 1 << 20

// captureWriter holds an answer so Front can change it; past maxMPDSize
// it passes the answer on as it comes.
type captureWriter struct {
	w       http.ResponseWriter
	header  http.Header
	status  int
	wrote   bool
	body    bytes.Buffer
	passing bool
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(status int) {
	if !c.wrote {
		c.status, c.wrote = status, true
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	if c.passing {
		return c.w.Write(b)
	}
	if c.body.Len()+len(b) <= maxMPDSize {
		return c.body.Write(b)
	}
	c.pass()
	if _, err := c.w.Write(c.body.Bytes()); err != nil {
		return 0, err
	}
	c.body = bytes.Buffer{}
	return c.w.Write(b)
}

// pass sends the held status and headers.
func (c *captureWriter) pass() {
	c.passing = true
	for k, v := range c.header {
		c.w.Header()[k] = v
	}
	c.w.WriteHeader(c.status)
}

// refreshUTCTiming replaces the value of castd's UTCTiming element with
// now; the layout's fixed width keeps the length.
func refreshUTCTiming(mpd []byte, now time.Time) ([]byte, bool) {
	marker := []byte(`<UTCTiming schemeIdUri="` + utcTimingScheme + `" value="`)
	i := bytes.LastIndex(mpd, marker)
	if i < 0 {
		return nil, false
	}
	at := i + len(marker)
	stamp := now.UTC().Format(dateTimeLayout)
	if at+len(stamp) >= len(mpd) || mpd[at+len(stamp)] != '"' {
		return nil, false
	}
	out := bytes.Clone(mpd)
	copy(out[at:], stamp)
	return out, true
}
