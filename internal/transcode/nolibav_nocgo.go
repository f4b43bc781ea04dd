//go:build !cgo

package transcode

// nolibavReason completes "castd was built ..." in Available's error.
const nolibavReason = "without cgo"
