package deliver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
)

// t0 is the tests' start of time: a refresh at 06:00 UTC.
var t0 = time.Date(2026, 6, 13, 6, 0, 0, 0, time.UTC)

// waitLimit bounds every wait for something the code under test should do
// soon; hitting it is a failure, never the synchronisation.
const waitLimit = 20 * time.Second

// testPaper is paper i: an arXiv paper listed on Hugging Face with every
// field a message shows.
func testPaper(i int) paper.Paper {
	return paper.Paper{
		ID:          fmt.Sprintf("2606.%05d", i),
		Title:       fmt.Sprintf("Agents that plan, number %d", i),
		Abstract:    fmt.Sprintf("We study agents & tools <%d>. They plan, act and check what they did.", i),
		Authors:     []string{"Ada Lovelace", "Alan Turing"},
		Day:         time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC),
		Hub:         true,
		Upvotes:     i,
		GitHubRepo:  "https://github.com/example/agents",
		GitHubStars: 42,
		Sources:     []string{"hf"},
	}
}

func papers(from, n int) []paper.Paper {
	var out []paper.Paper
	for i := from; i < from+n; i++ {
		out = append(out, testPaper(i))
	}
	return out
}

// paperIDs are the IDs of papers from..from+n-1, newest (highest) first,
// as a feed lists them.
func paperIDs(from, n int) []string {
	var out []string
	for i := from + n - 1; i >= from; i-- {
		out = append(out, testPaper(i).ID)
	}
	return out
}

// history is a store file the tests open the way the app does: only
// inside with, one caller at a time.
type history struct {
	t    testing.TB
	path string
	mu   sync.Mutex
	// fail, when set, makes with fail (the history is locked, say).
	fail  error
	calls int
}

// count is how many times with was called.
func (h *history) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

func newHistory(t testing.TB) *history {
	return &history{t: t, path: filepath.Join(t.TempDir(), "paperfeed.db")}
}

func (h *history) with(fn func(*store.Store) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.fail != nil {
		return h.fail
	}
	s, err := store.OpenWith(h.path, store.Options{Wait: 10 * time.Second})
	if err != nil {
		return err
	}
	err = fn(s)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// merge adds papers first seen at now.
func (h *history) merge(ps []paper.Paper, now time.Time) {
	h.t.Helper()
	if err := h.with(func(s *store.Store) error {
		_, err := s.Merge(ps, now)
		return err
	}); err != nil {
		h.t.Fatalf("merge: %v", err)
	}
}

func (h *history) marks(target string, ids ...string) store.TargetMarks {
	h.t.Helper()
	var m store.TargetMarks
	if err := h.with(func(s *store.Store) error {
		var err error
		m, err = s.Marks(target, ids...)
		return err
	}); err != nil {
		h.t.Fatalf("marks: %v", err)
	}
	return m
}

// fakeClock is a clock the test moves; timers fire when it passes them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock(at time.Time) *fakeClock { return &fakeClock{now: at} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) timer(at time.Time) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if !at.After(c.now) {
		ch <- c.now
		return ch, func() bool { return false }
	}
	c.timers = append(c.timers, fakeTimer{at: at, c: ch})
	return ch, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		n := len(c.timers)
		c.timers = slices.DeleteFunc(c.timers, func(t fakeTimer) bool { return t.c == ch })
		return len(c.timers) < n
	}
}

// set moves the clock to at and fires the timers due.
func (c *fakeClock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = at
	c.timers = slices.DeleteFunc(c.timers, func(t fakeTimer) bool {
		if t.at.After(at) {
			return false
		}
		t.c <- at
		return true
	})
}

func (c *fakeClock) advance(d time.Duration) { c.set(c.Now().Add(d)) }

// reply is what a receiver answers one request.
type reply struct {
	status int
	header http.Header
	body   string
	hang   bool // answer nothing until the client gives up
}

// request is a request a receiver got.
type request struct {
	header http.Header
	body   []byte
	path   string
	at     time.Time
	status int // what it answered
}

// receiver is an HTTP server on 127.0.0.1 that answers as a platform does:
// the replies of its script in turn, then ok.
type receiver struct {
	srv *httptest.Server
	ok  reply

	mu     sync.Mutex
	script []reply
	got    []request // every request, answered or not
	taken  chan request
}

