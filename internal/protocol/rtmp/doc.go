// Package rtmp implements the RTMP wire protocol, server and client side:
// the simple and complex (FP9 digest) handshakes, the chunk stream layer,
// protocol control and user control messages, the AMF command set, a server
// session (ServerConn) and a client (ClientConn).
//
// It is a library: it knows nothing of castd's hub, config or logging. It
// returns errors instead of logging and imports only the standard library and
// castd's AMF codec.
//
// # Chunk stream ids
//
// Outgoing messages use the chunk stream ids SRS uses, so packet captures look
// familiar to operators and peers that key behaviour on them keep working:
//
//	2  protocol control and user control messages (the spec requires 2)
//	3  commands on the NetConnection (connect, createStream, _result, ...)
//	4  data messages: onMetaData and other script data (RTMP_CID_OverConnection2)
//	5  commands on the NetStream (play, publish, onStatus, |RtmpSampleAccess)
//	6  video
//	7  audio
//
// Every outgoing message starts with a type-0 chunk header (absolute
// timestamp) and continues with type-3 chunks, which repeat the 4-byte
// extended timestamp when the timestamp is at least 0xFFFFFF, as Flash, FMLE
// and SRS do. Since no outgoing message depends on the delta state of a
// previous one, control messages written by the reading goroutine can be
// interleaved with media batches at message boundaries.
//
// # Concurrency
//
// A Conn has one reader and any number of writers: ReadMessage (and everything
// built on it) must be called from one goroutine at a time, while
// WriteMessage, WriteMedia and the control senders are safe to call
// concurrently with each other and with the reader. The reader itself writes
// acknowledgements and ping responses through the same write lock.
package rtmp
