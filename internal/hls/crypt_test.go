package hls

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"testing"
)

// TestCBCWriter encrypts in pieces of every size and compares with
// encrypting the padded whole at once.
func TestCBCWriter(t *testing.T) {
	key := [KeySize]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	iv := [KeySize]byte{16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	for _, size := range []int{0, 1, 15, 16, 17, 31, 32, 188, 1000} {
		for _, piece := range []int{1, 7, 16, 188, 4096} {
			plain := make([]byte, size)
			for i := range plain {
				plain[i] = byte(i * 7)
			}
			var out bytes.Buffer
			w, err := newCBCWriter(&out, key, iv)
			if err != nil {
				t.Fatal(err)
			}
			for rest := plain; len(rest) > 0; {
				n := min(piece, len(rest))
				if m, err := w.Write(rest[:n]); err != nil || m != n {
					t.Fatalf("write: %d, %v", m, err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			pad := KeySize - size%KeySize
			want := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
			block, _ := aes.NewCipher(key[:])
			cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(want, want)
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("size %d in pieces of %d: ciphertext differs", size, piece)
			}
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCBCWriterErrors(t *testing.T) {
	w, err := newCBCWriter(failWriter{}, [KeySize]byte{}, [KeySize]byte{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 5)); err != nil {
		t.Fatalf("a partial block needs no write: %v", err)
	}
	if _, err := w.Write(make([]byte, 20)); err == nil {
		t.Fatal("a failed write went unnoticed")
	}
	if err := w.Close(); err == nil {
		t.Fatal("a failed close went unnoticed")
	}
}
