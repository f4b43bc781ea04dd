//go:build unix

package cli

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// dropPrivileges switches the process to name (and group, or the user's
// own group) once the listeners are open, as nginx's user directive does:
// castd can then bind ports below 1024 and run unprivileged. Go applies
// setuid/setgid to every thread of the process.
func dropPrivileges(name, group string) (uid, gid int, err error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s: %w", name, err)
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return 0, 0, fmt.Errorf("user %s %s: %w", name, group, err)
		}
		if gid, err = strconv.Atoi(g.Gid); err != nil {
			return 0, 0, fmt.Errorf("group %s: gid %q: %w", group, g.Gid, err)
		}
	}
	if os.Geteuid() != 0 {
		if os.Geteuid() == uid && os.Getegid() == gid {
			return uid, gid, nil // already that user: nothing to do
		}
		return 0, 0, fmt.Errorf("user %s: castd runs as uid %d, not root, so it cannot become uid %d", name, os.Geteuid(), uid)
	}
	// Supplementary groups first: root's would otherwise stay.
	if err := syscall.Setgroups([]int{gid}); err != nil {
		return 0, 0, fmt.Errorf("user %s: setgroups: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return 0, 0, fmt.Errorf("user %s: setgid %d: %w", name, gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return 0, 0, fmt.Errorf("user %s: setuid %d: %w", name, uid, err)
	}
	return uid, gid, nil
}
