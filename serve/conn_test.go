package serve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// guard bounds every wait on a connection, so a test that fails fails
// instead of hanging; nothing waits for it to pass.
const guard = 5 * time.Second

// keepAlive is a client connection that sends one request at a time and
// keeps the connection open between them, as a feed reader's does.
type keepAlive struct {
	net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, addr string) *keepAlive {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAlive{Conn: c, r: bufio.NewReader(c)}
}

// send writes a GET of target.
func (c *keepAlive) send(target string) error {
	if err := c.SetDeadline(time.Now().Add(guard)); err != nil {
		return err
	}
	_, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", target)
	return err
}

// response reads one response and its body.
func (c *keepAlive) response() (*http.Response, []byte, error) {
	if err := c.SetDeadline(time.Now().Add(guard)); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// get sends a GET of target and reads the answer.
func (c *keepAlive) get(target string) (*http.Response, []byte, error) {
	if err := c.send(target); err != nil {
		return nil, nil, err
	}
	return c.response()
}

// mustGet is get, failing the test unless the answer is 200.
func (c *keepAlive) mustGet(t testing.TB, target string) {
	t.Helper()
	resp, _, err := c.get(target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d, want 200", target, resp.StatusCode)
	}
}

// closedByServer reports whether the server has closed c: a read ends at
// once with EOF or a reset, rather than running into the guard.
func (c *keepAlive) closedByServer() (bool, error) {
	if err := c.SetReadDeadline(time.Now().Add(guard)); err != nil {
		return false, err
	}
	_, err := c.r.ReadByte()
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return true, nil
	case errors.As(err, &ne) && ne.Timeout():
		return false, nil
	case err == nil:
		return false, errors.New("unexpected byte from the server")
	}
	return false, err
}

// syncBuffer is a log destination the server's goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// limited is a server of the test site made by Handler.Server.
type limited struct {
	addr string
	log  *syncBuffer
	// idle receives each connection the server has just put in StateIdle
	// (after the limit's hook has seen it), so a test knows the order the
	// limit sees.
	idle chan net.Conn
}

// startLimited serves the test site with h.Server at MaxConns n, with next
// in front of h when not nil.
func startLimited(t *testing.T, n int, next func(h *Handler) http.Handler) *limited {
	t.Helper()
	l := &limited{log: &syncBuffer{}, idle: make(chan net.Conn, 1000)}
	h := New(site(t), Options{MaxConns: n, Logger: slog.New(slog.NewTextHandler(l.log, nil))})
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = h
	if next != nil {
		handler = next(h)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.Config = h.Server(handler)
	hook := srv.Config.ConnState
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if hook != nil {
			hook(c, s)
		}
		if s == http.StateIdle {
			l.idle <- c
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	l.addr = srv.Listener.Addr().String()
	return l
}

// waitIdle waits for the server to report a connection idle and returns it.
func (l *limited) waitIdle(t testing.TB) net.Conn {
	t.Helper()
	select {
	case c := <-l.idle:
		return c
	case <-time.After(guard):
		t.Fatal("no connection went idle")
		return nil
	}
}

// getIdle is c.mustGet, then waits until the server has put c back in idle.
func (l *limited) getIdle(t testing.TB, c *keepAlive, target string) {
	t.Helper()
	c.mustGet(t, target)
	if got := l.waitIdle(t); got.RemoteAddr().String() != c.LocalAddr().String() {
		t.Fatalf("idle: got %s, want %s", got.RemoteAddr(), c.LocalAddr())
	}
}

// TestConnLimitClosesOldestIdle fills a server with MaxConns 8 with idle
// keep-alive clients: up to 7 open none is closed; past it each new client is
// served at once and the client idle longest is closed, not the one opened
// first.
func TestConnLimitClosesOldestIdle(t *testing.T) {
	l := startLimited(t, 8, nil)
	var conns []*keepAlive
	for range 7 {
		c := dial(t, l.addr)
		l.getIdle(t, c, "/")
		conns = append(conns, c)
	}
	// No pressure: every one is still open, and used again.
	for _, c := range conns {
		l.getIdle(t, c, "/feeds/cs-lg.atom")
	}

	steps := []struct {
		name   string
		reuse  int // an open client that sends a request first; -1 for none
		closed int // the client the new one closes
	}{
		{name: "first_past_7", reuse: -1, closed: 0},
		{name: "idle_longest_not_opened_first", reuse: 1, closed: 2},
		{name: "next", reuse: -1, closed: 3},
	}
	for _, st := range steps {
		if st.reuse >= 0 {
			l.getIdle(t, conns[st.reuse], "/")
		}
		c := dial(t, l.addr)
		l.getIdle(t, c, "/")
		conns = append(conns, c)
		closed, err := conns[st.closed].closedByServer()
		if err != nil || !closed {
			t.Fatalf("%s: client %d: closed %v (%v), want closed by the server", st.name, st.closed, closed, err)
		}
	}
	// The 7 others are open: a request on each is answered on the same
	// connection.
	for _, i := range []int{1, 4, 5, 6, 7, 8, 9} {
		conns[i].mustGet(t, "/")
	}
}

// TestConnLimitAtLimit: with MaxConns connections all busy, a new one is
// closed at once, with one warning; once they are idle, new clients are
// served again.
func TestConnLimitAtLimit(t *testing.T) {
	const n = 4
	entered := make(chan struct{}, n)
	release := make(chan struct{})
	l := startLimited(t, n, func(h *Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/", h)
		mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			<-release
			fmt.Fprint(w, "released")
		})
		return mux
	})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the server's Close, which waits for handlers

	busy := map[string]*keepAlive{}
	for range n {
		c := dial(t, l.addr)
		if err := c.send("/block"); err != nil {
			t.Fatal(err)
		}
		busy[c.LocalAddr().String()] = c
		<-entered
	}
	for i := range 2 {
		c := dial(t, l.addr)
		// The write may fail already: the connection is closed.
		if err := c.send("/"); err == nil {
			if closed, err := c.closedByServer(); err != nil || !closed {
				t.Fatalf("new client %d at the limit: closed %v (%v), want closed at once", i, closed, err)
			}
		}
	}
	const warning = "new connections are closed at once"
	if got := strings.Count(l.log.String(), warning); got != 1 {
		t.Errorf("log: %d warnings %q, want 1; log:\n%s", got, warning, l.log)
	}

	unblock()
	for _, c := range busy {
		resp, body, err := c.response()
		if err != nil || resp.StatusCode != 200 || string(body) != "released" {
			t.Fatalf("busy client: %v %v %q, want 200", resp, err, body)
		}
	}
	first := l.waitIdle(t)
	for range n - 1 {
		l.waitIdle(t)
	}
	c := dial(t, l.addr)
	c.mustGet(t, "/")
	if closed, err := busy[first.RemoteAddr().String()].closedByServer(); err != nil || !closed {
		t.Errorf("client idle longest: closed %v (%v), want closed for the new one", closed, err)
	}
	if !strings.Contains(l.log.String(), "new connections are served again") {
		t.Errorf("log lacks the end of the episode:\n%s", l.log)
	}
}

