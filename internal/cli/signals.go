package cli

import (
	"os"
	"os/signal"
)

// action is what castd does on a signal.
type action int

const (
	actionNone action = iota
	actionReload
	actionReopenLog
	actionGraceful
	actionQuit
)

// notifySignals subscribes to the signals castd handles on this platform;
// the caller stops the subscription with signal.Stop.
func notifySignals() chan os.Signal {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, handledSignals...)
	return ch
}
