package deliver

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
)

// state is what a worker knows of a paper it was offered.
type state uint8

const (
	resolving state = iota + 1 // offered, not yet looked up in the history
	queued                     // owed to the target
	done                       // given (accepted or refused for good)
	old                        // first seen before the target took its topic
	gone                       // not in the history (pruned)
)

// knownPaper is a paper the worker was offered and what it knows of it.
type knownPaper struct {
	st state
	// For old: the topic it was found old in and, when it was read, its
	// FirstSeen, so that a topic the target took earlier can still take
	// it.
	topic     string
	firstSeen time.Time
}

// cand is a paper offered in a topic, to be looked up.
type cand struct {
	id, topic string
	backlog   bool // one of a newly taken topic's newest
}

// item is a paper owed to the target.
type item struct {
	id, topic string
	at        time.Time
}

// worker delivers to one target. Fields under mu are shared with Offer and
// Status; the rest belong to the worker's goroutine.
type worker struct {
	d    *Deliverer
	name string
	wake chan struct{}
	stop context.CancelFunc // set by Deliverer.start

	mu     sync.Mutex
	cfg    Target
	ren    renderer
	snd    sender
	red    redactor
	at     time.Duration // digest time of day
	loaded bool
	inbox  []map[string][]string // offers before the history was read
	offers int
	// since is when the target took each topic; newSince, forget, drops
	// and digestDirty are changes not yet written to the history.
	since       map[string]time.Time
	newSince    map[string]time.Time
	forget      []string
	drops       []string
	known       map[string]knownPaper
	cands       []cand
	queue       []item
	digestAt    time.Time // when the last digest was due (or the target was first seen)
	digestDirty bool
	lastSuccess time.Time
	lastError   string
	lastErrorAt time.Time
	next        time.Time
	// reset asks the goroutine to drop its digest batch and backoff: the
	// settings changed.
	reset bool

	// The goroutine's own.
	log       *slog.Logger
	notBefore time.Time // no message before (pacing, a backoff)
	// storeNotBefore is the backoff after the history failed: nothing
	// is done before.
	storeNotBefore time.Time
	backoff        time.Duration
	unmarked       *markDue  // accepted, not yet marked in the history
	batch          []message // the digest being sent
	batchDue       time.Time
}

// markDue is a mark to write.
type markDue struct {
	ids    []string
	mark   store.Mark
	digest time.Time
}

func newWorker(d *Deliverer, t checked) *worker {
	w := &worker{d: d, name: t.Name, wake: make(chan struct{}, 1), since: map[string]time.Time{},
		newSince: map[string]time.Time{}, known: map[string]knownPaper{}}
	w.log = d.log.With("target", t.Name)
	w.setConfig(t)
	return w
}

// setConfig applies a checked target. The caller holds mu, or owns w. The
// renderer and sender get a copy of their own: the goroutine uses them
// outside mu.
func (w *worker) setConfig(t checked) {
	w.cfg, w.at = t.Target, t.at
	w.red = newRedactor(t.secrets()...)
	own := t.Target
	switch t.Type {
	case TypeSlack:
		w.ren = slack{&own}
	case TypeDiscord:
		w.ren = discord{&own}
	case TypeWebhook:
		w.ren = webhook{&own}
	case TypeNtfy:
		w.ren = ntfy{&own}
	case TypeEmail:
		w.ren = newEmail(&own, w.d.now)
	}
	if w.snd != nil {
		// A request under way goes on; only idle connections close.
		w.snd.close()
	}
	if t.Type == TypeEmail {
		w.snd = &emailSender{srv: t.smtp, timeout: w.d.timeout, tls: w.d.tlsConfig, red: w.red}
	} else {
		w.snd = newHTTPSender(&own, w.d.timeout, w.red, w.d.now)
	}
}

