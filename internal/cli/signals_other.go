//go:build !unix

package cli

import (
	"os"

	"github.com/castd/castd/internal/conf"
)

// handledSignals: Windows has only Ctrl-C.
var handledSignals = []os.Signal{os.Interrupt}

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
