// Package ids makes the identifiers SRS shows operators: 8-character
// connection context ids and "vid-" object ids.
package ids

import "crypto/rand"

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// NewCID returns a connection context id: 8 characters of [0-9a-z]. The same
// id appears in logs, as the API client id and as the hooks' client_id.
func NewCID() string { return randomString(8) }

// NewVID returns an object id for vhosts and streams: "vid-" and 7
// characters of [0-9a-z].
func NewVID() string { return "vid-" + randomString(7) }
