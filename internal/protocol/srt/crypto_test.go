package srt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"testing"
)

func TestPBKDF2RFC6070(t *testing.T) {
	for _, tc := range []struct {
		password, salt string
		iter, keyLen   int
		want           string
	}{
		{"password", "salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
		{"password", "salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
		{"password", "salt", 4096, 20, "4b007901b765489abead49d926f721d065a429c1"},
		{"passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25, "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"},
		{"pass\x00word", "sa\x00lt", 4096, 16, "56fa6aa75548099dcc37d7f03425e0c3"},
	} {
		got := pbkdf2SHA1([]byte(tc.password), []byte(tc.salt), tc.iter, tc.keyLen)
		hexDiff(t, tc.password, got, mustHex(tc.want))
	}
}

func TestKeyWrapRFC3394(t *testing.T) {
	for _, tc := range []struct {
		name, kek, key, wrapped string
	}{
		{"128-bit KEK, 128-bit key", "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
			"1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
		{"192-bit KEK, 128-bit key", "000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF",
			"96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
		{"256-bit KEK, 128-bit key", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF",
			"64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
		{"192-bit KEK, 192-bit key", "000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF0001020304050607",
			"031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
		{"256-bit KEK, 256-bit key", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
			"00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
			"28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := keyWrap(mustHex(tc.kek), mustHex(tc.key))
			if err != nil {
				t.Fatal(err)
			}
			hexDiff(t, "wrap", w, mustHex(tc.wrapped))
			k, err := keyUnwrap(mustHex(tc.kek), mustHex(tc.wrapped))
			if err != nil {
				t.Fatal(err)
			}
			hexDiff(t, "unwrap", k, mustHex(tc.key))
			bad := mustHex(tc.kek)
			bad[0] ^= 1
			if _, err := keyUnwrap(bad, mustHex(tc.wrapped)); !errors.Is(err, errKeyUnwrap) {
				t.Errorf("unwrap with a wrong KEK: %v", err)
			}
		})
	}
	if _, err := keyWrap(make([]byte, 16), make([]byte, 12)); err == nil {
		t.Error("wrapped 12 bytes")
	}
	if _, err := keyUnwrap(make([]byte, 16), make([]byte, 20)); err == nil {
		t.Error("unwrapped 20 bytes")
	}
	if _, err := keyWrap(make([]byte, 15), make([]byte, 16)); err == nil {
		t.Error("15-byte KEK accepted")
	}
}

// TestCTRMatchesStandardLibrary checks the packet cipher against
// crypto/cipher's CTR mode with libsrt's counter block.
func TestCTRMatchesStandardLibrary(t *testing.T) {
	salt := mustHex("000102030405060708090a0b0c0d0e0f")
	for _, keyLen := range []int{16, 24, 32} {
		sek := bytes.Repeat([]byte{byte(keyLen)}, keyLen)
		k, err := newStreamKey(sek, salt)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 15, 16, 17, 188, 1316, 1456} {
			seq := uint32(0x12345678 + n)
			plain := make([]byte, n)
			for i := range plain {
				plain[i] = byte(i * 7)
			}
			got := bytes.Clone(plain)
			var s ctrScratch
			k.xorKeyStream(&s, seq, got)

			iv := make([]byte, 16)
			copy(iv, salt[:14])
			var pki [4]byte
			binary.BigEndian.PutUint32(pki[:], seq)
			for i := range pki {
				iv[10+i] ^= pki[i]
			}
			block, _ := aes.NewCipher(sek)
			want := make([]byte, n)
			cipher.NewCTR(block, iv).XORKeyStream(want, plain)
			if !bytes.Equal(got, want) {
				t.Fatalf("key %d, %d bytes: ciphertext differs", keyLen, n)
			}
			k.xorKeyStream(&s, seq, got)
			if !bytes.Equal(got, plain) {
				t.Fatalf("key %d, %d bytes: decrypting does not restore", keyLen, n)
			}
		}
	}
}

func TestCTRAllocatesNothing(t *testing.T) {
	k, _ := newStreamKey(make([]byte, 16), make([]byte, 16))
	var s ctrScratch
	buf := make([]byte, 1316)
	if n := testing.AllocsPerRun(100, func() { k.xorKeyStream(&s, 7, buf) }); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}

func TestKMMessage(t *testing.T) {
	r, km, err := newCallerKeyring("0123456789secret", 16, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(km) != kmHeaderSize+kmSaltLen+keyWrapOverhead+16 {
		t.Fatalf("KM of %d bytes", len(km))
	}
	m, err := parseKM(km)
	if err != nil {
		t.Fatal(err)
	}
	if m.keys != keyEven || m.cipher != cipherAESCTR || m.se != seSRT || m.keyLen != 16 || !bytes.Equal(m.salt, r.salt) {
		t.Errorf("parsed %+v", m)
	}
	hexDiff(t, "re-encode", m.appendTo(nil), km)
	keys, err := unwrapKM("0123456789secret", m)
	if err != nil || keys[0] == nil || keys[1] != nil || !bytes.Equal(keys[0].sek, r.tx[0].sek) {
		t.Fatalf("unwrap: %v %v", keys, err)
	}
	if _, err := unwrapKM("another-secret", m); !errors.Is(err, errKeyUnwrap) {
		t.Errorf("wrong passphrase: %v", err)
	}

	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(km)) }
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"short", km[:15]},
		{"version", mutate(func(b []byte) []byte { b[0] = 0x22; return b })},
		{"signature", mutate(func(b []byte) []byte { b[1] = 0; return b })},
		{"no key", mutate(func(b []byte) []byte { b[3] = 0; return b })},
		{"salt length", mutate(func(b []byte) []byte { b[14] = 2; return b })},
		{"key length", mutate(func(b []byte) []byte { b[15] = 5; return b })},
		{"both keys announced, one sent", mutate(func(b []byte) []byte { b[3] = keyBoth; return b })},
		{"truncated wrap", km[:len(km)-1]},
	} {
		if _, err := parseKM(tc.b); !errors.Is(err, errBadKM) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	gcm := mutate(func(b []byte) []byte { b[8] = 4; return b })
	if m, err := parseKM(gcm); err != nil {
		t.Fatal(err)
	} else if _, err := unwrapKM("0123456789secret", m); !errors.Is(err, errBadKM) {
		t.Errorf("GCM cipher: %v", err)
	}
}

// TestKeyRefresh follows a sender's keyring through two refreshes with a
// receiver's keyring decrypting every packet, KMREQ/KMRSP included.
func TestKeyRefresh(t *testing.T) {
	const pass = "0123456789secret"
	tx, km, err := newCallerKeyring(pass, 24, 100, 20)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := newResponderKeyring(pass, km, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var flags []uint8
	announced := 0
	var s ctrScratch
	for seq := uint32(0); seq < 400; seq++ {
		key, kk, err := tx.txKey()
		if err != nil {
			t.Fatal(err)
		}
		if ann := tx.pendingAnnouncement(); ann != nil {
			announced++
			rsp := rx.onKMRequest(ann)
			if !bytes.Equal(rsp, ann) {
				t.Fatalf("packet %d: the receiver refused the announcement", seq)
			}
			if err := tx.onKMResponse(rsp); err != nil {
				t.Fatal(err)
			}
		}
		msg := []byte("payload of packet")
		key.xorKeyStream(&s, seq, msg)
		dk := rx.rxKey(kk)
		if dk == nil {
			t.Fatalf("packet %d: receiver has no key for KK %d", seq, kk)
		}
		dk.xorKeyStream(&s, seq, msg)
		if string(msg) != "payload of packet" {
			t.Fatalf("packet %d (KK %d) did not decrypt", seq, kk)
		}
		if len(flags) == 0 || flags[len(flags)-1] != kk {
			flags = append(flags, kk)
		}
	}
	// 400 packets at a refresh every 100: even, odd, even, odd.
	if want := []uint8{keyEven, keyOdd, keyEven, keyOdd}; !bytes.Equal(flags, want) {
		t.Errorf("key sequence %v, want %v", flags, want)
	}
	if tx.switches != 3 {
		t.Errorf("%d switches, want 3", tx.switches)
	}
	// Each refresh announces both keys (at 80, 180, 280, 380), then the
	// new one alone (at 120, 220, 320).
	if announced != 7 {
		t.Errorf("%d announcements, want 7", announced)
	}
	if err := tx.onKMResponse([]byte{0, 0, 0, kmStateBadSecret}); err == nil {
		t.Error("a refusal was not reported")
	}
	if rsp := rx.onKMRequest([]byte("garbage")); len(rsp) != 4 || rsp[3] != kmStateBadSecret {
		t.Errorf("garbage KMREQ answered % x", rsp)
	}
}

// TestKeyRefreshWithoutConfirmation switches keys preAnnounce packets
// after the refresh point even when no KMRSP came back.
func TestKeyRefreshWithoutConfirmation(t *testing.T) {
	tx, _, err := newCallerKeyring("0123456789secret", 16, 100, 20)
	if err != nil {
		t.Fatal(err)
	}
	switchedAt := -1
	for i := 0; i < 200 && switchedAt < 0; i++ {
		if _, kk, _ := tx.txKey(); kk == keyOdd {
			switchedAt = i
		}
	}
	if switchedAt != 120 {
		t.Errorf("switched at packet %d, want 120 (refresh 100 + pre-announce 20)", switchedAt)
	}
}
