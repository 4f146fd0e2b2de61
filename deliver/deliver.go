// Package deliver is the delivery stage: it pushes the papers the feeds show
// to Slack, Discord, generic webhooks, ntfy and e-mail, each paper at most
// once to each target, whatever happens afterwards.
//
// # Contract
//
// The caller builds a Deliverer from the configured targets (New), calls
// Offer after every site build with what each topic's feeds show
// (site.Builder.Shown), and runs it (Run) until its context ends. Offer
// never blocks on I/O: it compares the IDs with what each target was given,
// is owed or passed over, in memory, and leaves the rest to the target's
// worker. Each target has a worker goroutine of its own, so a target that
// is down, slow or hanging never delays another, an Offer, or the feeds.
//
// The history is opened only through the with function New is given, for
// short reads and one-transaction writes (store.Store.Marks and SaveMarks,
// Get), from the workers; nothing calls with while the Deliverer's own locks
// are held, and Offer, Status, Observe and Reconfigure never call it, so the
// caller may call them while holding the lock its with takes. Close waits
// for the workers, which may be waiting in with: it must not be called
// with that lock held.
//
// What a target gets:
//
//   - At most once. A paper is marked delivered in the history (store's
//     marks) right after the target accepts the message, in one fsync'd
//     transaction, and a marked paper is never sent to that target again:
//     not when it changes, leaves and re-enters a topic, appears in two of
//     the target's topics, the config is reloaded, or the process restarts.
//     A crash between the target's answer and the mark can send that one
//     message again, once; so can a request that timed out after the target
//     took it (it is retried). Webhooks carry a stable X-Paperfeed-Delivery
//     and e-mails a stable Message-ID for receivers that drop repeats.
//   - Nothing lost. What a target is owed is queued in the history as well,
//     so it survives restarts. A target that cannot be reached, does not
//     answer in time, or answers 5xx, 408 or 429 keeps its queue and is tried
//     again after an exponential backoff (10 s doubling to 30 min), or after
//     what it asked: Retry-After (seconds or a date), Discord's retry_after.
//     A 401, 403, 404, 410 or a redirect means the target's URL or
//     credentials are wrong: nothing is marked and the queue waits an hour
//     (or a Reconfigure). Any other 4xx refuses that message for good: it
//     is logged, marked failed with the reason, and never retried, so a 400
//     never loops; the next message follows. SMTP: a 5xx reply to a message
//     is such a refusal, a 4xx or a broken connection a retry, failed
//     authentication or TLS the target's.
//   - Paced. Messages to one target go one at a time: Slack one a second,
//     ntfy and e-mail one a second, Discord as its X-RateLimit headers say
//     (at least 250 ms apart), webhooks as fast as the receiver answers.
//   - No flood. When a target first takes a topic (a new target, or a topic
//     added to one) it gets at most Backlog of the topic's newest papers,
//     then only papers first seen (paper.FirstSeen) since; that time is kept
//     in the history per target and topic. A topic the target no longer
//     takes loses its queued papers and its time, so taking it again is
//     taking it anew.
//   - Digests. A digest target gets, each day at At (UTC), one message per
//     topic with every paper it is owed in that topic (e-mail: one message
//     with a section per topic), and nothing when it is owed nothing. A
//     digest missed while the process was down is sent when it is back. A
//     message over a platform's limits is split (Slack 24 papers, Discord
//     10, ntfy 4,000 bytes), each part marked as it is accepted.
//
// Each message is cut to the platform's limits before it is sent (see the
// constants of each renderer); a cut text ends in "…".
//
// Secrets (the webhook URLs of Slack, Discord and ntfy, the SMTP URL and
// its password, a webhook's secret) never appear in logs, errors or Status:
// errors of net/http, which name the URL, are unwrapped, and every line is
// passed through the target's redactor.
package deliver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/paperfeed/paperfeed/store"
)