func (w *worker) reconfigure(t checked) {
	w.mu.Lock()
	defer w.mu.Unlock()
	mode := w.cfg.Mode
	w.setConfig(t)
	if len(t.Topics) > 0 && w.loaded {
		// Topics the target no longer names are left now, not at the next
		// Offer: until then the worker would send their queued papers.
		w.leave(t.Topics)
	}
	if t.Mode != mode && t.Mode == ModeDigest && w.digestAt.IsZero() {
		w.digestAt, w.digestDirty = w.d.now(), true
	}
	// New settings: a digest being sent is rendered again (its papers
	// are still queued), and a target that failed is tried at once.
	w.reset = true
	w.poke()
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) status() TargetStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return TargetStatus{Name: w.name, Type: w.cfg.Type, Mode: w.cfg.Mode, LastSuccess: w.lastSuccess,
		Queued: len(w.queue), LastError: w.lastError, LastErrorAt: w.lastErrorAt, Next: w.next}
}

// topics are the slugs the target takes of shown, in its order: its
// Topics, or every topic offered, sorted.
func (w *worker) topics(shown map[string][]string) []string {
	if len(w.cfg.Topics) > 0 {
		return w.cfg.Topics
	}
	return slices.Sorted(maps.Keys(shown))
}

// offer takes in an Offer (see Deliverer.Offer). The caller holds d.mu.
func (w *worker) offer(shown map[string][]string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.poke()
	if !w.loaded {
		// Kept until the history is read; the copy is the caller's no more.
		c := make(map[string][]string, len(shown))
		for k, v := range shown {
			c[k] = slices.Clone(v)
		}
		w.inbox = append(w.inbox, c)
		return
	}
	w.take(shown, now)
}

// leave makes the worker take only the topics taken: the others lose their
// time and their queue. The caller holds mu.
func (w *worker) leave(taken []string) {
	takes := map[string]bool{}
	for _, slug := range taken {
		takes[slug] = true
	}
	for slug := range w.since {
		if !takes[slug] {
			delete(w.since, slug)
			delete(w.newSince, slug)
			w.forget = append(w.forget, slug)
		}
	}
	w.queue = slices.DeleteFunc(w.queue, func(it item) bool {
		if takes[it.topic] {
			return false
		}
		w.drops = append(w.drops, it.id)
		delete(w.known, it.id)
		return true
	})
}

// take compares an offer with what the worker knows. The caller holds mu.
func (w *worker) take(shown map[string][]string, now time.Time) {
	w.offers++
	taken := w.topics(shown)
	w.leave(taken)

	next := make(map[string]knownPaper, len(w.known))
	// Topics the target took before first, so that a paper in one of them
	// and in a newly taken one is judged by the older one.
	var fresh []string
	for _, slug := range taken {
		ids, ok := shown[slug]
		if !ok {
			continue
		}
		since, had := w.since[slug]
		if !had {
			fresh = append(fresh, slug)
			continue
		}
		var cs []cand
		for _, id := range ids {
			if _, ok := next[id]; ok {
				continue
			}
			k, ok := w.known[id]
			if ok && (k.st != old || k.firstSeen.IsZero() && k.topic == slug || !k.firstSeen.IsZero() && k.firstSeen.Before(since)) {
				next[id] = k
				continue
			}
			cs = append(cs, cand{id: id, topic: slug})
			next[id] = knownPaper{st: resolving}
		}
		slices.Reverse(cs) // oldest first
		w.cands = append(w.cands, cs...)
	}
	for _, slug := range fresh {
		w.since[slug], w.newSince[slug] = now, now
		var cs []cand
		for _, id := range shown[slug] {
			if _, ok := next[id]; ok {
				continue
			}
			if k, ok := w.known[id]; ok && k.st != old {
				next[id] = k
				continue
			}
			if len(cs) < w.cfg.Backlog {
				cs = append(cs, cand{id: id, topic: slug, backlog: true})
				next[id] = knownPaper{st: resolving}
			} else {
				// Listed when the target took the topic: first seen
				// before.
				next[id] = knownPaper{st: old, topic: slug}
			}
		}
		slices.Reverse(cs)
		w.cands = append(w.cands, cs...)
	}
	// What is being looked up or owed stays known, offered or not.
	for id, k := range w.known {
		if _, ok := next[id]; !ok && (k.st == resolving || k.st == queued) {
			next[id] = k
		}
	}
	w.known = next
}

