//go:build !linux

package confwatch

import (
	"log/slog"
	"sync"
	"time"
)

// startNative polls where inotify does not exist.
func startNative(files []string, every time.Duration, signal func(), _ *slog.Logger, wg *sync.WaitGroup) (source, error) {
	return startPoll(files, every, signal, wg), nil
}
