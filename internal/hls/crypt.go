package hls

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// KeySize is the size of an AES-128 key and of its IV.
const KeySize = aes.BlockSize

// cbcWriter encrypts a segment as HLS's METHOD=AES-128 wants it: the whole
// file in AES-128-CBC with PKCS#7 padding. It encrypts whole blocks as they
// come and keeps at most one partial block; Close pads and writes the last.
type cbcWriter struct {
	w    io.Writer
	mode cipher.BlockMode
	buf  []byte // the partial block, then scratch for the blocks to write
	err  error  // the first write error: the stream is broken from there
}

func newCBCWriter(w io.Writer, key, iv [KeySize]byte) (*cbcWriter, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("hls: aes key: %w", err)
	}
	return &cbcWriter{w: w, mode: cipher.NewCBCEncrypter(block, iv[:])}, nil
}

func (c *cbcWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.buf = append(c.buf, p...)
	whole := len(c.buf) - len(c.buf)%KeySize
	if whole == 0 {
		return len(p), nil
	}
	c.mode.CryptBlocks(c.buf[:whole], c.buf[:whole])
	if _, err := c.w.Write(c.buf[:whole]); err != nil {
		c.err = err
		return 0, err
	}
	c.buf = append(c.buf[:0], c.buf[whole:]...)
	return len(p), nil
}

// Close writes the padded last block: 1 to 16 bytes, each holding the
// padding's length, so a decrypter always finds it.
func (c *cbcWriter) Close() error {
	if c.err != nil {
		return c.err
	}
	pad := KeySize - len(c.buf)
	for range pad {
		c.buf = append(c.buf, byte(pad))
	}
	c.mode.CryptBlocks(c.buf, c.buf)
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	c.err = err
	if err == nil {
		c.err = errClosed
	}
	return err
}

// errClosed fails a Write or Close after Close.
var errClosed = errors.New("hls: encrypted segment already closed")
