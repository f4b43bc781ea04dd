//go:build !linux

package sysinfo

// readPlatform has nothing to read outside Linux; the sample is not OK.
func readPlatform(*Sample, *raw, *raw) bool { return false }
