// Package stats tracks the clients the HTTP API lists and kicks, and the
// byte counts and 30-second rates of clients, streams, vhosts and the
// server, as SRS's statistic module does.
package stats

import (
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/castd/castd/internal/ids"
)

// ClientType is how SRS names a client in the API (srs_client_type_string).
type ClientType string

const (
	RTMPPlay         ClientType = "rtmp-play"
	HLSPlay          ClientType = "hls-play"
	FLVPlay          ClientType = "flv-play"
	RTCPlay          ClientType = "rtc-play"
	SRTPlay          ClientType = "srt-play"
	FlashPublish     ClientType = "flash-publish"
	FMLEPublish      ClientType = "fmle-publish"
	HaivisionPublish ClientType = "haivision-publish"
	RTCPublish       ClientType = "rtc-publish"
	SRTPublish       ClientType = "srt-publish"
)

// IsPublish reports whether the type is a publisher.
func (t ClientType) IsPublish() bool {
	switch t {
	case FlashPublish, FMLEPublish, HaivisionPublish, RTCPublish, SRTPublish:
		return true
	}
	return false
}

// Counter reports a connection's bytes; implementations read atomics.
type Counter interface {
	BytesIn() int64
	BytesOut() int64
}

// Client is one registered connection.
type Client struct {
	ID        string // the 8-character context id
	Type      ClientType
	IP        string
	Vhost     string // vhost name; the API shows its id
	App       string
	Stream    string // stream name
	StreamURL string // "/app/stream" (hub.Key.String())
	StreamID  string // the hub stream's "vid-..." id
	TcURL     string
	PageURL   string
	SwfURL    string
	Created   time.Time
	Conn      Counter
	Kick      func() // closes the connection; nil when it cannot be kicked
	// Transport, when set, returns the connection's protocol counters, which
	// the API shows under castd's own "transport" key (SRT: RTT,
	// retransmissions, loss); SRS has no such field.
	Transport func() any

	rate rate
}

// Bytes returns the client's received and sent bytes.
func (c *Client) Bytes() (recv, send int64) {
	if c.Conn == nil {
		return 0, 0
	}
	return c.Conn.BytesIn(), c.Conn.BytesOut()
}

// totals accumulates the bytes of clients that left, so stream, vhost and
// server counts never go down.
type totals struct {
	recv, send int64
	rate       rate
}

// Registry is the server's statistic store. It is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	now      func() time.Time
	clients  map[string]*Client
	streams  map[string]*totals // by stream id: bytes of departed clients
	vhosts   map[string]*totals // by vhost name
	vhostIDs map[string]string
	server   totals
	nTotal   int64 // clients ever registered (srs_clients_total)
	nErrs    int64 // clients that ended with an error
}

// New returns an empty registry. now may be nil (time.Now).
func New(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{
		now: now, clients: map[string]*Client{}, streams: map[string]*totals{},
		vhosts: map[string]*totals{}, vhostIDs: map[string]string{},
	}
}

// ErrClientNotFound is returned for an unknown client id (SRS code 2049).
var ErrClientNotFound = errors.New("stats: client not found")

// ErrNotKickable is returned when a client has no connection to close (SRS answers code 400).
var ErrNotKickable = errors.New("stats: client has no connection to kick")

// Register adds a client. A client with the same id replaces the old entry
// (a connection that republishes registers again).
func (r *Registry) Register(c *Client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.Created.IsZero() {
		c.Created = r.now()
	}
	if old, ok := r.clients[c.ID]; ok {
		r.retireLocked(old)
	} else {
		r.nTotal++
	}
	r.clients[c.ID] = c
	r.vhostIDLocked(c.Vhost)
}

// Unregister removes a client; err is its end reason (nil for a clean end).
func (r *Registry) Unregister(id string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.clients[id]
	if !ok {
		return
	}
	delete(r.clients, id)
	r.retireLocked(c)
	if err != nil {
		r.nErrs++
	}
}

// retireLocked moves a departing client's bytes into the aggregate totals.
func (r *Registry) retireLocked(c *Client) {
	recv, send := c.Bytes()
	for _, t := range []*totals{r.streamLocked(c.StreamID), r.vhostLocked(c.Vhost), &r.server} {
		t.recv += recv
		t.send += send
	}
}

func (r *Registry) streamLocked(id string) *totals {
	t, ok := r.streams[id]
	if !ok {
		t = &totals{}
		r.streams[id] = t
	}
	return t
}

func (r *Registry) vhostLocked(name string) *totals {
	t, ok := r.vhosts[name]
	if !ok {
		t = &totals{}
		r.vhosts[name] = t
	}
	return t
}

