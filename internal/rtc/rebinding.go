package rtc

import (
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
)

// rebindQuiet is how long the client's current address must have been
// silent before a binding request from another address moves the session:
// a browser also pings its backup paths, which must not steal the session
// while the selected one works.
const rebindQuiet = 1500 * time.Millisecond

// maxRemotes bounds the client addresses a session remembers.
const maxRemotes = 16

// rebinding follows a client whose address changes (NAT rebinding, a
// network switch), as SRS does: once the session is up, an authenticated
// STUN binding request from a new UDP address moves the session there when
// the current address went quiet. Browsers nominate on their consent checks
// (USE-CANDIDATE), which pion's ICE-lite agent follows by itself; other
// clients, pion's among them, nominate once, and an ICE-lite server cannot
// check a new path itself.
type rebinding struct {
	mu       sync.Mutex
	selected string                   // the client's current address; "" before ICE completes
	remotes  map[string]ice.Candidate // the client addresses seen in binding requests
}

// selectedChanged records the pair ICE selected.
func (r *rebinding) selectedChanged(remote string) {
	r.mu.Lock()
	r.selected = remote
	r.mu.Unlock()
}

// onBindingRequest is pion's binding request handler: it reports whether
// the pair the request came on must become the selected one.
func (r *rebinding) onBindingRequest(_ *stun.Message, _, remote ice.Candidate, _ *ice.CandidatePair) bool {
	if remote.NetworkType().IsTCP() {
		return false // a new TCP connection is a new candidate, which ICE handles
	}
	addr := net.JoinHostPort(remote.Address(), strconv.Itoa(remote.Port()))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.remotes == nil {
		r.remotes = map[string]ice.Candidate{}
	}
	if _, ok := r.remotes[addr]; ok || len(r.remotes) < maxRemotes {
		r.remotes[addr] = remote
	}
	if r.selected == "" || r.selected == addr {
		return false
	}
	if cur := r.remotes[r.selected]; cur != nil && time.Since(cur.LastReceived()) < rebindQuiet {
		return false
	}
	r.selected = addr
	return true
}
