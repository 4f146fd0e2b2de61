package serve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countListener counts the connections it accepts and the Write calls on
// them, below whatever wraps it.
type countListener struct {
	net.Listener
	accepts atomic.Int64
	writes  atomic.Int64
}

func (l *countListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepts.Add(1)
	return &countConn{Conn: c, writes: &l.writes}, nil
}

// countConn counts its Write calls; CloseWrite passes through, so net/http's
// use of it is kept.
type countConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func (c *countConn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("%T has no CloseWrite", c.Conn)
	}
	return cw.CloseWrite()
}

// countedServer serves h on 127.0.0.1 over a countListener, coalesced when
// asked, with the service's server (NewServer, so ConnContext is set) either
// way.
func countedServer(t testing.TB, h http.Handler, coalesce bool) (*http.Server, string, *countListener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countListener{Listener: ln}
	var sl net.Listener = cl
	if coalesce {
		sl = Coalesce(cl)
	}
	srv := NewServer(h, nil)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sl) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return srv, ln.Addr().String(), cl
}

// rawClient is one keep-alive connection that sends requests as written and
// keeps each response's bytes as received.
type rawClient struct {
	conn net.Conn
	raw  bytes.Buffer // bytes read from conn for the current response
	br   *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c := &rawClient{conn: conn}
	// The server sends nothing but responses to requests, so whatever the
	// reader takes from conn while one response is read belongs to it.
	c.br = bufio.NewReader(io.TeeReader(conn, &c.raw))
	return c
}

// do sends one request and returns the response, its body and the raw bytes
// of the whole response.
func (c *rawClient) do(t testing.TB, method, path, hdr string) (*http.Response, []byte, []byte) {
	t.Helper()
	c.raw.Reset()
	if _, err := fmt.Fprintf(c.conn, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method, path, hdr); err != nil {
		t.Fatalf("send %s %s: %v", method, path, err)
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, path, err)
	}
	if c.br.Buffered() != 0 {
		t.Fatalf("%s %s: %d bytes after the response", method, path, c.br.Buffered())
	}
	return resp, body, bytes.Clone(c.raw.Bytes())
}

var dateLine = regexp.MustCompile(`\r\nDate: [^\r]*\r\n`)