// run is the worker's loop: a step, then a wait until the step's time, an
// Offer or a Reconfigure, or the end.
func (w *worker) run(ctx context.Context) {
	defer func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.snd.close()
	}()
	for ctx.Err() == nil {
		until, idle := w.step(ctx)
		w.mu.Lock()
		w.next = until
		ev := event{target: w.name, idle: idle, until: until, offers: w.offers, queued: len(w.queue)}
		more := len(w.cands) > 0 && w.storeNotBefore.IsZero()
		w.mu.Unlock()
		if more {
			continue // the next batch of lookups first
		}
		var fire <-chan time.Time
		stop := func() bool { return false }
		if !idle {
			if !until.After(w.d.now()) {
				continue
			}
			fire, stop = w.d.timer(until)
		}
		if w.d.hook != nil {
			w.d.hook(ev)
		}
		select {
		case <-ctx.Done():
			stop()
			return
		case <-w.wake:
			stop()
		case <-fire:
		}
	}
}

// step does the next piece of work and says when to step again: at until,
// or (idle) when woken.
func (w *worker) step(ctx context.Context) (until time.Time, idle bool) {
	now := w.d.now()
	w.mu.Lock()
	if w.reset {
		w.reset, w.batch, w.notBefore, w.backoff = false, nil, time.Time{}, 0
	}
	w.mu.Unlock()
	if now.Before(w.storeNotBefore) {
		return w.storeNotBefore, false
	}
	if !w.isLoaded() {
		if err := w.load(now); err != nil {
			return w.failed(now, "read the history", err), false
		}
	}
	if w.unmarked != nil {
		if err := w.mark(*w.unmarked); err != nil {
			return w.failed(now, "mark delivered papers in the history", err), false
		}
		w.unmarked = nil
	}
	if err := w.sync(now); err != nil {
		return w.failed(now, "update the history", err), false
	}
	if !w.storeNotBefore.IsZero() {
		// The history is back.
		w.storeNotBefore, w.backoff = time.Time{}, 0
	}
	if now.Before(w.notBefore) {
		return w.notBefore, false
	}
	w.mu.Lock()
	cfg := w.cfg
	w.mu.Unlock()
	if cfg.Mode == ModeDigest {
		return w.stepDigest(ctx, now)
	}
	return w.stepEach(ctx, now)
}

func (w *worker) isLoaded() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.loaded
}

// failed records a failure of the history and backs off.
func (w *worker) failed(now time.Time, what string, err error) time.Time {
	w.log.Error("delivery: cannot "+what, "err", err)
	w.setError(now, fmt.Sprintf("cannot %s: %v", what, err))
	w.backoff = w.nextBackoff()
	w.storeNotBefore = now.Add(w.backoff)
	return w.storeNotBefore
}

func (w *worker) setError(now time.Time, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastError, w.lastErrorAt = w.red.line(msg), now
}

func (w *worker) nextBackoff() time.Duration {
	if w.backoff == 0 {
		return w.d.backoffMin
	}
	return min(2*w.backoff, w.d.backoffMax)
}

// load reads the target's marks: its topics' times, its queue, its last
// digest; then takes in the offers that came before.
func (w *worker) load(now time.Time) error {
	var m store.TargetMarks
	err := w.d.with(func(s *store.Store) error {
		var err error
		m, err = s.Marks(w.name)
		return err
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	maps.Copy(w.since, m.Since)
	for id, p := range m.Pending {
		w.queue = append(w.queue, item{id: id, topic: p.Topic, at: p.At})
		w.known[id] = knownPaper{st: queued}
	}
	slices.SortFunc(w.queue, func(a, b item) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.id, b.id)) })
	w.digestAt = m.Digest
	if w.digestAt.IsZero() {
		// A target owes no digest from before it was first seen.
		w.digestAt, w.digestDirty = now, true
	}
	w.loaded = true
	for _, shown := range w.inbox {
		w.take(shown, now)
	}
	w.inbox = nil
	return nil
}

