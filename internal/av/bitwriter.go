package av

// bitWriter writes MSB-first bit fields.
type bitWriter struct {
	buf   []byte
	nbits int
}

func (w *bitWriter) write(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.nbits%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>uint(i)&1 == 1 {
			w.buf[len(w.buf)-1] |= 0x80 >> uint(w.nbits%8)
		}
		w.nbits++
	}
}

func (w *bitWriter) bytes() []byte { return w.buf }
