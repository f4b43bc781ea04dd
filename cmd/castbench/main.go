// Command castbench is castd's load and measurement tool: it publishes N
// streams from an FLV file and plays them with N players over RTMP,
// HTTP-FLV or HLS, against any server (castd, SRS, nginx-rtmp), and reports
// time to first frame, end-to-end latency, bitrate, stalls and errors (and
// segment latency for HLS). Run
// `castbench -h` for its usage; docs/castbench.md explains the numbers.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stdout))
	stop()
	os.Exit(code)
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
