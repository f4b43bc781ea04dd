package srt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// Encryption (draft-sharabayko-srt, "Encryption"): the payload of each data
// packet is AES-CTR encrypted with a stream encrypting key (SEK). SEKs travel
// in a Key Material (KM) message, wrapped (RFC 3394) with a key encrypting
// key (KEK) derived from the passphrase with PBKDF2-HMAC-SHA1 (RFC 8018),
// 2048 iterations, over the last 8 bytes of the KM salt.

const (
	pbkdf2Iterations = 2048
	pbkdf2SaltLen    = 8 // the least significant 64 bits of the salt
	kmSaltLen        = 16
	kmHeaderSize     = 16
	keyWrapOverhead  = 8 // the integrity check value of RFC 3394

	kmFirstByte  = 0x12 // S=0, V=1, PT=2 (keying material)
	kmSignature  = 0x2029
	cipherAESCTR = 2
	seSRT        = 2 // stream encapsulation: MPEG-TS/SRT

	// MinPassphraseLen and MaxPassphraseLen bound a passphrase, as in libsrt.
	MinPassphraseLen = 10
	MaxPassphraseLen = 79
)

// KM states carried by a one-word KMRSP (and libsrt's SRT_KM_S_*).
const (
	kmStateUnsecured = 0
	kmStateNoSecret  = 3
	kmStateBadSecret = 4
)

var (
	errBadKM        = errors.New("srt: malformed key material")
	errKeyUnwrap    = errors.New("srt: key unwrap failed (wrong passphrase?)")
	errBadKeyLength = errors.New("srt: key length must be 16, 24 or 32")
)

// pbkdf2SHA1 derives keyLen bytes from password and salt (RFC 8018, section
// 5.2, with HMAC-SHA1 as the pseudorandom function).
func pbkdf2SHA1(password, salt []byte, iterations, keyLen int) []byte {
	prf := hmac.New(sha1.New, password)
	out := make([]byte, 0, keyLen+sha1.Size)
	u := make([]byte, 0, sha1.Size)
	t := make([]byte, sha1.Size)
	for block := uint32(1); len(out) < keyLen; block++ {
		prf.Reset()
		prf.Write(salt)
		prf.Write(binary.BigEndian.AppendUint32(nil, block))
		u = prf.Sum(u[:0])
		copy(t, u)
		for i := 1; i < iterations; i++ {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			subtle.XORBytes(t, t, u)
		}
		out = append(out, t...)
	}
	return out[:keyLen]
}

// keyWrapIV is the default initial value of RFC 3394, section 2.2.3.1.
var keyWrapIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

// keyWrap wraps plaintext (a multiple of 8 bytes, at least 16) with kek as in
// RFC 3394, section 2.2.1.
func keyWrap(kek, plaintext []byte) ([]byte, error) {
	if len(plaintext) < 16 || len(plaintext)%8 != 0 {
		return nil, fmt.Errorf("srt: key wrap: %d bytes is not a multiple of 8 of at least 16", len(plaintext))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("srt: key wrap: %w", err)
	}
	n := len(plaintext) / 8
	out := make([]byte, 8+len(plaintext))
	copy(out[8:], plaintext)
	var a, buf [16]byte
	copy(a[:8], keyWrapIV[:])
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			r := out[i*8 : i*8+8]
			copy(buf[:8], a[:8])
			copy(buf[8:], r)
			block.Encrypt(buf[:], buf[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:8], binary.BigEndian.Uint64(buf[:8])^t)
			copy(r, buf[8:])
		}
	}
	copy(out[:8], a[:8])
	return out, nil
}

// keyUnwrap reverses keyWrap (RFC 3394, section 2.2.2) and checks the
// integrity value, which is how a wrong passphrase is detected.
func keyUnwrap(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped) < 24 || len(wrapped)%8 != 0 {
		return nil, fmt.Errorf("srt: key unwrap: %d bytes is not a multiple of 8 of at least 24", len(wrapped))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("srt: key unwrap: %w", err)
	}
	n := len(wrapped)/8 - 1
	out := make([]byte, len(wrapped)-8)
	copy(out, wrapped[8:])
	var a [8]byte
	copy(a[:], wrapped[:8])
	var buf [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			r := out[(i-1)*8 : i*8]
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(buf[8:], r)
			block.Decrypt(buf[:], buf[:])
			copy(a[:], buf[:8])
			copy(r, buf[8:])
		}
	}
	if subtle.ConstantTimeCompare(a[:], keyWrapIV[:]) != 1 {
		return nil, errKeyUnwrap
	}
	return out, nil
}

// kmMessage is a Key Material message (draft-sharabayko-srt, "Key Material").
type kmMessage struct {
	keys    uint8 // KK: keyEven, keyOdd or keyBoth
	keki    uint32
	cipher  uint8
	auth    uint8
	se      uint8
	salt    []byte
	keyLen  int
	wrapped []byte // ICV followed by the wrapped SEK(s)
}

func (k *kmMessage) keyCount() int {
	if k.keys == keyBoth {
		return 2
	}
	return 1
}