// TestCoalesce sends the same requests on one keep-alive connection to a
// server over a Coalesce listener and to one over the bare listener, and
// counts the writes on the TCP conn under each: the responses must be the
// same bytes (but for Date), and a held response one write.
func TestCoalesce(t *testing.T) {
	dir := t.TempDir()
	feed := sampleFeed(100_000, 1)
	writeFile(t, filepath.Join(dir, "feed.atom"), feed, fileTime)
	// Plain bodies: a 6 KB one leaves its end in net/http's conn buffer after
	// the handler's Write; the other two sit at the hold limit.
	mid := sampleFeed(6_000, 2)
	writeFile(t, filepath.Join(dir, "mid.json"), mid, fileTime)
	edge := strings.Repeat("x", maxHeldBody)
	writeFile(t, filepath.Join(dir, "edge.bin"), edge, fileTime)
	writeFile(t, filepath.Join(dir, "over.bin"), edge+"x", fileTime)
	h := New(dir, Options{MaxAge: time.Hour})
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	gz := (*h.set.Load())["/feed.atom"].gz
	if n := len(gz.body); n < 10_000 || n > 20_000 {
		t.Fatalf("gzip feed is %d bytes, want about 15 KB", n)
	}

	const gzipHdr = "Accept-Encoding: gzip\r\n"
	tests := []struct {
		name, method, path, hdr string
		status                  int
		body                    string
		enc                     string // Content-Encoding
		writes, bareWrites      int    // write calls on the conn, coalesced and bare
	}{
		{name: "gzip", path: "/feed.atom", hdr: gzipHdr, status: 200, body: string(gz.body), enc: "gzip", writes: 1, bareWrites: 2},
		{name: "plain_100k", path: "/feed.atom", status: 200, body: feed, writes: 2, bareWrites: 2},
		{name: "gzip_again", path: "/feed.atom", hdr: gzipHdr, status: 200, body: string(gz.body), enc: "gzip", writes: 1, bareWrites: 2},
		{name: "tail_buffered", path: "/mid.json", status: 200, body: mid, writes: 1, bareWrites: 2},
		{name: "at_limit", path: "/edge.bin", status: 200, body: edge, writes: 1, bareWrites: 2},
		{name: "over_limit", path: "/over.bin", status: 200, body: edge + "x", writes: 2, bareWrites: 2},
		{name: "head", method: "HEAD", path: "/feed.atom", hdr: gzipHdr, status: 200, enc: "gzip", writes: 1, bareWrites: 1},
		{name: "304", path: "/feed.atom", hdr: gzipHdr + "If-None-Match: " + gz.etag + "\r\n", status: 304, writes: 1, bareWrites: 1},
		{name: "404", path: "/nope.atom", status: 404, body: "404 page not found\n", writes: 1, bareWrites: 1},
		{name: "405", method: "POST", path: "/feed.atom", hdr: "Content-Length: 0\r\n", status: 405, body: "405 method not allowed\n", writes: 1, bareWrites: 1},
		{name: "gzip_last", path: "/feed.atom", hdr: gzipHdr, status: 200, body: string(gz.body), enc: "gzip", writes: 1, bareWrites: 2},
	}

	_, addr, cl := countedServer(t, h, true)
	_, bareAddr, bareCl := countedServer(t, h, false)
	c, bare := dialRaw(t, addr), dialRaw(t, bareAddr)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			before, bareBefore := cl.writes.Load(), bareCl.writes.Load()
			resp, body, raw := c.do(t, method, tt.path, tt.hdr)
			_, _, bareRaw := bare.do(t, method, tt.path, tt.hdr)
			// Every byte the server wrote was read, so every Write was counted.
			writes, bareWrites := cl.writes.Load()-before, bareCl.writes.Load()-bareBefore

			if resp.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			if string(body) != tt.body {
				t.Errorf("body: got %d bytes, want %d", len(body), len(tt.body))
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.enc {
				t.Errorf("Content-Encoding: got %q, want %q", got, tt.enc)
			}
			if resp.Close {
				t.Error("server asks to close the connection")
			}
			got, want := dateLine.ReplaceAll(raw, nil), dateLine.ReplaceAll(bareRaw, nil)
			if !bytes.Equal(got, want) {
				t.Errorf("coalesced response differs from the bare one:\ngot  %.600q\nwant %.600q", got, want)
			}
			if writes != int64(tt.writes) {
				t.Errorf("writes: got %d, want %d", writes, tt.writes)
			}
			if bareWrites != int64(tt.bareWrites) {
				t.Errorf("writes without Coalesce: got %d, want %d", bareWrites, tt.bareWrites)
			}
		})
	}
	if n := cl.accepts.Load(); n != 1 {
		t.Errorf("connections: got %d, want 1 kept alive", n)
	}
}

