//go:build !unix

package cli

import (
	"os"
	"os/signal"

	"github.com/castd/castd/internal/conf"
)

var signalChans = map[<-chan os.Signal]chan os.Signal{}

func notifySignals() <-chan os.Signal {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, os.Interrupt)
	signalChans[ch] = ch
	return ch
}

func stopNotify(ch <-chan os.Signal) {
	if c, ok := signalChans[ch]; ok {
		signal.Stop(c)
		delete(signalChans, ch)
	}
}

// signalAction: Windows has only Ctrl-C, a fast quit; reload with the API.
func signalAction(s os.Signal) action {
	if s == os.Interrupt {
		return actionQuit
	}
	return actionNone
}

// lockFile is a no-op where flock does not exist.
func lockFile(*os.File) error { return nil }

// checkLimits has no open files limit to check outside Unix.
func checkLimits(*conf.Config) error { return nil }
