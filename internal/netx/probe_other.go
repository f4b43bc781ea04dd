//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package netx

// canPeek is false where castd has no non-blocking probe (Windows):
// players keep a reading goroutine there.
const canPeek = false

type pollSet struct{}

func (p *InputProbe) peek(uintptr) {}