// TestCoalesceHTTP2 serves HTTP/2 without TLS over a Coalesce listener: its
// handlers run beside the goroutine that writes the conn, so nothing may be
// held, and concurrent streams must all arrive whole.
func TestCoalesceHTTP2(t *testing.T) {
	dir := t.TempDir()
	feed := sampleFeed(100_000, 1)
	writeFile(t, filepath.Join(dir, "feed.atom"), feed, fileTime)
	h := New(dir, Options{})
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	gz := (*h.set.Load())["/feed.atom"].gz.body

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held atomic.Int64
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(heldWatch{w, requestConn(r.Context()), &held}, r)
		}),
		ConnContext: ConnContext,
		Protocols:   new(http.Protocols),
	}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(Coalesce(ln)) //nolint:errcheck // ends with ErrServerClosed at Close
	t.Cleanup(func() { srv.Close() })

	tr := &http.Transport{Protocols: new(http.Protocols), DisableCompression: true}
	tr.Protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			req, err := http.NewRequest("GET", "http://"+ln.Addr().String()+"/feed.atom", nil)
			if err != nil {
				errs <- err
				return
			}
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			switch {
			case err != nil:
				errs <- err
			case resp.ProtoMajor != 2:
				errs <- fmt.Errorf("got %s, want HTTP/2", resp.Proto)
			case !bytes.Equal(body, gz):
				errs <- fmt.Errorf("body: got %d bytes, want the %d of the gzip feed", len(body), len(gz))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := held.Load(); n != 0 {
		t.Errorf("%d HTTP/2 responses were written with the conn held", n)
	}
}

// heldWatch counts the handler's body writes made while its conn is held.
type heldWatch struct {
	http.ResponseWriter
	c    *conn
	held *atomic.Int64
}

func (w heldWatch) Write(p []byte) (int, error) {
	if w.c != nil {
		w.c.mu.Lock()
		if w.c.held {
			w.held.Add(1)
		}
		w.c.mu.Unlock()
	}
	return w.ResponseWriter.Write(p)
}

func (w heldWatch) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// pipeConn is a conn over net.Pipe whose peer reads everything into a buffer
// until the conn closes.
func pipeConn(t *testing.T) (*conn, *countConn, func() string) {
	t.Helper()
	inner, peer := net.Pipe()
	var writes atomic.Int64
	cc := &countConn{Conn: inner, writes: &writes}
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(peer) // ends with EOF when the conn closes
		done <- b
	}()
	t.Cleanup(func() { peer.Close() })
	return &conn{Conn: cc}, cc, func() string { return string(<-done) }
}

// TestConnHold runs sequences of writes ("a"), holds (H) and releases (R):
// the peer must get every byte in order, and a held run must be one write.
func TestConnHold(t *testing.T) {
	tests := []struct {
		name   string
		ops    string
		want   string
		writes int64
	}{
		{"pass_through", "a b", "ab", 2},
		{"held", "H a bb ccc R", "abbccc", 1},
		{"between", "a H b c R d", "abcd", 3},
		{"hold_twice", "H a H b R c", "abc", 2},
		{"release_unheld", "R a R", "a", 1},
		{"empty_hold", "H R a", "a", 1},
		{"two_rounds", "H a b R H c d R", "abcd", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, cc, received := pipeConn(t)
			for _, op := range strings.Fields(tt.ops) {
				switch op {
				case "H":
					if !c.hold() {
						t.Fatal("hold: got false on a working conn")
					}
				case "R":
					if err := c.release(); err != nil {
						t.Fatalf("release: %v", err)
					}
				default:
					if n, err := c.Write([]byte(op)); n != len(op) || err != nil {
						t.Fatalf("Write %q: got %d, %v", op, n, err)
					}
				}
			}
			if c.held || c.buf != nil {
				t.Error("conn still held after its last release")
			}
			writes := cc.writes.Load()
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := received(); got != tt.want {
				t.Errorf("peer got %q, want %q", got, tt.want)
			}
			if writes != tt.writes {
				t.Errorf("writes: got %d, want %d", writes, tt.writes)
			}
		})
	}
}

