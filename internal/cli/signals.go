package cli

// action is what castd does on a signal.
type action int

const (
	actionNone action = iota
	actionReload
	actionReopenLog
	actionGraceful
	actionQuit
)
