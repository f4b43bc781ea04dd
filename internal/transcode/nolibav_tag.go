//go:build cgo && castd_nolibav

package transcode

// nolibavReason completes "castd was built ..." in Available's error.
const nolibavReason = "with the castd_nolibav tag (without libavcodec)"