// TestConnReleaseError makes the one write of a release fail: the error is
// returned, every later write returns it, and the conn is closed.
func TestConnReleaseError(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, c *conn, peer net.Conn)
		want  error
	}{
		{
			name:  "peer_closed",
			setup: func(t *testing.T, c *conn, peer net.Conn) { peer.Close() },
			want:  io.ErrClosedPipe,
		},
		{
			name: "peer_closes_mid_write",
			setup: func(t *testing.T, c *conn, peer net.Conn) {
				go func() {
					buf := make([]byte, 3)
					io.ReadFull(peer, buf) //nolint:errcheck // the write's error is under test
					peer.Close()
				}()
			},
			want: io.ErrClosedPipe,
		},
		{
			name: "deadline_passed",
			setup: func(t *testing.T, c *conn, peer net.Conn) {
				if err := c.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
					t.Fatal(err)
				}
			},
			want: os.ErrDeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner, peer := net.Pipe()
			t.Cleanup(func() { peer.Close() })
			c := &conn{Conn: inner}
			if !c.hold() {
				t.Fatal("hold: got false on a working conn")
			}
			msg := []byte("HTTP/1.1 200 OK\r\n\r\nbody")
			if n, err := c.Write(msg); n != len(msg) || err != nil {
				t.Fatalf("held Write: got %d, %v; want %d, nil", n, err, len(msg))
			}
			tt.setup(t, c, peer)
			err := c.release()
			if !errors.Is(err, tt.want) {
				t.Fatalf("release: got %v, want %v", err, tt.want)
			}
			if n, err := c.Write([]byte("next")); n != 0 || !errors.Is(err, tt.want) {
				t.Errorf("Write after failed release: got %d, %v; want 0, %v", n, err, tt.want)
			}
			if err := c.release(); !errors.Is(err, tt.want) {
				t.Errorf("second release: got %v, want %v", err, tt.want)
			}
			if c.hold() {
				t.Error("hold: got true after a failed release")
			}
			// Closed: the read fails at once. Open: it waits for the deadline.
			if err := inner.SetReadDeadline(time.Now().Add(time.Second)); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				t.Fatal(err)
			}
			if _, err := inner.Read(make([]byte, 1)); !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("inner conn after failed release: read got %v, want it closed", err)
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// TestConnClose closes a held conn: the held bytes are dropped, not sent,
// their buffer is let go, and every later write fails.
func TestConnClose(t *testing.T) {
	c, cc, received := pipeConn(t)
	if _, err := c.Write([]byte("sent ")); err != nil {
		t.Fatal(err)
	}
	if !c.hold() {
		t.Fatal("hold: got false on a working conn")
	}
	if _, err := c.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if c.held || c.buf != nil {
		t.Error("Close kept the held buffer")
	}
	if n, err := c.Write([]byte("late")); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: got %d, %v; want 0, net.ErrClosed", n, err)
	}
	if c.hold() {
		t.Error("hold: got true after Close")
	}
	if err := c.release(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("release after Close: got %v, want net.ErrClosed", err)
	}
	if err := c.CloseWrite(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("CloseWrite after Close: got %v, want net.ErrClosed", err)
	}
	if n, err := c.ReadFrom(strings.NewReader("late")); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadFrom after Close: got %d, %v; want 0, net.ErrClosed", n, err)
	}
	c.Close() //nolint:errcheck // a second Close must only not panic
	if got := received(); got != "sent " {
		t.Errorf("peer got %q, want %q", got, "sent ")
	}
	if n := cc.writes.Load(); n != 1 {
		t.Errorf("writes: got %d, want 1", n)
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			c = nil
		}
		accepted <- c
	}()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { cl.Close(); srv.Close() })
	for _, c := range []net.Conn{srv, cl} {
		if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	return srv.(*net.TCPConn), cl.(*net.TCPConn)
}