func newReceiver(t testing.TB, ok reply) *receiver {
	r := &receiver{ok: ok, taken: make(chan request, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	rep := r.ok
	if len(r.script) > 0 {
		rep, r.script = r.script[0], r.script[1:]
	}
	got := request{header: req.Header.Clone(), body: body, path: req.URL.Path, at: time.Now(), status: rep.status}
	if rep.hang {
		got.status = 0
	}
	r.got = append(r.got, got)
	r.mu.Unlock()
	if rep.hang {
		<-req.Context().Done()
		return
	}
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
	if rep.status/100 == 2 {
		r.taken <- got
	}
}

// then queues replies.
func (r *receiver) then(replies ...reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.script = append(r.script, replies...)
}

// requests is every request so far.
func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// accepted waits for n more accepted requests and returns them.
func (r *receiver) accepted(t testing.TB, n int) []request {
	t.Helper()
	var out []request
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for len(out) < n {
		select {
		case got := <-r.taken:
			out = append(out, got)
		case <-deadline.C:
			t.Fatalf("receiver: %d of %d messages accepted within %s; requests: %d", len(out), n, waitLimit, len(r.requests()))
		}
	}
	return out
}

// none checks that no accepted request is waiting.
func (r *receiver) none(t testing.TB) {
	t.Helper()
	select {
	case got := <-r.taken:
		t.Errorf("receiver: an unexpected message: %s", got.body)
	default:
	}
}

var (
	slackOK   = reply{status: 200, body: "ok"}
	discordOK = reply{status: 204}
	hookOK    = reply{status: 200, body: `{"ok":true}`}
	ntfyOK    = reply{status: 200, body: `{"id":"x","event":"message"}`}
)

// harness runs a Deliverer over a history with a fake clock and a hook
// that reports every wait.
type harness struct {
	t      testing.TB
	d      *Deliverer
	h      *history
	clock  *fakeClock
	logs   *syncBuffer
	cancel context.CancelFunc
	ran    chan struct{}
	once   sync.Once

	mu     sync.Mutex
	events map[string][]event // by target, not yet consumed
	more   chan struct{}      // poked on every event
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tuneForTests makes waits short and pacing none; tune, when set, changes
// more.
func tuneForTests(clock *fakeClock, tune func(*Deliverer)) func(*Deliverer) {
	return func(d *Deliverer) {
		d.timeout = 2 * time.Second
		d.backoffMin, d.backoffMax = time.Second, time.Minute
		d.pace = map[string]time.Duration{}
		if clock != nil {
			d.timer = clock.timer
		}
		if tune != nil {
			tune(d)
		}
	}
}

// start makes a Deliverer for targets over h, at the clock's time, tuned
// for tests (no pacing, backoffs from 1s on the fake clock), and runs it
// until the test ends.
func start(t testing.TB, h *history, clock *fakeClock, targets ...Target) *harness {
	t.Helper()
	return startTuned(t, h, clock, nil, targets...)
}

func startTuned(t testing.TB, h *history, clock *fakeClock, tune func(*Deliverer), targets ...Target) *harness {
	t.Helper()
	hs := &harness{t: t, h: h, clock: clock, logs: &syncBuffer{}, events: map[string][]event{}, more: make(chan struct{}, 1)}
	log := slog.New(slog.NewTextHandler(hs.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := newDeliverer(targets, h.with, log, clock.Now, tuneForTests(clock, func(d *Deliverer) {
		d.hook = hs.record
		if tune != nil {
			tune(d)
		}
	}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs.d = d
	ctx, cancel := context.WithCancel(context.Background())
	hs.cancel, hs.ran = cancel, make(chan struct{})
	go func() {
		d.Run(ctx)
		close(hs.ran)
	}()
	t.Cleanup(hs.stop)
	return hs
}

func (hs *harness) record(e event) {
	hs.mu.Lock()
	hs.events[e.target] = append(hs.events[e.target], e)
	hs.mu.Unlock()
	select {
	case hs.more <- struct{}{}:
	default:
	}
}

// stop stops the Deliverer and waits for it.
func (hs *harness) stop() { hs.once.Do(hs.stopOnce) }

func (hs *harness) stopOnce() {
	hs.cancel()
	<-hs.ran
	if err := hs.d.Close(); err != nil {
		hs.t.Errorf("Close: %v", err)
	}
	if hs.t.Failed() {
		hs.t.Logf("log:\n%s", hs.logs.String())
	}
}

// wait waits for an event of target that pred accepts, consuming the
// target's events up to it.
func (hs *harness) wait(target string, pred func(event) bool) event {
	hs.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		hs.mu.Lock()
		evs := hs.events[target]
		for i, e := range evs {
			if pred(e) {
				hs.events[target] = evs[i+1:]
				hs.mu.Unlock()
				return e
			}
		}
		hs.events[target] = nil
		hs.mu.Unlock()
		select {
		case <-hs.more:
		case <-deadline.C:
			hs.t.Fatalf("%s: no such wait within %s; status %+v", target, waitLimit, hs.d.Status())
		}
	}
}

// idle waits until target has taken in offers Offers and waits for papers
// with none owed.
func (hs *harness) idle(target string, offers int) {
	hs.t.Helper()
	hs.wait(target, func(e event) bool { return e.idle && e.offers >= offers && e.queued == 0 })
}

// waiting waits until target waits until a time after the clock's (a
// backoff, a digest) and returns it.
func (hs *harness) waiting(target string) time.Time {
	hs.t.Helper()
	return hs.wait(target, func(e event) bool { return !e.idle && e.until.After(hs.clock.Now()) }).until
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func slackTarget(name, url string, topics ...string) Target {
	return Target{Name: name, Type: TypeSlack, URL: url, Topics: topics, Backlog: 3}
}
