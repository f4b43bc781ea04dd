//go:build !unix

package cli

import "errors"

// dropPrivileges is unix only: Windows services get their account from
// the service manager.
func dropPrivileges(name, group string) (uid, gid int, err error) {
	return 0, 0, errors.New("user: not supported on this system; run castd under the account it should use")
}
