package rtmp

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/castd/castd/internal/netx"
)

// ConnOptions bounds what a Conn accepts from its peer. Zero values pick the
// defaults.
type ConnOptions struct {
	// MaxMessageSize bounds one incoming message. Default and maximum:
	// MaxMessageSize (0xFFFFFF, what the 3-byte length field can hold).
	MaxMessageSize int
	// MaxChunkStreams bounds the incoming chunk streams tracked at once.
	// Default 64; real peers use fewer than 10.
	MaxChunkStreams int
	// MaxPartialBytes bounds the bytes held in incomplete incoming messages
	// across all chunk streams. Default 32 MiB.
	MaxPartialBytes int
	// ReadBufferSize is the size of the read buffer. Default 4 KiB: most
	// connections are players, which send next to nothing; a publisher's
	// connection grows it with GrowReadBuffer.
	ReadBufferSize int
}

const (
	defaultMaxChunkStreams = 64
	defaultMaxPartialBytes = 32 << 20
	defaultReadBufferSize  = 4 << 10
)

func (o ConnOptions) withDefaults() ConnOptions {
	if o.MaxMessageSize <= 0 || o.MaxMessageSize > MaxMessageSize {
		o.MaxMessageSize = MaxMessageSize
	}
	if o.MaxChunkStreams <= 0 {
		o.MaxChunkStreams = defaultMaxChunkStreams
	}
	if o.MaxPartialBytes <= 0 {
		o.MaxPartialBytes = defaultMaxPartialBytes
	}
	if o.ReadBufferSize < 16 {
		o.ReadBufferSize = defaultReadBufferSize
	}
	return o
}

// Conn is the RTMP chunk stream layer over a byte stream: it reassembles
// incoming messages, handles protocol control messages by itself, and chunks
// outgoing messages. See the package documentation for the goroutine rules.
type Conn struct {
	rwc io.ReadWriteCloser
	w   io.Writer // rwc, or the TCP connection under it (netx.WriteTarget)
	br  *bufio.Reader
	opt ConnOptions
	// grown is set once GrowReadBuffer has stacked a larger buffer on the
	// first, which may then still hold bytes of its own.
	grown bool

	bytesIn  atomic.Uint64
	bytesOut atomic.Uint64

	// Read side, owned by the reading goroutine.
	inChunkSize  uint32
	streams      map[uint32]*chunkStream
	partialBytes int
	ackWindow    uint32 // peer's Window Acknowledgement Size; 0 means no acks
	ackedBytes   uint64 // bytesIn when the last Acknowledgement was sent
	// scratch receives chunk headers: 11 bytes of message header, then 4
	// of extended timestamp. A local array would escape to the heap through
	// io.ReadFull's io.Reader and cost an allocation per chunk.
	scratch [15]byte

	// Values the peer told us, readable from any goroutine.
	peerAck          atomic.Uint32 // last Acknowledgement sequence number
	peerBandwidth    atomic.Uint32
	peerBufferLength atomic.Uint32 // SetBufferLength, milliseconds

	// Write side, guarded by wmu.
	wmu          sync.Mutex
	outChunkSize int
	outWindow    uint32   // Window Acknowledgement Size we sent
	hdr          []byte   // chunk header scratch, reused
	bufs         [][]byte // iovec backing array, reused
	wv           net.Buffers
}

// NewConn returns a Conn over rwc. When rwc is a *net.TCPConn (or another
// net.Conn whose type supports writev, or a netx.Transparent wrapper of
// one), WriteMedia issues one writev per batch.
func NewConn(rwc io.ReadWriteCloser, opt ConnOptions) *Conn {
	opt = opt.withDefaults()
	c := &Conn{
		rwc:          rwc,
		w:            netx.WriteTarget(rwc),
		opt:          opt,
		inChunkSize:  DefaultChunkSize,
		outChunkSize: DefaultChunkSize,
		streams:      make(map[uint32]*chunkStream),
	}
	c.br = bufio.NewReaderSize(countingReader{r: rwc, n: &c.bytesIn}, opt.ReadBufferSize)
	return c
}

// countingReader counts the bytes read from the peer.
type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (cr countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(uint64(n))
	return n, err
}

// Read reads raw bytes (for the handshake) through the connection's buffer.
func (c *Conn) Read(p []byte) (int, error) { return c.br.Read(p) }

// GrowReadBuffer reads through a buffer of n bytes from now on, keeping
// what the current one holds: a publisher's media comes in fewer reads.
// Call it from the reading goroutine.
func (c *Conn) GrowReadBuffer(n int) {
	if n > c.br.Size() {
		// The old reader hands over its buffered bytes, then reads
		// straight into the new buffer, which is never smaller.
		c.br = bufio.NewReaderSize(c.br, n)
		c.grown = true
	}
}

// ReleaseReadMemory drops what reading keeps for the next large message:
// the chunk streams' spare payload buffers, and a read buffer larger than
// small when it holds nothing. A player sends only a few small messages
// once it plays, and per-player memory is what limits how many fit. Call it
// from the reading goroutine.
func (c *Conn) ReleaseReadMemory(small int) {
	for _, cs := range c.streams {
		cs.spare = nil
	}
	if !c.grown && c.br.Buffered() == 0 && c.br.Size() > small {
		c.br = bufio.NewReaderSize(countingReader{r: c.rwc, n: &c.bytesIn}, small)
	}
}

// Write writes raw bytes (for the handshake) and counts them. It takes the
// write lock, so it never interleaves with a message.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n, err := c.w.Write(p)
	c.bytesOut.Add(uint64(n))
	return n, err
}

// Close closes the underlying connection. It unblocks a pending read or write.
func (c *Conn) Close() error { return c.rwc.Close() }

// NetConn returns the underlying net.Conn, or nil if the Conn was built over
// something else. Use it for deadlines and addresses.
func (c *Conn) NetConn() net.Conn {
	nc, _ := c.rwc.(net.Conn)
	return nc
}

// BytesIn returns the bytes received so far, handshake included.
func (c *Conn) BytesIn() uint64 { return c.bytesIn.Load() }

// BytesOut returns the bytes sent so far, handshake included.
func (c *Conn) BytesOut() uint64 { return c.bytesOut.Load() }

// PeerAck returns the sequence number of the last Acknowledgement received.
func (c *Conn) PeerAck() uint32 { return c.peerAck.Load() }

// PeerBandwidth returns the bandwidth of the last Set Peer Bandwidth received.
func (c *Conn) PeerBandwidth() uint32 { return c.peerBandwidth.Load() }

// PeerBufferLength returns the buffer length, in milliseconds, of the last
// SetBufferLength user control event received.
func (c *Conn) PeerBufferLength() uint32 { return c.peerBufferLength.Load() }

// InChunkSize returns the chunk size the peer writes with. Reader goroutine only.
func (c *Conn) InChunkSize() uint32 { return c.inChunkSize }

// OutChunkSize returns the chunk size used for writing.
func (c *Conn) OutChunkSize() int {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.outChunkSize
}

// SetInWindowAckSize makes the reader acknowledge received bytes as if the
// peer had sent a Window Acknowledgement Size of n. Some encoders expect acks
// without asking (SRS's in_ack_size). Reader goroutine only, or before reading.
func (c *Conn) SetInWindowAckSize(n uint32) { c.ackWindow = n }

// errorf wraps errors of the chunk layer with a common prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("rtmp: "+format, args...)
}
