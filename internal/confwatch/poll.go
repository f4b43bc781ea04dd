package confwatch

import (
	"os"
	"sync"
	"time"
)

// poller checks the files' size and modification time every interval, for
// systems without inotify.
type poller struct {
	stop chan struct{}
}

// fileState is what polling compares: the file (a rename over it is a
// new file), its size and modification time; nil is a missing file. Two
// writes of the same size within the file system's timestamp granularity
// look alike, a limit of polling that inotify does not have.
type fileState = os.FileInfo

func statAll(files []string) []fileState {
	out := make([]fileState, len(files))
	for i, f := range files {
		if fi, err := os.Stat(f); err == nil {
			out[i] = fi
		}
	}
	return out
}

func changed(a, b fileState) bool {
	if a == nil || b == nil {
		return (a == nil) != (b == nil)
	}
	return !os.SameFile(a, b) || a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime())
}

func startPoll(files []string, every time.Duration, signal func(), wg *sync.WaitGroup) source {
	p := &poller{stop: make(chan struct{})}
	prev := statAll(files)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
			cur := statAll(files)
			for i := range cur {
				if changed(prev[i], cur[i]) {
					signal()
					break
				}
			}
			prev = cur
		}
	}()
	return p
}

func (p *poller) close() error {
	close(p.stop)
	return nil
}