// TestConnCloseWrite: CloseWrite sends the held bytes, then the peer reads
// EOF; a conn without CloseWrite says so.
func TestConnCloseWrite(t *testing.T) {
	srv, cl := tcpPair(t)
	c := &conn{Conn: srv}
	if _, err := c.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	c.hold()
	if _, err := c.Write([]byte("bc")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	got, err := io.ReadAll(cl) // EOF only if the write side was shut down
	if err != nil || string(got) != "abc" {
		t.Errorf("peer read %q, %v; want \"abc\", nil", got, err)
	}

	inner, peer := net.Pipe()
	defer peer.Close()
	pc := &conn{Conn: inner}
	defer pc.Close()
	if err := pc.CloseWrite(); err == nil {
		t.Error("CloseWrite on a net.Pipe conn: got nil, want an error")
	}
}

// TestConnReadFrom copies a file into a held conn, over TCP (the inner conn's
// own ReadFrom, sendfile) and over a pipe (a plain copy): the held bytes go
// first.
func TestConnReadFrom(t *testing.T) {
	file := filepath.Join(t.TempDir(), "body")
	body := sampleFeed(20_000, 3)
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pair func(t *testing.T) (net.Conn, net.Conn)
	}{
		{"tcp", func(t *testing.T) (net.Conn, net.Conn) { return tcpPair(t) }},
		{"pipe", func(t *testing.T) (net.Conn, net.Conn) {
			a, b := net.Pipe()
			t.Cleanup(func() { a.Close(); b.Close() })
			return a, b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner, peer := tt.pair(t)
			got := make(chan string)
			go func() {
				b, _ := io.ReadAll(peer) // until the conn closes
				got <- string(b)
			}()
			c := &conn{Conn: inner}
			c.hold()
			if _, err := c.Write([]byte("head\r\n")); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n, err := c.ReadFrom(f)
			if n != int64(len(body)) || err != nil {
				t.Fatalf("ReadFrom: got %d, %v; want %d, nil", n, err, len(body))
			}
			if _, err := c.Write([]byte("tail")); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if g, want := <-got, "head\r\n"+body+"tail"; g != want {
				t.Errorf("peer got %d bytes, want %d: head, file, tail in order", len(g), len(want))
			}
		})
	}
}

// TestConnCloseConcurrent closes a conn from another goroutine, as
// Server.Close does, while the serving goroutine holds, writes and releases:
// run with -race, nothing may race or panic, and writes fail afterwards.
func TestConnCloseConcurrent(t *testing.T) {
	srv, cl := tcpPair(t)
	go io.Copy(io.Discard, cl) //nolint:errcheck // drains until the conn closes
	c := &conn{Conn: srv}
	msg := bytes.Repeat([]byte("x"), 8<<10)
	var wg sync.WaitGroup
	var failed atomic.Bool
	wg.Go(func() {
		for range 10_000 {
			if !c.hold() {
				failed.Store(true)
				return
			}
			_, werr := c.Write(msg)
			rerr := c.release()
			if werr != nil || rerr != nil {
				failed.Store(true)
				return
			}
		}
	})
	time.Sleep(time.Millisecond)
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	if !failed.Load() {
		t.Log("the writer finished before Close; the race was not exercised")
	}
	if _, err := c.Write(msg); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: got %v, want net.ErrClosed", err)
	}
}

// TestConnContext: ConnContext records only Coalesce's conns, and the
// handler finds nothing in a context without one.
func TestConnContext(t *testing.T) {
	inner, peer := net.Pipe()
	defer inner.Close()
	defer peer.Close()
	c := &conn{Conn: inner}
	if got := requestConn(ConnContext(context.Background(), c)); got != c {
		t.Errorf("requestConn: got %p, want the conn %p", got, c)
	}
	if got := requestConn(ConnContext(context.Background(), inner)); got != nil {
		t.Errorf("requestConn of a bare conn: got %p, want nil", got)
	}
	if got := requestConn(context.Background()); got != nil {
		t.Errorf("requestConn of an empty context: got %p, want nil", got)
	}
}

// TestNewServerTimeouts: the service's server bounds every phase of a
// connection, so a slow or silent client cannot hold it forever.
func TestNewServerTimeouts(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), nil)
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 || d > 5*time.Minute {
			t.Errorf("%s = %v, want a bound of seconds to minutes", name, d)
		}
	}
	if srv.ConnContext == nil {
		t.Error("no ConnContext: a Coalesce listener would never be held")
	}
}
