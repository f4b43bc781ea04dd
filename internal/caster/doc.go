// Package caster implements SRS's two simple stream casters, which take a
// stream in another protocol and publish it as RTMP to a configured URL
// (stream_caster's output), exactly as an RTMP encoder would: so hooks,
// security, HLS, DVR and everything else apply on the target as for any
// publisher.
//
//   - mpegts_over_udp: one MPEG-TS stream in UDP datagrams on one port,
//     published to a fixed URL. It is published when datagrams arrive and
//     unpublished when they stop for Options.IdleTimeout.
//   - flv: an HTTP server where POST /<app>/<stream>.flv with an FLV body
//     publishes to the output with [app] and [stream] filled in.
//
// The package knows nothing of the server's config or hub: the server opens
// the sockets and hands them over.
package caster
