package rtmp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
)

// The FP9 "complex" handshake hides an HMAC-SHA256 digest and a Diffie-Hellman
// public key in C1/S1. The 1536-byte packet is time(4) version(4) followed by
// two 764-byte blocks, a key block and a digest block, in one of two orders:
// schema 0 puts the key block first, schema 1 the digest block first.
//
//	digest block: offset(4) random(o) digest(32) random(728-o)
//	              o = (sum of the 4 offset bytes) % 728
//	key block:    random(o) key(128) random(632-o) offset(4)
//	              o = (sum of the 4 offset bytes) % 632
//
// The digest is the HMAC of the other 1504 bytes, keyed with the first 30
// bytes of the Flash Player key (C1) or the first 36 bytes of the Media Server
// key (S1). C2/S2 end with the HMAC of their first 1504 bytes, keyed with the
// HMAC of the peer's C1/S1 digest under the full key.

const (
	handshakeSize   = 1536
	digestSize      = sha256.Size
	blockSize       = 764
	digestRange     = blockSize - 4 - digestSize // 728
	keySize         = 128
	keyRange        = blockSize - 4 - keySize // 632
	rtmpVersion     = 3
	proxyHeaderC0   = 0xF3 // SRS's proxy protocol marker, see readC0C1
	maxProxyHeader  = 1024
	timeVersionSize = 8
)

// The "Genuine Adobe" keys, public since 2009. Strings keep them immutable.
const (
	keyTail = "\xf0\xee\xc2\x4a\x80\x68\xbe\xe8\x2e\x00\xd0\xd1\x02\x9e\x7e\x57" +
		"\x6e\xec\x5d\x2d\x29\x80\x6f\xab\x93\xb8\xe6\x36\xcf\xeb\x31\xae"
	flashPlayerKey  = "Genuine Adobe Flash Player 001" + keyTail       // 62 bytes
	mediaServerKey  = "Genuine Adobe Flash Media Server 001" + keyTail // 68 bytes
	playerKeyShort  = 30
	serverKeyShort  = 36
	clientC1Version = 0x80000702 // what SRS and Flash-era clients send
	serverS1Version = 0x04050001 // >= 3 in the first byte makes ffmpeg verify S1/S2
)

// Schema is the layout of a complex-handshake C1/S1.
type Schema int

const (
	Schema0 Schema = 0 // key block, then digest block
	Schema1 Schema = 1 // digest block, then key block
)

// digestBlockStart is where the digest block begins for a schema.
func digestBlockStart(s Schema) int {
	if s == Schema0 {
		return timeVersionSize + blockSize
	}
	return timeVersionSize
}

// keyBlockStart is where the key block begins for a schema.
func keyBlockStart(s Schema) int {
	if s == Schema0 {
		return timeVersionSize
	}
	return timeVersionSize + blockSize
}

// digestOffset returns the position of the 32-byte digest in p.
func digestOffset(p []byte, s Schema) int {
	base := digestBlockStart(s)
	sum := int(p[base]) + int(p[base+1]) + int(p[base+2]) + int(p[base+3])
	return base + 4 + sum%digestRange
}

// keyOffset returns the position of the 128-byte DH public key in p.
func keyOffset(p []byte, s Schema) int {
	base := keyBlockStart(s)
	end := base + blockSize - 4
	sum := int(p[end]) + int(p[end+1]) + int(p[end+2]) + int(p[end+3])
	return base + sum%keyRange
}

// hmacSHA256 returns HMAC-SHA256(key, parts...).
func hmacSHA256(key []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// c1s1Digest computes the digest of a C1/S1 whose digest sits at pos.
func c1s1Digest(p []byte, pos int, key []byte) []byte {
	return hmacSHA256(key, p[:pos], p[pos+digestSize:handshakeSize])
}

// validDigest reports whether p carries a valid digest for schema s.
func validDigest(p []byte, s Schema, key []byte) bool {
	pos := digestOffset(p, s)
	return hmac.Equal(p[pos:pos+digestSize], c1s1Digest(p, pos, key))
}

// findDigest looks for a valid digest in either schema, schema 0 first as SRS
// does. It returns the schema and the digest.
func findDigest(p []byte, key []byte) (Schema, []byte, bool) {
	for _, s := range []Schema{Schema0, Schema1} {
		if validDigest(p, s, key) {
			pos := digestOffset(p, s)
			return s, p[pos : pos+digestSize], true
		}
	}
	return 0, nil, false
}

// fillComplexC1S1 fills p (1536 bytes) as a signed C1 or S1: time, version,
// random padding, a DH public key and the digest. It returns the digest.
func fillComplexC1S1(p []byte, s Schema, epoch, version uint32, key []byte) ([]byte, error) {
	if _, err := rand.Read(p); err != nil {
		return nil, fmt.Errorf("rtmp: handshake random: %w", err)
	}
	putU32(p[0:], epoch)
	putU32(p[4:], version)
	pub, err := dhPublicKey()
	if err != nil {
		return nil, err
	}
	copy(p[keyOffset(p, s):], pub)
	pos := digestOffset(p, s)
	d := c1s1Digest(p, pos, key)
	copy(p[pos:], d)
	return d, nil
}

// fillSignedC2S2 fills p (1536 bytes) with random bytes signed with the peer's
// C1/S1 digest: the last 32 bytes are HMAC(HMAC(fullKey, peerDigest), p[:1504]).
func fillSignedC2S2(p []byte, peerDigest []byte, fullKey []byte) error {
	if _, err := rand.Read(p); err != nil {
		return fmt.Errorf("rtmp: handshake random: %w", err)
	}
	copy(p[handshakeSize-digestSize:], c2s2Signature(p, peerDigest, fullKey))
	return nil
}

// c2s2Signature is the signature a C2/S2 answering peerDigest must end with.
func c2s2Signature(p []byte, peerDigest []byte, fullKey []byte) []byte {
	tmp := hmacSHA256(fullKey, peerDigest)
	return hmacSHA256(tmp, p[:handshakeSize-digestSize])
}

// rfc2409Prime1024 is the 1024-bit MODP group (RFC 2409 §6.2) used by the
// FP9 handshake for its Diffie-Hellman key, with generator 2.
const rfc2409Prime1024 = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1" +
	"29024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245" +
	"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381" +
	"FFFFFFFFFFFFFFFF"

// dhPublicKey returns a fresh 128-byte DH public key. Plain RTMP never uses
// the shared secret (it only matters for RTMPE), so the private exponent is
// short to keep the handshake cheap under connection storms.
func dhPublicKey() ([]byte, error) {
	p, ok := new(big.Int).SetString(rfc2409Prime1024, 16)
	if !ok {
		return nil, fmt.Errorf("rtmp: parse DH prime")
	}
	var xb [32]byte
	if _, err := rand.Read(xb[:]); err != nil {
		return nil, fmt.Errorf("rtmp: DH private key: %w", err)
	}
	x := new(big.Int).SetBytes(xb[:])
	x.SetBit(x, 255, 1) // a full-width exponent keeps g^x well above 2^1016
	y := new(big.Int).Exp(big.NewInt(2), x, p)
	out := make([]byte, keySize)
	y.FillBytes(out)
	return out, nil
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func getU32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
