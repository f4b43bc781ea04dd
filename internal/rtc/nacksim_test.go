package rtc

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/hub"
)

func TestAtoi(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"10", 10}, {" \t\n7", 7}, {"+3", 3}, {"-2", -2}, {"5x", 5}, {"x5", 0}, {"", 0}, {"-", 0}, {" ", 0},
		{"0010", 10}, {"99999999999999999999999", math.MaxInt32}, {"-99999999999999999999999", math.MinInt32},
		{"2147483647", math.MaxInt32}, {"2147483648", math.MaxInt32}, {"1 2", 1}, {"٣", 0},
	} {
		if got := atoi(c.in); got != c.want {
			t.Errorf("atoi(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestIsRTPNotRTCP(t *testing.T) {
	pad := make([]byte, 10)
	for _, c := range []struct {
		name string
		head []byte
		want bool
	}{
		{"RTP, PT 96", []byte{0x80, 96}, true},
		{"RTP, PT 96 with marker", []byte{0x80, 0x80 | 96}, true},
		{"RTP, PT 0 with marker", []byte{0x80, 0x80}, true},
		{"RTP, PT 111, CSRC and padding bits", []byte{0xbf, 111}, true},
		{"RTCP sender report", []byte{0x80, 200}, false},
		{"RTCP receiver report", []byte{0x81, 201}, false},
		{"RTCP feedback (NACK)", []byte{0x81, 205}, false},
		{"RTCP PLI", []byte{0x81, 206}, false},
		{"RTCP lowest type", []byte{0x80, 192}, false},
		{"RTCP highest type", []byte{0x80, 223}, false},
		{"STUN binding request", []byte{0x00, 0x01}, false},
		{"DTLS handshake", []byte{22, 0xfe}, false},
		{"version 1", []byte{0x40, 96}, false},
		{"version 3", []byte{0xc0, 96}, false},
	} {
		if got := isRTPNotRTCP(append(c.head, pad...)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if isRTPNotRTCP([]byte{0x80, 96, 0, 1}) {
		t.Error("a packet shorter than an RTP header is not RTP")
	}
}

func TestNACKDropperCounts(t *testing.T) {
	var d nackDropper
	if d.take() {
		t.Fatal("an idle simulator dropped a packet")
	}
	d.left.Store(3)
	n := 0
	for range 10 {
		if d.take() {
			n++
		}
	}
	if n != 3 || d.dropped.Load() != 3 || d.left.Load() != 0 {
		t.Fatalf("dropped %d (counted %d, %d left), want 3", n, d.dropped.Load(), d.left.Load())
	}
}

// nackCall calls the NACK simulator and returns its raw answer.
func nackCall(t *testing.T, base, query string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/rtc/v1/nack/?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestNACKSimulatorAnswers(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, c := range []struct {
		query string
		code  int
		user  string
		drop  string
	}{
		{"username=nope&drop=3", 5022, "nope", "3"},
		{"username=nope", 5023, "nope", ""},
		{"drop=abc", 5023, "", "abc"},
		{"username=a%3Ab&drop=-4", 5023, "a:b", "-4"},
		{"username=a%3Ab&drop=0", 5023, "a:b", "0"},
		{"username=x&drop=2&callback=cb", 5022, "x", "2"},
	} {
		status, body := nackCall(t, e.http.URL, c.query)
		if strings.Contains(c.query, "callback=cb") {
			if !strings.HasPrefix(body, "cb(") || !strings.HasSuffix(body, ")") {
				t.Errorf("?%s: %s is not JSONP", c.query, body)
				continue
			}
			body = body[3 : len(body)-1]
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("?%s: %s: %v", c.query, body, err)
		}
		// SRS's fields, and their types: code a number, the query strings.
		want := map[string]any{"code": float64(c.code), "query": map[string]any{"username": c.user, "drop": c.drop, "help": "?username=string&drop=int"}}
		if status != http.StatusOK || !reflect.DeepEqual(got, want) {
			t.Errorf("?%s: %d %v\nwant 200 %v", c.query, status, got, want)
		}
	}
}

// sessionOf returns the session id in a WHIP Location header.
func sessionOf(t *testing.T, location string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	id := u.Query().Get("session")
	if id == "" {
		t.Fatalf("no session in Location %q", location)
	}
	return id
}

// nackDrop asks the simulator to drop n packets of a session and checks
// the answer.
func nackDrop(t *testing.T, base, session string, n int) {
	t.Helper()
	q := url.Values{"username": {session}, "drop": {strconv.Itoa(n)}}
	_, body := nackCall(t, base, q.Encode())
	var ans nackAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	if ans.Code != 0 || ans.Query.Username != session || ans.Query.Drop != strconv.Itoa(n) || ans.Query.Help != nackHelp {
		t.Fatalf("answer %s", body)
	}
}

func TestNACKSimulatorDropsAndNACKRecovers(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := newTestPublisher(t)
	pubSession := sessionOf(t, whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=sim"))
	waitConnected(t, pub.pc)
	go pub.run(ctx, 50)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "sim"})
	play := newTestPlayer(t, false, true)
	playSession := sessionOf(t, whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=sim"))
	waitConnected(t, play.pc)
	play.waitFrames(t, 10, 5*time.Second)

	find := func(id string) *session {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return e.srv.sessions[id]
	}
	ps, ss := find(pubSession), find(playSession)
	if ps == nil || ss == nil || ps.play || !ss.play {
		t.Fatalf("sessions %v %v", ps, ss)
	}
	framesNow := func() int {
		play.mu.Lock()
		defer play.mu.Unlock()
		return play.frames
	}

	// From the publisher: castd loses packets, NACKs them, the publisher
	// resends them.
	const drop = 12
	nacksOut := ps.stats.nacksOut.Load()
	nackDrop(t, e.http.URL, pubSession, drop)
	waitFor(t, "the publisher's packets to be dropped", func() bool { return ps.drop.dropped.Load() == drop })
	play.waitFrames(t, framesNow()+15, 5*time.Second)
	if ps.stats.nacksOut.Load() == nacksOut {
		t.Error("castd sent the publisher no NACK for the dropped packets")
	}

	// To the player: the player NACKs, castd resends.
	retransmits, nacksIn := ss.stats.retransmits.Load(), ss.stats.nacksIn.Load()
	nackDrop(t, e.http.URL, playSession, drop)
	waitFor(t, "the player's packets to be dropped", func() bool { return ss.drop.dropped.Load() == drop })
	play.waitFrames(t, framesNow()+15, 5*time.Second)
	if ss.stats.nacksIn.Load() == nacksIn || ss.stats.retransmits.Load() == retransmits {
		t.Errorf("player: NACKed %d, resent %d after dropping %d packets", ss.stats.nacksIn.Load()-nacksIn,
			ss.stats.retransmits.Load()-retransmits, drop)
	}

	play.mu.Lock()
	frames, first, last := play.frames, play.first, play.last
	play.mu.Unlock()
	if missing := last - first + 1 - frames; missing != 0 {
		t.Errorf("the player misses %d of frames %d..%d: NACK did not recover the dropped packets", missing, first, last)
	}
	if ps.drop.dropped.Load() != drop || ss.drop.dropped.Load() != drop {
		t.Errorf("dropped %d and %d packets, want %d each", ps.drop.dropped.Load(), ss.drop.dropped.Load(), drop)
	}
}

// FuzzAtoi checks the drop= parser never panics, stays in 32 bits and
// agrees with strconv on plain numbers.
func FuzzAtoi(f *testing.F) {
	for _, s := range []string{"10", " -3", "+7x", "", "99999999999999999999", "-", "\t\v\f\r\n 1", "1e3", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := atoi(s)
		if got > math.MaxInt32 || got < math.MinInt32 {
			t.Fatalf("atoi(%q) = %d, beyond 32 bits", s, got)
		}
		if len(s) > 0 && len(s) < 10 && strings.Trim(s, "0123456789") == "" {
			if want, err := strconv.Atoi(s); err != nil || got != want {
				t.Fatalf("atoi(%q) = %d, strconv says %d (%v)", s, got, want, err)
			}
		}
	})
}
