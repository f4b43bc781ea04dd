package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckInterval is how often an HTTPS listener looks whether its
// certificate or key file changed (a renewal by certbot or similar).
const certCheckInterval = time.Minute

// keyPair is an HTTPS listener's certificate. It reads its files again
// when they change, at the first handshake after each check interval, and
// at every reload, so renewing a certificate needs no restart. A renewal
// that does not load keeps the last good pair.
type keyPair struct {
	certFile, keyFile, what string
	log                     *slog.Logger
	every                   time.Duration

	mu       sync.Mutex
	cert     *tls.Certificate
	modified [2]time.Time // of the certificate and key files when read
	checked  time.Time
}

// load reads the files; it is the first read.
func (k *keyPair) load() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.readLocked()
}

func (k *keyPair) readLocked() error {
	mod, err := k.modTimes()
	if err != nil {
		return err
	}
	pair, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		return fmt.Errorf("load key pair: %w", err)
	}
	k.cert, k.modified, k.checked = &pair, mod, time.Now()
	return nil
}

func (k *keyPair) modTimes() ([2]time.Time, error) {
	var mod [2]time.Time
	for i, f := range []string{k.certFile, k.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return mod, fmt.Errorf("stat: %w", err)
		}
		mod[i] = st.ModTime()
	}
	return mod, nil
}

// refresh reads the files again now if they changed.
func (k *keyPair) refresh() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshLocked()
}

func (k *keyPair) refreshLocked() {
	k.checked = time.Now()
	mod, err := k.modTimes()
	if err == nil && mod == k.modified {
		return
	}
	if err == nil {
		err = k.readLocked()
	}
	if err != nil {
		k.log.Error(k.what+": cannot reload its certificate and key; keeping the current ones",
			"cert", k.certFile, "key", k.keyFile, "err", err)
		return
	}
	k.log.Info(k.what+": certificate reloaded", "cert", k.certFile)
}

// get is tls.Config.GetCertificate.
func (k *keyPair) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if time.Since(k.checked) >= k.every {
		k.refreshLocked()
	}
	return k.cert, nil
}