// TargetStatus is one target's state, for /healthz and the index.
type TargetStatus struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Mode string `json:"mode"`
	// LastSuccess is when the target last accepted a message.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Queued is how many papers it is owed.
	Queued int `json:"queued"`
	// LastError says in one line, without secrets, what went wrong last;
	// LastErrorAt when. A LastSuccess after it means the target recovered.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Next is when the target is next tried (a backoff, a digest), or
	// zero when it waits for papers.
	Next time.Time `json:"next,omitzero"`
}

// Deliverer delivers papers to its targets. Its methods are safe for
// concurrent use.
type Deliverer struct {
	with func(fn func(*store.Store) error) error
	log  *slog.Logger
	now  func() time.Time

	// Tuning, fixed by New; tests shorten it (newDeliverer).
	timeout     time.Duration            // per request
	backoffMin  time.Duration            // first wait after a failure
	backoffMax  time.Duration            // longest
	refusedWait time.Duration            // after the target refused us (401, 404...)
	pace        map[string]time.Duration // least time between two messages, by type
	// timer fires at until by the clock now reads; an until already past
	// fires at once. It takes the instant, not a duration, so a clock that
	// moves between reading now and arming the timer cannot shift it.
	timer     func(until time.Time) (<-chan time.Time, func() bool)
	tlsConfig *tls.Config // e-mail: nil checks the server against the system's roots
	hook      func(event) // tests: told when a worker waits
	observe   func(target, result string, queued int)

	mu      sync.Mutex
	workers map[string]*worker
	order   []string // target names in config order
	running bool
	closed  bool
	runCtx  context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// event is what a worker tells the test hook before it waits.
type event struct {
	target string
	idle   bool      // waiting for papers
	until  time.Time // else waiting until then
	offers int       // Offers the worker has taken in so far
	queued int
}

// Defaults of the tuning.
const (
	defaultTimeout     = 30 * time.Second
	defaultBackoffMin  = 10 * time.Second
	defaultBackoffMax  = 30 * time.Minute
	defaultRefusedWait = time.Hour
)

// defaultPace is the least time between two messages to one target, by
// type: Slack asks for about one a second per channel; Discord's own
// headers pace it beyond its floor; ntfy.sh refills a visitor's burst at
// one message every few seconds; mail servers dislike bursts.
var defaultPace = map[string]time.Duration{
	TypeSlack:   time.Second,
	TypeDiscord: 250 * time.Millisecond,
	TypeNtfy:    time.Second,
	TypeEmail:   time.Second,
	TypeWebhook: 0,
}

// New checks the targets (names unique, fields valid for their type) and
// returns a Deliverer for them. with opens the history for fn and closes it
// after; now is the clock (UTC or not: times are stored in UTC). Nothing is
// read or sent before Run.
func New(targets []Target, with func(fn func(*store.Store) error) error, log *slog.Logger, now func() time.Time) (*Deliverer, error) {
	return newDeliverer(targets, with, log, now, nil)
}

// newDeliverer is New with the tuning changed by tune, before any target's
// sender is made.
func newDeliverer(targets []Target, with func(fn func(*store.Store) error) error, log *slog.Logger, now func() time.Time, tune func(*Deliverer)) (*Deliverer, error) {
	if with == nil || log == nil || now == nil {
		return nil, errors.New("deliver: New needs with, a logger and a clock")
	}
	d := &Deliverer{
		with: with, log: log, now: now,
		timeout: defaultTimeout, backoffMin: defaultBackoffMin, backoffMax: defaultBackoffMax,
		refusedWait: defaultRefusedWait, pace: defaultPace,
		timer: func(until time.Time) (<-chan time.Time, func() bool) {
			t := time.NewTimer(until.Sub(now()))
			return t.C, t.Stop
		},
		workers: map[string]*worker{},
	}
	if tune != nil {
		tune(d)
	}
	checked, err := checkAll(targets)
	if err != nil {
		return nil, err
	}
	for _, t := range checked {
		d.workers[t.Name] = newWorker(d, t)
		d.order = append(d.order, t.Name)
	}
	return d, nil
}

// checkAll checks every target and that their names are unique.
func checkAll(targets []Target) ([]checked, error) {
	var errs []error
	var out []checked
	seen := map[string]bool{}
	for _, t := range targets {
		c, err := t.check()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("%w %q: the name is used twice", ErrTarget, c.Name))
			continue
		}
		seen[c.Name] = true
		out = append(out, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Offer gives the Deliverer what every topic's feeds show now: for each
// topic slug, the IDs of its papers in feed order (newest first). Each
// target queues, in memory at once and in the history soon after, the
// papers it takes that it was not given and is owed. Offer does no I/O and
// returns at once; shown is not changed, nor kept. An empty shown (no build
// yet) is ignored.
func (d *Deliverer) Offer(shown map[string][]string) {
	if len(shown) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	now := d.now()
	for _, name := range d.order {
		d.workers[name].offer(shown, now)
	}
}

// Results of an attempt, for Observe.
const (
	ResultOK          = "ok"
	ResultError       = "error"
	ResultRateLimited = "rate_limited" // the target said to wait (HTTP 429)
)

// Observe makes fn be told of every attempt to send a message: the
// target's name, the result (ResultOK, ResultError or ResultRateLimited)
// and how many papers the target is owed after it. fn is called from the
// target's worker and must return quickly. Call Observe before Run.
func (d *Deliverer) Observe(fn func(target, result string, queued int)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.observe = fn
}

// Run runs every target's worker until ctx ends or Close is called, and
// returns once they all stopped. A second Run returns at once.
func (d *Deliverer) Run(ctx context.Context) {
	d.mu.Lock()
	if d.running || d.closed {
		d.mu.Unlock()
		return
	}
	d.running = true
	d.runCtx, d.cancel = context.WithCancel(ctx)
	for _, name := range d.order {
		d.start(d.workers[name])
	}
	runCtx := d.runCtx
	d.mu.Unlock()
	<-runCtx.Done()
	d.wg.Wait()
}

// start starts w's goroutine. The caller holds d.mu and Run is running.
func (d *Deliverer) start(w *worker) {
	ctx, cancel := context.WithCancel(d.runCtx)
	w.stop = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		w.run(ctx)
	}()
}

// Reconfigure replaces the targets, as after a config reload: a target
// whose name stays keeps its marks, its queue and its state, and takes its
// new settings (a topic it no longer takes loses its queued papers at the
// next Offer); a new one starts as new; a removed one stops, its marks
// kept in the history (the same name added again is the same target). On
// an error nothing changes.
func (d *Deliverer) Reconfigure(targets []Target) error {
	checked, err := checkAll(targets)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errors.New("deliver: Reconfigure after Close")
	}
	keep := map[string]bool{}
	var order []string
	for _, t := range checked {
		keep[t.Name] = true
		order = append(order, t.Name)
		if w, ok := d.workers[t.Name]; ok {
			w.reconfigure(t)
			continue
		}
		w := newWorker(d, t)
		d.workers[t.Name] = w
		if d.running {
			d.start(w)
		}
	}
	for name, w := range d.workers {
		if !keep[name] {
			if w.stop != nil {
				w.stop()
			}
			delete(d.workers, name)
		}
	}
	d.order = order
	return nil
}

// Status is every target's state, in config order.
func (d *Deliverer) Status() []TargetStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]TargetStatus, 0, len(d.order))
	for _, name := range d.order {
		out = append(out, d.workers[name].status())
	}
	return out
}

// Close stops the workers, waits for them (a request under way is
// abandoned, its message stays queued) and makes Offer do nothing. It
// always returns nil.
func (d *Deliverer) Close() error {
	d.mu.Lock()
	d.closed = true
	cancel := d.cancel
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	d.wg.Wait()
	return nil
}

// names is the targets' names, for tests.
func (d *Deliverer) names() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.order)
}
