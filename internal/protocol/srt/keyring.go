package srt

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Key refresh defaults, as in libsrt (SRTO_KMREFRESHRATE, SRTO_KMPREANNOUNCE).
const (
	defaultKMRefreshRate = 1 << 24
	defaultKMPreAnnounce = 1 << 16
)

// keyring holds the keys of one encrypted connection. Both directions start
// with the key the caller sent in the handshake (HSv5 is bidirectional);
// afterwards each side refreshes the keys of what it sends, alternating
// between the even and odd slots:
//
//   - refreshRate-preAnnounce packets into a key, a new key goes to the
//     other slot and both are announced to the peer (KMREQ);
//   - at refreshRate packets, once the peer confirmed (KMRSP) or
//     preAnnounce packets later at the latest, the new key takes over;
//   - preAnnounce packets after the switch the old key is withdrawn and
//     the new one is announced alone.
//
// A keyring is guarded by its connection's lock; the streamKeys it hands
// out are immutable and used without it.
type keyring struct {
	passphrase string
	keyLen     int
	salt       []byte
	kek        []byte

	rx [2]*streamKey // decrypt what arrives, by KK index
	tx [2]*streamKey // encrypt what leaves

	active      int    // index of the tx key in use
	count       uint64 // packets encrypted with tx[active]
	refreshRate uint64
	preAnnounce uint64
	next        bool // tx[1-active] is announced and waits to take over
	switches    uint64
	deprecated  bool // tx[1-active] is the previous key, still announced

	announce      []byte // KM message to send until the peer confirms it
	announceAcked bool
}

// newCallerKeyring makes the salt and the first (even) key of a caller and
// returns the KM message for its KMREQ.
func newCallerKeyring(passphrase string, keyLen int, refreshRate, preAnnounce uint64) (*keyring, []byte, error) {
	if keyLen != 16 && keyLen != 24 && keyLen != 32 {
		return nil, nil, errBadKeyLength
	}
	salt, err := randomBytes(kmSaltLen)
	if err != nil {
		return nil, nil, err
	}
	sek, err := randomBytes(keyLen)
	if err != nil {
		return nil, nil, err
	}
	r := &keyring{passphrase: passphrase, keyLen: keyLen, salt: salt, kek: deriveKEK(passphrase, salt, keyLen)}
	r.setSchedule(refreshRate, preAnnounce)
	key, err := newStreamKey(sek, salt)
	if err != nil {
		return nil, nil, err
	}
	r.rx[0], r.tx[0] = key, key
	km, err := r.kmFor(keyEven, sek)
	if err != nil {
		return nil, nil, err
	}
	return r, km, nil
}

// newResponderKeyring opens the caller's KMREQ. The caller's keys serve
// both directions.
func newResponderKeyring(passphrase string, kmBytes []byte, refreshRate, preAnnounce uint64) (*keyring, error) {
	km, err := parseKM(kmBytes)
	if err != nil {
		return nil, err
	}
	keys, err := unwrapKM(passphrase, km)
	if err != nil {
		return nil, err
	}
	r := &keyring{
		passphrase: passphrase, keyLen: km.keyLen, salt: bytes.Clone(km.salt),
		kek: deriveKEK(passphrase, km.salt, km.keyLen),
		rx:  keys, tx: keys,
	}
	r.setSchedule(refreshRate, preAnnounce)
	if keys[0] == nil {
		r.active = 1
	}
	return r, nil
}

func (r *keyring) setSchedule(refreshRate, preAnnounce uint64) {
	if refreshRate == 0 {
		refreshRate = defaultKMRefreshRate
	}
	if preAnnounce == 0 || preAnnounce >= refreshRate {
		preAnnounce = min(defaultKMPreAnnounce, refreshRate/4)
	}
	r.refreshRate, r.preAnnounce = refreshRate, max(preAnnounce, 1)
}

// kmFor builds a KM message announcing the given keys (concatenated SEKs,
// even first when both).
func (r *keyring) kmFor(kk uint8, seks []byte) ([]byte, error) {
	wrapped, err := keyWrap(r.kek, seks)
	if err != nil {
		return nil, err
	}
	km := kmMessage{keys: kk, cipher: cipherAESCTR, se: seSRT, salt: r.salt, keyLen: r.keyLen, wrapped: wrapped}
	return km.appendTo(nil), nil
}

// txKey returns the key and KK flag for the next new data packet and moves
// the refresh schedule along.
func (r *keyring) txKey() (*streamKey, uint8, error) {
	if err := r.advance(); err != nil {
		return nil, 0, err
	}
	r.count++
	return r.tx[r.active], keyFlag(r.active), nil
}

func (r *keyring) advance() error {
	other := 1 - r.active
	switch {
	case r.next && (r.count >= r.refreshRate && r.announceAcked || r.count >= r.refreshRate+r.preAnnounce):
		r.active, r.count = other, 0
		r.next, r.deprecated = false, true
		r.switches++
	case r.deprecated && r.count >= r.preAnnounce:
		r.tx[other] = nil
		r.deprecated = false
		km, err := r.kmFor(keyFlag(r.active), r.tx[r.active].sek)
		if err != nil {
			return err
		}
		r.setAnnounce(km)
	case !r.next && !r.deprecated && r.count >= r.refreshRate-r.preAnnounce:
		sek, err := randomBytes(r.keyLen)
		if err != nil {
			return err
		}
		key, err := newStreamKey(sek, r.salt)
		if err != nil {
			return err
		}
		r.tx[other] = key
		r.next = true
		seks := append(bytes.Clone(r.tx[0].sek), r.tx[1].sek...)
		km, err := r.kmFor(keyBoth, seks)
		if err != nil {
			return err
		}
		r.setAnnounce(km)
	}
	return nil
}

func (r *keyring) setAnnounce(km []byte) {
	r.announce, r.announceAcked = km, false
}

// pendingAnnouncement returns the KM message still waiting for the peer's
// confirmation, or nil.
func (r *keyring) pendingAnnouncement() []byte {
	if r.announce == nil || r.announceAcked {
		return nil
	}
	return r.announce
}

// onKMResponse handles a KMRSP control packet: an echo of our announcement
// confirms it; a one-word answer is the peer's error state.
func (r *keyring) onKMResponse(b []byte) error {
	if len(b) == 4 {
		return fmt.Errorf("srt: peer refused the key material (state %d)", binary.BigEndian.Uint32(b))
	}
	if r.announce != nil && bytes.Equal(b, r.announce) {
		r.announceAcked = true
	}
	return nil
}

// onKMRequest installs the keys the peer announces for what it sends and
// returns the KMRSP to send back: the same message, or the one-word
// bad-secret state when the keys cannot be opened.
func (r *keyring) onKMRequest(b []byte) []byte {
	km, err := parseKM(b)
	if err == nil {
		kek := r.kek
		if km.keyLen != r.keyLen || !bytes.Equal(km.salt, r.salt) {
			kek = deriveKEK(r.passphrase, km.salt, km.keyLen)
		}
		var keys [2]*streamKey
		if keys, err = unwrapKMWithKEK(kek, km); err == nil {
			for i, k := range keys {
				if k != nil {
					r.rx[i] = k
				}
			}
			return bytes.Clone(b)
		}
	}
	return binary.BigEndian.AppendUint32(nil, kmStateBadSecret)
}

// rxKey returns the key for a packet's KK flag, or nil.
func (r *keyring) rxKey(kk uint8) *streamKey {
	if kk != keyEven && kk != keyOdd {
		return nil
	}
	return r.rx[keyIndex(kk)]
}