// parseKM reads a KM message. It checks every fixed field and that the
// wrapped keys fit; trailing padding is ignored.
func parseKM(b []byte) (kmMessage, error) {
	var k kmMessage
	if len(b) < kmHeaderSize {
		return k, fmt.Errorf("%w: %d bytes", errBadKM, len(b))
	}
	if b[0] != kmFirstByte {
		return k, fmt.Errorf("%w: version/type byte 0x%02x", errBadKM, b[0])
	}
	if binary.BigEndian.Uint16(b[1:]) != kmSignature {
		return k, fmt.Errorf("%w: signature 0x%04x", errBadKM, binary.BigEndian.Uint16(b[1:]))
	}
	k.keys = b[3] & 3
	if k.keys == keyNone {
		return k, fmt.Errorf("%w: no key announced", errBadKM)
	}
	k.keki = binary.BigEndian.Uint32(b[4:])
	k.cipher, k.auth, k.se = b[8], b[9], b[10]
	saltLen := int(b[14]) * 4
	k.keyLen = int(b[15]) * 4
	if saltLen != kmSaltLen {
		return k, fmt.Errorf("%w: salt of %d bytes", errBadKM, saltLen)
	}
	if k.keyLen != 16 && k.keyLen != 24 && k.keyLen != 32 {
		return k, fmt.Errorf("%w: key of %d bytes", errBadKM, k.keyLen)
	}
	wrapLen := keyWrapOverhead + k.keyCount()*k.keyLen
	if len(b) < kmHeaderSize+saltLen+wrapLen {
		return k, fmt.Errorf("%w: %d bytes, need %d", errBadKM, len(b), kmHeaderSize+saltLen+wrapLen)
	}
	k.salt = b[kmHeaderSize : kmHeaderSize+saltLen]
	k.wrapped = b[kmHeaderSize+saltLen : kmHeaderSize+saltLen+wrapLen]
	return k, nil
}

func (k *kmMessage) appendTo(b []byte) []byte {
	b = append(b, kmFirstByte, kmSignature>>8, kmSignature&0xFF, k.keys&3)
	b = binary.BigEndian.AppendUint32(b, k.keki)
	b = append(b, k.cipher, k.auth, k.se, 0, 0, 0, byte(len(k.salt)/4), byte(k.keyLen/4))
	b = append(b, k.salt...)
	return append(b, k.wrapped...)
}

// streamKey is one SEK ready to encrypt and decrypt payloads. It is
// immutable once made, so readers and writers may share it.
type streamKey struct {
	sek   []byte
	block cipher.Block
	salt  [kmSaltLen]byte
}

func newStreamKey(sek, salt []byte) (*streamKey, error) {
	block, err := aes.NewCipher(sek)
	if err != nil {
		return nil, fmt.Errorf("srt: stream key: %w", err)
	}
	k := &streamKey{sek: bytes.Clone(sek), block: block}
	copy(k.salt[:], salt)
	return k, nil
}

// ctrScratch holds the counter and key stream blocks of one goroutine, so
// that encrypting a packet allocates nothing.
type ctrScratch struct {
	iv, stream [aes.BlockSize]byte
}

// xorKeyStream encrypts or decrypts data in place for the packet with
// sequence number seq. The counter block is the 112 most significant bits
// of the salt, XORed with the packet index in bytes 10-13, followed by a
// 16-bit block counter (libsrt's hcrypt_SetCtrIV).
func (k *streamKey) xorKeyStream(s *ctrScratch, seq uint32, data []byte) {
	s.iv = [aes.BlockSize]byte{}
	copy(s.iv[:14], k.salt[:14])
	s.iv[10] ^= byte(seq >> 24)
	s.iv[11] ^= byte(seq >> 16)
	s.iv[12] ^= byte(seq >> 8)
	s.iv[13] ^= byte(seq)
	for off, ctr := 0, 0; off < len(data); off, ctr = off+aes.BlockSize, ctr+1 {
		s.iv[14], s.iv[15] = byte(ctr>>8), byte(ctr)
		k.block.Encrypt(s.stream[:], s.iv[:])
		subtle.XORBytes(data[off:], data[off:], s.stream[:])
	}
}

// deriveKEK returns the key encrypting key for a passphrase and KM salt.
func deriveKEK(passphrase string, salt []byte, keyLen int) []byte {
	return pbkdf2SHA1([]byte(passphrase), salt[len(salt)-pbkdf2SaltLen:], pbkdf2Iterations, keyLen)
}

// randomBytes fills a new slice from crypto/rand.
func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("srt: random: %w", err)
	}
	return b, nil
}

// keyIndex maps KK to the index of the even (0) or odd (1) key.
func keyIndex(kk uint8) int { return int(kk>>1) & 1 }

// keyFlag maps an index back to KK.
func keyFlag(i int) uint8 { return uint8(1 << i) }

// unwrapKM opens a KM message with passphrase and returns its keys, indexed
// even (0) and odd (1).
func unwrapKM(passphrase string, km kmMessage) ([2]*streamKey, error) {
	return unwrapKMWithKEK(deriveKEK(passphrase, km.salt, km.keyLen), km)
}

// unwrapKMWithKEK is unwrapKM with the key encrypting key already derived.
func unwrapKMWithKEK(kek []byte, km kmMessage) ([2]*streamKey, error) {
	var keys [2]*streamKey
	if km.cipher != cipherAESCTR {
		return keys, fmt.Errorf("%w: cipher %d (only AES-CTR)", errBadKM, km.cipher)
	}
	seks, err := keyUnwrap(kek, km.wrapped)
	if err != nil {
		return keys, err
	}
	switch km.keys {
	case keyBoth:
		for i := range 2 {
			if keys[i], err = newStreamKey(seks[i*km.keyLen:(i+1)*km.keyLen], km.salt); err != nil {
				return keys, err
			}
		}
	default:
		if keys[keyIndex(km.keys)], err = newStreamKey(seks, km.salt); err != nil {
			return keys, err
		}
	}
	return keys, nil
}