// lookupBatch bounds the papers one sync looks up: after a restart every
// paper the feeds show is looked up once (some 15 ms a thousand), and with
// holds the caller's lock meanwhile, which its refreshes wait for.
const lookupBatch = 1000

// sync looks up to lookupBatch offered papers up and writes what changed
// (topics taken or left, papers queued or dropped) in one transaction. The
// rest wait for the next step.
func (w *worker) sync(now time.Time) error {
	w.mu.Lock()
	cands := w.cands[:min(len(w.cands), lookupBatch)]
	rest := w.cands[len(cands):]
	since := maps.Clone(w.since)
	u := store.MarkUpdate{Since: maps.Clone(w.newSince), Forget: slices.Clone(w.forget), Drop: slices.Clone(w.drops)}
	if w.digestDirty {
		u.Digest = w.digestAt
	}
	nForget, nDrops := len(w.forget), len(w.drops)
	w.cands = slices.Clone(rest)
	w.mu.Unlock()
	if len(cands) == 0 && len(u.Since) == 0 && len(u.Forget) == 0 && len(u.Drop) == 0 && u.Digest.IsZero() {
		return nil
	}

	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.id
	}
	decided := make([]knownPaper, len(cands))
	err := w.d.with(func(s *store.Store) error {
		m, err := s.Marks(w.name, ids...)
		if err != nil {
			return err
		}
		var need []string
		for _, id := range ids {
			if _, ok := m.Done[id]; !ok {
				need = append(need, id)
			}
		}
		papers, err := s.Get(need...)
		if err != nil {
			return err
		}
		u.Pending = map[string]store.Pending{}
		for i, c := range cands {
			p := papers[c.id]
			_, owed := m.Pending[c.id]
			switch t, taken := since[c.topic]; {
			case isDone(m.Done, c.id):
				decided[i] = knownPaper{st: done}
			case owed:
				decided[i] = knownPaper{st: queued}
			case p == nil:
				decided[i] = knownPaper{st: gone}
			case !taken:
				decided[i] = knownPaper{} // the topic was left meanwhile: look again if offered
			case c.backlog || !p.FirstSeen.Before(t):
				decided[i] = knownPaper{st: queued}
				u.Pending[c.id] = store.Pending{Topic: c.topic, At: now, Backlog: c.backlog}
			default:
				decided[i] = knownPaper{st: old, topic: c.topic, firstSeen: p.FirstSeen}
			}
		}
		return s.SaveMarks(w.name, u)
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.cands = append(slices.Clone(cands), w.cands...)
		return err
	}
	for slug, t := range u.Since {
		if w.newSince[slug].Equal(t) {
			delete(w.newSince, slug)
		}
	}
	w.forget = w.forget[nForget:]
	w.drops = w.drops[nDrops:]
	if !u.Digest.IsZero() && w.digestAt.Equal(u.Digest) {
		w.digestDirty = false
	}
	for i, c := range cands {
		k := decided[i]
		if cur, ok := w.known[c.id]; !ok || cur.st != resolving {
			// Dropped (its topic was left) or decided otherwise meanwhile.
			if _, owed := u.Pending[c.id]; owed && !ok {
				w.drops = append(w.drops, c.id)
			}
			continue
		}
		if k.st == 0 {
			delete(w.known, c.id)
			continue
		}
		w.known[c.id] = k
		if _, owed := u.Pending[c.id]; owed {
			w.queue = append(w.queue, item{id: c.id, topic: c.topic, at: now})
		}
	}
	return nil
}

func isDone(m map[string]store.Mark, id string) bool {
	_, ok := m[id]
	return ok
}

// stepEach sends the oldest paper owed, one message.
func (w *worker) stepEach(ctx context.Context, now time.Time) (time.Time, bool) {
	w.mu.Lock()
	if len(w.queue) == 0 {
		w.mu.Unlock()
		return time.Time{}, true
	}
	it := w.queue[0]
	ren := w.ren
	w.mu.Unlock()
	p, err := w.paper(it.id)
	if err != nil {
		return w.failed(now, "read a paper from the history", err), false
	}
	if p == nil {
		w.dropGone(it.id)
		return now, false
	}
	m, err := ren.each(p, it.topic)
	if err != nil {
		w.refuse(now, []string{it.id}, "cannot render the message: "+err.Error())
		return now, false
	}
	return w.send(ctx, &m, time.Time{}), false
}

