package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Coalesce wraps ln so that Handler can send a response in one write.
//
// net/http writes a response through a 4 KB buffer: a body larger than what
// is left of it after the headers leaves in two writes, the full buffer and
// then the rest. On loopback or a fast link each extra write costs a syscall
// here and a wakeup and a read at the client. A conn accepted from the
// returned listener passes every write straight through, except while
// Handler holds it for one response: then writes are gathered and sent as
// one write when the response is complete.
//
// Give the http.Server ConnContext as its ConnContext, so the handler finds
// the conn; without it, or without this listener, everything works as before
// with the usual writes. Put TLS, if any, on top of the returned listener;
// holding is done for HTTP/1.x only, where one goroutine writes a conn's
// responses one after the other.
func Coalesce(ln net.Listener) net.Listener {
	return coalescer{ln}
}

type coalescer struct {
	net.Listener
}

func (l coalescer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c}, nil
}

// NewServer returns the http.Server the service serves h with: read, write
// and idle timeouts, and ConnContext, so that a server on a Coalesce listener
// sends a response in one write. Serve it with srv.Serve(Coalesce(ln)).
// errLog may be nil (net/http then logs to the standard logger).
func NewServer(h http.Handler, errLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ConnContext:       ConnContext,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errLog,
	}
}

// connKey is the request context key of the *conn a request came on.
type connKey struct{}

// ConnContext is an http.Server.ConnContext that records a conn accepted from
// a Coalesce listener in the context, where Handler looks for it. Other conns
// leave ctx as it is.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if hc, ok := c.(*conn); ok {
		return context.WithValue(ctx, connKey{}, hc)
	}
	return ctx
}

// requestConn returns the conn of ctx, or nil.
func requestConn(ctx context.Context) *conn {
	c, _ := ctx.Value(connKey{}).(*conn)
	return c
}

const (
	// maxHeldBody is the largest body Handler holds a response for. The gzip
	// feeds, 10-30 KB, are where one write instead of two pays. Holding a
	// plain 100 KB feed too measured within noise in BenchmarkServeConn (it
	// saves one write of many segments but copies the body once more) and
	// would keep a buffer of that size per busy connection.
	maxHeldBody = 64 << 10
	// heldCap is the capacity of a held buffer: the largest held body and
	// room for the status line and headers.
	heldCap = maxHeldBody + 4<<10
)

// heldBufs holds *[]byte of capacity heldCap (a pointer, so Put does not
// allocate).
var heldBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, heldCap)
	return &b
}}

// conn is a net.Conn whose writes can be held and then sent in one write.
//
// net/http writes a conn from the goroutine that serves it, and so do hold
// and release, but it may Close the conn from another (Server.Close), and it
// reads from a background goroutine. Reads are not touched here. mu orders
// Close against the writes: it guards the state below and is never held
// during a write to the inner conn, so a Close can always interrupt a write
// blocked on a slow client.
type conn struct {
	net.Conn

	mu   sync.Mutex
	held bool
	buf  *[]byte // the held bytes while held, from heldBufs; nil otherwise
	err  error   // sticky: a failed release, or net.ErrClosed after Close
}

// Write passes p to the inner conn, or while held appends it to the held
// bytes and reports it written. After a failed release or Close it returns
// that error.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	if c.held {
		*c.buf = append(*c.buf, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// hold makes writes gather until release. It reports whether the conn is held
// (false once the conn has failed or is closed); holding a held conn changes
// nothing.
func (c *conn) hold() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false
	}
	if !c.held {
		c.held = true
		c.buf = heldBufs.Get().(*[]byte)
	}
	return true
}

// release sends the held bytes in one write and lets writes through again.
// A failed write is remembered: every later Write returns it. The inner conn
// is then closed, since part of a response may be lost and nothing sent after
// it could be read right; the client sees the connection end rather than
// waiting for the rest. Releasing a conn that is not held returns the sticky
// error, if any.
func (c *conn) release() error {
	c.mu.Lock()
	if !c.held {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.held = false
	bp := c.buf
	c.buf = nil
	c.mu.Unlock()

	var err error
	if len(*bp) > 0 {
		_, err = c.Conn.Write(*bp)
	}
	putHeld(bp)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("serve: send held response: %w", err)
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	if cerr := c.Conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = errors.Join(err, cerr)
	}
	return err
}

func putHeld(bp *[]byte) {
	if cap(*bp) > heldCap {
		return // grown by huge headers; not worth keeping
	}
	*bp = (*bp)[:0]
	heldBufs.Put(bp)
}

// Close drops any held bytes, returns their buffer and closes the inner conn.
// Later writes return net.ErrClosed.
func (c *conn) Close() error {
	c.mu.Lock()
	if c.held {
		c.held = false
		putHeld(c.buf)
		c.buf = nil
	}
	if c.err == nil {
		c.err = net.ErrClosed
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// CloseWrite shuts down the writing side of the inner conn after sending any
// held bytes. net/http calls it, when the conn has it, before closing a
// connection whose request body it did not read, so the client gets the
// response rather than a reset.
func (c *conn) CloseWrite() error {
	if err := c.release(); err != nil {
		return err
	}
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("serve: %T has no CloseWrite", c.Conn)
	}
	return cw.CloseWrite()
}

// ReadFrom copies r to the inner conn after sending any held bytes, through
// the inner conn's own ReadFrom when it has one: net/http's response.ReadFrom
// uses it for sendfile from a file to a TCP conn.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if err := c.release(); err != nil {
		return 0, err
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// writerOnly hides every method but Write, so io.Copy does not call ReadFrom
// back.
type writerOnly struct {
	io.Writer
}
