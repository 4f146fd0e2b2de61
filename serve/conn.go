package serve

import (
	"container/list"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"time"
)

// The server's timeouts bound every phase of a connection, so a slow or
// silent client cannot hold it forever.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
)

// NewServer returns the http.Server the service serves h with: timeouts on
// every phase of a connection, and the client connections it keeps open
// bounded by the limit derived from RLIMIT_NOFILE (see Options.MaxConns and
// Handler.Server). errLog may be nil (net/http then logs to the standard
// logger).
func NewServer(h http.Handler, errLog *log.Logger) *http.Server {
	return newServer(h, errLog, 0)
}

// Server is NewServer for next, the whole site's handler (h itself or a mux
// in front of it), with h's Options: at most MaxConns client connections,
// and net/http's errors and the limit's warnings logged to Logger.
func (h *Handler) Server(next http.Handler) *http.Server {
	return newServer(next, slog.NewLogLogger(h.log.Handler(), slog.LevelWarn), h.maxConns)
}

func newServer(h http.Handler, errLog *log.Logger, maxConns int) *http.Server {
	if maxConns <= 0 {
		maxConns = derivedMaxConns()
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          errLog,
		ConnState:         newConnLimit(maxConns, errLog).hook,
	}
}

// derivedMaxConns is half the soft RLIMIT_NOFILE. Go raises the soft limit to
// the hard one at start, so this is half of what the process may open.
func derivedMaxConns() int {
	soft, ok := softNoFile()
	if !ok {
		soft = 1024 // no such limit here; a common default soft limit
	}
	return halfOf(soft)
}

// halfOf is soft/2, at least 1 and at most what an int32 holds (a limit of
// "unlimited" is the largest uint64).
func halfOf(soft uint64) int {
	return int(min(max(soft/2, 1), math.MaxInt32))
}

// connLimit is an http.Server ConnState hook that keeps the open client
// connections within max, so idle keep-alive clients cannot take every file
// descriptor and leave none for new clients or for the refresh.
//
// Once more than high connections are open, a new one first closes the
// connections idle longest (keep-alive clients between requests) until high
// are open again: new clients are served, and the last eighth of the limit
// stays free for them even when the idle connections left turn active
// meanwhile and can no longer be closed. Connections being served are never
// closed. When max are open and none is idle, a new
// connection is closed at once: its client sees the connection end at once
// instead of waiting in the listen backlog. Below high nothing is closed and
// the server's IdleTimeout alone applies.
//
// netutil.LimitListener is not used because it stops accepting at the limit,
// which leaves new clients hanging in the backlog while idle ones hold every
// slot; the hook sees each connection's state, which a listener cannot.
//
// Closing an idle connection races with a request the client may be sending
// on it at that moment, as closing it for the IdleTimeout does; HTTP clients
// send such an idempotent request again on a new connection.
type connLimit struct {
	max, high int
	log       *log.Logger // nil: the standard logger, as net/http does

	mu sync.Mutex
	// conns holds every open connection the limit admitted; the value is its
	// element in idle while it is idle, nil otherwise.
	conns map[net.Conn]*list.Element
	idle  list.List // of net.Conn, idle longest first
	// full is set when a connection is turned away and cleared once the
	// open ones fall to high, so each episode is logged once.
	full bool
}

func newConnLimit(n int, errLog *log.Logger) *connLimit {
	return &connLimit{max: n, high: n - n/8, log: errLog, conns: map[net.Conn]*list.Element{}}
}

func (l *connLimit) hook(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, known := l.conns[c]
	switch s {
	case http.StateNew:
		l.conns[c] = nil
		for len(l.conns) > l.high && l.idle.Len() > 0 {
			old := l.idle.Remove(l.idle.Front()).(net.Conn)
			delete(l.conns, old)
			// The server's read on it fails and it reports StateClosed,
			// which finds nothing to do. An error is a close racing with
			// the server's own: the connection is closed either way.
			old.Close() //nolint:errcheck // see above
		}
		if len(l.conns) > l.max {
			delete(l.conns, c)
			c.Close() //nolint:errcheck // as above: closed either way
			if !l.full {
				l.full = true
				l.printf("serve: %d client connections open, none idle: new connections are closed at once until some end (MaxConns)", l.max)
			}
			return
		}
		l.eased()
	case http.StateActive:
		if e != nil {
			l.idle.Remove(e)
			l.conns[c] = nil
		}
	case http.StateIdle:
		if known && e == nil {
			l.conns[c] = l.idle.PushBack(c)
		}
	case http.StateClosed, http.StateHijacked:
		if !known {
			return // turned away or closed as idle: already gone
		}
		if e != nil {
			l.idle.Remove(e)
		}
		delete(l.conns, c)
		l.eased()
	}
}

// eased ends an episode of turning connections away once no more than high
// are open.
func (l *connLimit) eased() {
	if l.full && len(l.conns) <= l.high {
		l.full = false
		l.printf("serve: client connections down to %d of %d: new connections are served again", len(l.conns), l.max)
	}
}

func (l *connLimit) printf(format string, args ...any) {
	if l.log != nil {
		l.log.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