func (r *Registry) vhostIDLocked(name string) string {
	id, ok := r.vhostIDs[name]
	if !ok {
		id = ids.NewVID()
		r.vhostIDs[name] = id
	}
	return id
}

// VhostID returns the stable "vid-..." id the API shows for a vhost name.
func (r *Registry) VhostID(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.vhostIDLocked(name)
}

// VhostByID returns the vhost name with that API id.
func (r *Registry) VhostByID(id string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, vid := range r.vhostIDs {
		if vid == id {
			return name, true
		}
	}
	return "", false
}

// ForgetStream drops the totals of a stream the hub freed.
func (r *Registry) ForgetStream(id string) {
	r.mu.Lock()
	delete(r.streams, id)
	r.mu.Unlock()
}

// Kick closes the client's connection.
func (r *Registry) Kick(id string) error {
	r.mu.Lock()
	c, ok := r.clients[id]
	r.mu.Unlock()
	if !ok {
		return ErrClientNotFound
	}
	if c.Kick == nil {
		return ErrNotKickable
	}
	c.Kick()
	return nil
}

// ClientView is a client with its live counters, for the API.
type ClientView struct {
	*Client
	RecvBytes, SendBytes int64
	RecvKbps, SendKbps   int
	VhostID              string
}

// Client returns one client.
func (r *Registry) Client(id string) (ClientView, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.clients[id]
	if !ok {
		return ClientView{}, false
	}
	return r.viewLocked(c), true
}

// Clients returns every client sorted by id (SRS iterates a sorted map).
func (r *Registry) Clients() []ClientView {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ClientView, 0, len(r.clients))
	for _, c := range r.clients {
		out = append(out, r.viewLocked(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (r *Registry) viewLocked(c *Client) ClientView {
	recv, send := c.Bytes()
	rk, sk := c.rate.kbps(r.now(), recv, send)
	return ClientView{Client: c, RecvBytes: recv, SendBytes: send, RecvKbps: rk, SendKbps: sk, VhostID: r.vhostIDLocked(c.Vhost)}
}

// Usage is the traffic of a stream, a vhost or the server.
type Usage struct {
	Clients              int
	RecvBytes, SendBytes int64
	RecvKbps, SendKbps   int
}

// StreamUsage sums the stream's live and departed clients.
func (r *Registry) StreamUsage(streamID string) Usage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.usageLocked(r.streamLocked(streamID), func(c *Client) bool { return c.StreamID == streamID })
}

// VhostUsage sums a vhost's clients.
func (r *Registry) VhostUsage(name string) Usage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.usageLocked(r.vhostLocked(name), func(c *Client) bool { return c.Vhost == name })
}

// ServerUsage sums every client.
func (r *Registry) ServerUsage() Usage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.usageLocked(&r.server, func(*Client) bool { return true })
}

func (r *Registry) usageLocked(t *totals, match func(*Client) bool) Usage {
	u := Usage{RecvBytes: t.recv, SendBytes: t.send}
	for _, c := range r.clients {
		if match(c) {
			recv, send := c.Bytes()
			u.Clients++
			u.RecvBytes += recv
			u.SendBytes += send
		}
	}
	u.RecvKbps, u.SendKbps = t.rate.kbps(r.now(), u.RecvBytes, u.SendBytes)
	return u
}

// Counts returns the number of clients now, ever, and ended with errors.
func (r *Registry) Counts() (now int, total, errs int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clients), r.nTotal, r.nErrs
}

// Sample records the current byte counts so 30-second rates can be
// computed; the server calls it every SampleInterval.
func (r *Registry) Sample() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for _, c := range r.clients {
		recv, send := c.Bytes()
		c.rate.add(now, recv, send)
	}
	byStream := map[string]bool{}
	for _, c := range r.clients {
		byStream[c.StreamID] = true
	}
	for id := range r.streams {
		byStream[id] = true
	}
	for id := range byStream {
		t := r.streamLocked(id)
		u := r.usageLocked(t, func(c *Client) bool { return c.StreamID == id })
		t.rate.add(now, u.RecvBytes, u.SendBytes)
	}
	for name := range r.vhostIDs {
		t := r.vhostLocked(name)
		u := r.usageLocked(t, func(c *Client) bool { return c.Vhost == name })
		t.rate.add(now, u.RecvBytes, u.SendBytes)
	}
	u := r.usageLocked(&r.server, func(*Client) bool { return true })
	r.server.rate.add(now, u.RecvBytes, u.SendBytes)
}
