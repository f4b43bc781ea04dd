package rtmp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"testing"
)

// c1Pattern is the deterministic C1 the vectors below were computed on with
// Python's hmac module, independently of this package.
func c1Pattern() []byte {
	b := make([]byte, handshakeSize)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func TestDigestAndKeyOffsets(t *testing.T) {
	p := c1Pattern()
	// Schema 1: offset bytes 8..11 are 59,66,73,80 (sum 278): 8+4+278.
	if got := digestOffset(p, Schema1); got != 290 {
		t.Errorf("schema 1 digest offset = %d, want 290", got)
	}
	// Schema 0: bytes 772..775 sum to 166: 772+4+166.
	if got := digestOffset(p, Schema0); got != 942 {
		t.Errorf("schema 0 digest offset = %d, want 942", got)
	}
	if got := keyOffset(p, Schema0); got != 62 {
		t.Errorf("schema 0 key offset = %d, want 62", got)
	}
	if got := keyOffset(p, Schema1); got != 1106 {
		t.Errorf("schema 1 key offset = %d, want 1106", got)
	}
	// Offsets stay inside their blocks for the extreme sums.
	q := make([]byte, handshakeSize)
	for i := range q {
		q[i] = 0xFF
	}
	for _, s := range []Schema{Schema0, Schema1} {
		d := digestOffset(q, s)
		if d < digestBlockStart(s)+4 || d+digestSize > digestBlockStart(s)+blockSize {
			t.Errorf("schema %d: digest at %d escapes its block", s, d)
		}
		k := keyOffset(q, s)
		if k < keyBlockStart(s) || k+keySize > keyBlockStart(s)+blockSize-4 {
			t.Errorf("schema %d: key at %d escapes its block", s, k)
		}
	}
}

func TestDigestVectors(t *testing.T) {
	p := c1Pattern()
	got := c1s1Digest(p, 290, []byte(flashPlayerKey[:playerKeyShort]))
	want := "36d27b365b84e5e55f376e2f24f3a7dd6b8b5e9b002f035f99366c07e43b8d41"
	if hex.EncodeToString(got) != want {
		t.Errorf("C1 digest = %x, want %s", got, want)
	}
	got = c1s1Digest(p, 942, []byte(mediaServerKey[:serverKeyShort]))
	want = "01d1722f262d0920a2fd6c2cff614d034585bbacbc28b5c77a88ca2fc0c3b984"
	if hex.EncodeToString(got) != want {
		t.Errorf("S1 digest = %x, want %s", got, want)
	}
	peer := make([]byte, 32)
	for i := range peer {
		peer[i] = byte(i)
	}
	got = c2s2Signature(p, peer, []byte(mediaServerKey))
	want = "7fce027fd61c568e1d886d89070214fd2a2391e2c75bf93581cd361dab63b9fa"
	if hex.EncodeToString(got) != want {
		t.Errorf("S2 signature = %x, want %s", got, want)
	}
}

func TestFindDigestInC1WithKnownDigest(t *testing.T) {
	p := c1Pattern()
	want, _ := hex.DecodeString("36d27b365b84e5e55f376e2f24f3a7dd6b8b5e9b002f035f99366c07e43b8d41")
	copy(p[290:], want)
	key := []byte(flashPlayerKey[:playerKeyShort])
	s, d, ok := findDigest(p, key)
	if !ok || s != Schema1 || !bytes.Equal(d, want) {
		t.Fatalf("findDigest = %v %x %v, want schema 1 %x", s, d, ok, want)
	}
	if validDigest(p, Schema0, key) {
		t.Error("schema 0 must not validate")
	}
	if _, _, ok := findDigest(p, []byte(mediaServerKey[:serverKeyShort])); ok {
		t.Error("the server key must not validate a client digest")
	}
	p[100] ^= 1 // any other byte is covered by the digest
	if _, _, ok := findDigest(p, key); ok {
		t.Error("a modified C1 must not validate")
	}
}

func TestFillComplexC1S1(t *testing.T) {
	for _, s := range []Schema{Schema0, Schema1} {
		p := make([]byte, handshakeSize)
		d, err := fillComplexC1S1(p, s, 1234, clientC1Version, []byte(flashPlayerKey[:playerKeyShort]))
		if err != nil {
			t.Fatal(err)
		}
		got, gd, ok := findDigest(p, []byte(flashPlayerKey[:playerKeyShort]))
		if !ok || got != s || !bytes.Equal(gd, d) {
			t.Errorf("schema %d: findDigest = %d %v", s, got, ok)
		}
		if getU32(p) != 1234 || getU32(p[4:]) != clientC1Version {
			t.Errorf("schema %d: time/version not written", s)
		}
		k := keyOffset(p, s)
		if bytes.Equal(p[k:k+keySize], make([]byte, keySize)) {
			t.Errorf("schema %d: no DH key", s)
		}
	}
}

// pipeHandshake runs both sides over net.Pipe.
func pipeHandshake(t *testing.T, mode HandshakeMode) (client, server HandshakeResult) {
	t.Helper()
	defer checkGoroutines(t)()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	type result struct {
		r   HandshakeResult
		err error
	}
	ch := make(chan result, 1)
	go func() {
		r, err := ServerHandshake(b)
		ch <- result{r, err}
	}()
	cr, err := ClientHandshake(a, mode)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	sr := <-ch
	if sr.err != nil {
		t.Fatalf("server: %v", sr.err)
	}
	return cr, sr.r
}

func TestHandshakeRoundTripComplex(t *testing.T) {
	c, s := pipeHandshake(t, HandshakeComplex)
	if c.Mode != HandshakeComplex || s.Mode != HandshakeComplex {
		t.Fatalf("modes client=%v server=%v, want complex", c.Mode, s.Mode)
	}
	if s.Schema != Schema1 || c.Schema != Schema1 {
		t.Errorf("schema client=%d server=%d, want 1", c.Schema, s.Schema)
	}
	if !c.PeerSigned {
		t.Error("server S2 not signed with the client digest")
	}
	if s.PeerVersion != clientC1Version || c.PeerVersion != serverS1Version {
		t.Errorf("versions: server saw %x, client saw %x", s.PeerVersion, c.PeerVersion)
	}
}

func TestHandshakeRoundTripSimple(t *testing.T) {
	c, s := pipeHandshake(t, HandshakeSimple)
	if c.Mode != HandshakeSimple || s.Mode != HandshakeSimple {
		t.Fatalf("modes client=%v server=%v, want simple", c.Mode, s.Mode)
	}
}

// TestServerSimpleEchoesC1 drives the server by hand like an old client.
func TestServerSimpleEchoesC1(t *testing.T) {
	defer checkGoroutines(t)()
	a, b := net.Pipe()
	defer a.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := ServerHandshake(b)
		b.Close()
		errc <- err
	}()
	c0c1 := append([]byte{3}, pattern(handshakeSize, 9)...)
	copy(c0c1[5:9], []byte{0, 0, 0, 0}) // version 0: simple client
	if _, err := a.Write(c0c1); err != nil {
		t.Fatal(err)
	}
	s := make([]byte, 1+2*handshakeSize)
	if _, err := io.ReadFull(a, s); err != nil {
		t.Fatal(err)
	}
	if s[0] != 3 {
		t.Errorf("S0 = %d", s[0])
	}
	if !bytes.Equal(s[1+handshakeSize:], c0c1[1:]) {
		t.Error("S2 does not echo C1")
	}
	if _, err := a.Write(s[1 : 1+handshakeSize]); err != nil { // C2 echoes S1
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestClientFallsBackToSimple talks to a server whose S1 has no digest, like
// an old simple-only server: the client must echo S1 in C2.
func TestClientFallsBackToSimple(t *testing.T) {
	defer checkGoroutines(t)()
	a, b := net.Pipe()
	defer a.Close()
	s1 := pattern(handshakeSize, 77)
	c2c := make(chan []byte, 1)
	go func() {
		defer b.Close()
		c0c1 := make([]byte, 1+handshakeSize)
		if _, err := io.ReadFull(b, c0c1); err != nil {
			c2c <- nil
			return
		}
		out := append([]byte{3}, s1...)
		out = append(out, c0c1[1:]...)
		if _, err := b.Write(out); err != nil {
			c2c <- nil
			return
		}
		c2 := make([]byte, handshakeSize)
		if _, err := io.ReadFull(b, c2); err != nil {
			c2c <- nil
			return
		}
		c2c <- c2
	}()
	res, err := ClientHandshake(a, HandshakeComplex)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != HandshakeSimple {
		t.Errorf("mode = %v, want simple fallback", res.Mode)
	}
	if c2 := <-c2c; !bytes.Equal(c2, s1) {
		t.Error("C2 does not echo S1")
	}
}

func TestHandshakeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"rtmpe version 6", append([]byte{6}, make([]byte, 3072)...), ErrHandshakeVersion},
		{"version 0", append([]byte{0}, make([]byte, 3072)...), ErrHandshakeVersion},
		{"empty", nil, io.EOF},
		{"truncated C1", append([]byte{3}, make([]byte, 100)...), io.ErrUnexpectedEOF},
		{"truncated C2", append([]byte{3}, make([]byte, 1600)...), io.ErrUnexpectedEOF},
		{"huge proxy header", []byte{0xF3, 0xFF, 0xFF}, nil},
		{"truncated proxy header", []byte{0xF3, 0x00, 0x08, 1, 2}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw := &memConn{r: bytes.NewReader(tt.in)}
			_, err := ServerHandshake(rw)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// The client rejects a server answering with another version.
	rw := &memConn{r: bytes.NewReader(append([]byte{6}, make([]byte, 3072)...))}
	if _, err := ClientHandshake(rw, HandshakeComplex); !errors.Is(err, ErrHandshakeVersion) {
		t.Errorf("client: err = %v, want ErrHandshakeVersion", err)
	}
}

func TestServerHandshakeProxyHeader(t *testing.T) {
	c1 := pattern(handshakeSize, 1)
	in := []byte{0xF3, 0x00, 0x06, 10, 1, 2, 3, 0xAA, 0xBB, 3}
	in = append(in, c1...)
	in = append(in, make([]byte, handshakeSize)...)
	rw := &memConn{r: bytes.NewReader(in)}
	res, err := ServerHandshake(rw)
	if err != nil {
		t.Fatal(err)
	}
	if !res.ProxyRealIP.Equal(net.IPv4(10, 1, 2, 3)) {
		t.Errorf("proxy ip = %v", res.ProxyRealIP)
	}
	if got := rw.w.Bytes(); len(got) != 3073 || !bytes.Equal(got[1+handshakeSize:], c1) {
		t.Error("S2 must echo the C1 that follows the proxy header")
	}
}

func FuzzHandshake(f *testing.F) {
	// Seeds: a real complex C0C1C2 from our client, a simple one, junk.
	var complexIn bytes.Buffer
	complexIn.WriteByte(3)
	c1 := make([]byte, handshakeSize)
	if _, err := fillComplexC1S1(c1, Schema0, 1, clientC1Version, []byte(flashPlayerKey[:playerKeyShort])); err != nil {
		f.Fatal(err)
	}
	complexIn.Write(c1)
	complexIn.Write(make([]byte, handshakeSize))
	f.Add(complexIn.Bytes())
	f.Add(append([]byte{3}, make([]byte, 2*handshakeSize)...))
	f.Add([]byte{0xF3, 0, 4, 1, 2, 3, 4, 3})
	f.Add([]byte{6, 1, 2, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		rw := &memConn{r: bytes.NewReader(in)}
		res, err := ServerHandshake(rw)
		if err != nil {
			return
		}
		out := rw.w.Bytes()
		if len(out) != 1+2*handshakeSize || out[0] != 3 {
			t.Fatalf("wrote %d bytes, S0=%d", len(out), out[0])
		}
		if res.Mode == HandshakeComplex {
			if _, _, ok := findDigest(out[1:1+handshakeSize], []byte(mediaServerKey[:serverKeyShort])); !ok {
				t.Fatal("complex S1 without a valid digest")
			}
		}
	})
}
