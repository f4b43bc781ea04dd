// Command castd-hookserver receives castd's (and SRS's) HTTP hooks: it
// accepts every hook on any path (/api/v1/clients, /api/v1/streams,
// /api/v1/sessions, /api/v1/dvrs, /api/v1/hls...), prints each as one JSON
// line on stdout, answers "0", and lists what it received at
// GET /api/v1/hooks. Flags make it reject hooks, or answer slowly, to try
// castd's behaviour:
//
//	castd-hookserver -reject on_publish,on_play
//	castd-hookserver -reject-stream 'private*' -status 403
//	castd-hookserver -reject on_play -reject-stream 'paid*' -status 302
//	castd-hookserver -reject all -body '{"code":1}' -delay 2s
//	castd-hookserver -delay 40s -delay-stream 'slow*' -delay-actions on_publish
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/castd/castd/internal/hooks/hookserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run serves until ctx ends; ready, when set, learns the listening address.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(net.Addr)) int {
	fs := flag.NewFlagSet("castd-hookserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8085", "address to listen on")
	reject := fs.String("reject", "", "comma-separated actions to reject (on_connect,on_publish,on_play...), or all")
	rejectStream := fs.String("reject-stream", "", "reject hooks whose stream matches this pattern (path.Match, e.g. 'private*'); with -reject, only those actions")
	status := fs.Int("status", http.StatusOK, "HTTP status of a rejection")
	body := fs.String("body", hookserver.DefaultRejectBody, "body of a rejection")
	location := fs.String("location", "", "Location header of a 3xx rejection (default "+hookserver.RedirectPath+" on this server)")
	delay := fs.Duration("delay", 0, "wait this long before answering (e.g. 2s)")
	delayActions := fs.String("delay-actions", "", "comma-separated actions -delay applies to (default every action)")
	delayStream := fs.String("delay-stream", "", "pattern of the streams -delay applies to (default every stream)")
	keep := fs.Int("keep", hookserver.DefaultKeep, "hooks kept for GET "+hookserver.HooksPath)
	quiet := fs.Bool("quiet", false, "do not print hooks")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: castd-hookserver [flags]\n\n"+
			"Receives HTTP hooks on any path, prints one JSON line per hook and answers 0.\n"+
			"GET %s lists the hooks received (?action=on_play filters), DELETE forgets them.\n\n", hookserver.HooksPath)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "castd-hookserver: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *status < 100 || *status > 999 {
		fmt.Fprintf(stderr, "castd-hookserver: -status %d is not an HTTP status\n", *status)
		return 2
	}
	opt := hookserver.Options{RejectStream: *rejectStream, Status: *status, Body: *body, Location: *location,
		Delay: *delay, DelayActions: list(*delayActions), DelayStream: *delayStream, Keep: *keep,
		Reject: list(*reject)}
	if !*quiet {
		opt.Log = stdout
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "castd-hookserver: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "castd-hookserver: listening on %s\n", ln.Addr())
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &http.Server{Handler: hookserver.New(opt), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "castd-hookserver: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		fmt.Fprintf(stderr, "castd-hookserver: shutdown: %v\n", err)
		return 1
	}
	<-done
	return 0
}

// list splits a comma-separated flag, dropping spaces and empty items.
func list(flag string) []string {
	var out []string
	for _, a := range strings.Split(flag, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