// TestServerLimit: the limit each constructor gives the server; the server's
// own timeouts stay as they are.
func TestServerLimit(t *testing.T) {
	tests := []struct {
		name string
		srv  *http.Server
		want int
	}{
		{name: "NewServer_derived", srv: NewServer(http.NotFoundHandler(), log.New(io.Discard, "", 0)), want: derivedMaxConns()},
		{name: "Server_MaxConns", srv: New("site", Options{MaxConns: 64}).Server(http.NotFoundHandler()), want: 64},
		{name: "Server_zero_derived", srv: New("site", Options{}).Server(http.NotFoundHandler()), want: derivedMaxConns()},
		{name: "Server_negative_derived", srv: New("site", Options{MaxConns: -1}).Server(http.NotFoundHandler()), want: derivedMaxConns()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.srv.ConnState == nil {
				t.Fatal("no ConnState hook: connections are not limited")
			}
			if tt.want > 1<<16 {
				t.Skipf("derived limit %d: too many connections to count here", tt.want)
			}
			// Fill the hook with tt.want busy connections: all are
			// admitted, and the next is closed.
			var last net.Conn
			for i := range tt.want + 1 {
				c, other := net.Pipe()
				t.Cleanup(func() { c.Close(); other.Close() })
				tt.srv.ConnState(c, http.StateNew)
				tt.srv.ConnState(c, http.StateActive)
				if i == tt.want {
					last = other
				}
			}
			if _, err := last.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
				t.Errorf("connection %d: read %v, want EOF (closed at once)", tt.want+1, err)
			}
			if tt.srv.IdleTimeout != idleTimeout || tt.srv.ReadHeaderTimeout != readHeaderTimeout ||
				tt.srv.ReadTimeout != readTimeout || tt.srv.WriteTimeout != writeTimeout {
				t.Errorf("timeouts %v %v %v %v, want the service's", tt.srv.ReadHeaderTimeout, tt.srv.ReadTimeout, tt.srv.WriteTimeout, tt.srv.IdleTimeout)
			}
		})
	}
}

func TestHalfOf(t *testing.T) {
	tests := []struct {
		name string
		soft uint64
		want int
	}{
		{"common", 1024, 512},
		{"odd", 65, 32},
		{"one", 1, 1},
		{"zero", 0, 1},
		{"unlimited", ^uint64(0), 1<<31 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := halfOf(tt.soft); got != tt.want {
				t.Errorf("halfOf(%d): got %d, want %d", tt.soft, got, tt.want)
			}
		})
	}
}