// paper reads one paper; nil when the history no longer has it.
func (w *worker) paper(id string) (*paper.Paper, error) {
	var p *paper.Paper
	err := w.d.with(func(s *store.Store) error {
		got, err := s.Get(id)
		p = got[id]
		return err
	})
	return p, err
}

// dropGone takes a paper the history no longer has off the queue.
func (w *worker) dropGone(id string) {
	w.log.Info("delivery: paper no longer in the history, dropped from the queue", "paper", id)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.unqueue([]string{id})
	w.known[id] = knownPaper{st: gone}
	w.drops = append(w.drops, id)
}

// unqueue takes ids off the queue. The caller holds mu.
func (w *worker) unqueue(ids []string) {
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	w.queue = slices.DeleteFunc(w.queue, func(it item) bool { return set[it.id] })
}

// latestDue is the last time of day at at or before now.
func latestDue(now time.Time, at time.Duration) time.Time {
	now = now.UTC()
	due := now.Truncate(24 * time.Hour).Add(at)
	if due.After(now) {
		due = due.AddDate(0, 0, -1)
	}
	return due
}

// stepDigest sends the digest once it is due: the digest of the last
// digest time that passed, if the target has not had it.
func (w *worker) stepDigest(ctx context.Context, now time.Time) (time.Time, bool) {
	w.mu.Lock()
	last, due := w.digestAt, latestDue(now, w.at)
	w.mu.Unlock()
	if len(w.batch) == 0 {
		if !last.Before(due) {
			return due.AddDate(0, 0, 1), false
		}
		msgs, err := w.render(now, due)
		if err != nil {
			return w.failed(now, "read papers from the history", err), false
		}
		if len(msgs) == 0 {
			// Nothing owed: no message, and the day is done.
			w.mu.Lock()
			w.digestAt, w.digestDirty = due, true
			w.mu.Unlock()
			return now, false
		}
		w.batch, w.batchDue = msgs, due
	}
	var digest time.Time
	if len(w.batch) == 1 {
		digest = w.batchDue // the last part also records the day as done
	}
	return w.send(ctx, &w.batch[0], digest), false
}

// render renders the digest due at due of every paper owed.
func (w *worker) render(now, due time.Time) ([]message, error) {
	w.mu.Lock()
	ren := w.ren
	order := w.topics(nil)
	byTopic := map[string][]string{}
	for _, it := range w.queue {
		byTopic[it.topic] = append(byTopic[it.topic], it.id)
	}
	w.mu.Unlock()
	if len(byTopic) == 0 {
		return nil, nil
	}
	if len(order) == 0 {
		order = slices.Sorted(maps.Keys(byTopic))
	}
	var all []string
	for _, slug := range order {
		all = append(all, byTopic[slug]...)
	}
	var papers map[string]*paper.Paper
	err := w.d.with(func(s *store.Store) error {
		var err error
		papers, err = s.Get(all...)
		return err
	})
	if err != nil {
		return nil, err
	}
	var groups []group
	for _, slug := range order {
		g := group{topic: slug}
		for _, id := range byTopic[slug] {
			if p := papers[id]; p != nil {
				g.papers = append(g.papers, p)
			} else {
				w.dropGone(id)
			}
		}
		if len(g.papers) > 0 {
			groups = append(groups, g)
		}
	}
	msgs, err := ren.digest(due, groups)
	if err != nil {
		// Not the history's fault: refuse the papers rather than retry.
		var all []string
		for _, g := range groups {
			all = append(all, ids(g.papers)...)
		}
		w.refuse(now, all, "cannot render the digest: "+err.Error())
		return nil, nil
	}
	return msgs, nil
}

// send sends m and deals with the outcome; digest, when not zero, is
// recorded as the last digest with m's marks. It returns when to step
// again.
func (w *worker) send(ctx context.Context, m *message, digest time.Time) time.Time {
	w.mu.Lock()
	snd, pace := w.snd, w.d.pace[w.cfg.Type]
	w.mu.Unlock()
	start := w.d.now()
	res := snd.send(ctx, m)
	now := w.d.now()
	if ctx.Err() != nil {
		return now // stopping: the message stays queued
	}
	log := w.log.With("papers", len(m.ids), "topic", m.topic, "detail", res.detail)
	switch res.outcome {
	case accepted:
		w.backoff = 0
		w.notBefore = start.Add(max(pace, res.wait))
		if res.wait > pace {
			w.notBefore = now.Add(res.wait)
		}
		w.done(now, m, store.Mark{At: now}, digest)
		w.mu.Lock()
		w.lastSuccess = now
		w.mu.Unlock()
		log.Info("delivered", "ids", preview(m.ids), "took", now.Sub(start).Round(time.Millisecond))
	case retry:
		w.backoff = w.nextBackoff()
		wait := max(w.backoff, res.wait)
		w.notBefore = now.Add(wait)
		w.setError(now, res.detail)
		log.Warn("delivery failed, will retry", "retry_in", wait)
	case refusedMessage:
		w.backoff = 0
		w.notBefore = now.Add(pace)
		w.done(now, m, store.Mark{At: now, Failed: res.detail}, digest)
		w.setError(now, "refused a message for good: "+res.detail)
		log.Error("delivery refused for good: the papers are marked failed and not sent again", "ids", preview(m.ids))
	case refusedTarget:
		w.notBefore = now.Add(w.d.refusedWait)
		w.setError(now, "refused: check its url or credentials: "+res.detail)
		log.Error("delivery target refused us: check its url or credentials; the queue waits", "retry_in", w.d.refusedWait)
	}
	w.d.mu.Lock()
	observe := w.d.observe
	w.d.mu.Unlock()
	if observe != nil {
		result := ResultError
		switch {
		case res.outcome == accepted:
			result = ResultOK
		case res.limited:
			result = ResultRateLimited
		}
		w.mu.Lock()
		queued := len(w.queue)
		w.mu.Unlock()
		observe(w.name, result, queued)
	}
	return w.notBefore
}

// refuse marks papers failed that cannot be sent at all.
func (w *worker) refuse(now time.Time, ids []string, why string) {
	w.log.Error("delivery: "+why, "ids", preview(ids))
	w.setError(now, why)
	w.done(now, &message{ids: ids}, store.Mark{At: now, Failed: why}, time.Time{})
}

// done records that m's papers were given (mark says how) and writes it to
// the history; if the write fails, it is written before anything else is
// sent. digest, when not zero, is the day the last part of a digest
// completes.
func (w *worker) done(now time.Time, m *message, mark store.Mark, digest time.Time) {
	w.mu.Lock()
	w.unqueue(m.ids)
	for _, id := range m.ids {
		w.known[id] = knownPaper{st: done}
	}
	if !digest.IsZero() {
		w.digestAt = digest
	}
	w.mu.Unlock()
	if len(w.batch) > 0 && &w.batch[0] == m {
		w.batch = w.batch[1:]
	}
	due := markDue{ids: m.ids, mark: mark, digest: digest}
	if err := w.mark(due); err != nil {
		w.unmarked = &due
		w.failed(now, "mark delivered papers in the history", err)
	}
}

// mark writes a mark to the history.
func (w *worker) mark(m markDue) error {
	u := store.MarkUpdate{Done: map[string]store.Mark{}, Digest: m.digest}
	for _, id := range m.ids {
		u.Done[id] = m.mark
	}
	return w.d.with(func(s *store.Store) error { return s.SaveMarks(w.name, u) })
}

// preview is the first few of ids, for a log line.
func preview(ids []string) []string {
	if len(ids) > 5 {
		return append(slices.Clone(ids[:5]), fmt.Sprintf("and %d more", len(ids)-5))
	}
	return ids
}
