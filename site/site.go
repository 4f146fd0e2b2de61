// Package site is the site-building stage: from the history and the
// configured topics it decides which papers each topic's feeds show, what
// changed since the last build, and writes what changed.
//
// # Contract
//
// A Builder keeps, for each topic, its members: the IDs of the papers the
// topic takes, in feed order (Compare), with the key that orders them, a
// hash of each paper's content and the terms the topic takes it by. It holds at most twice the topic's limit of
// them (the reserve lets a paper leave a full topic without a new scan of
// the history) and knows whether they are all the papers the topic takes.
// Memory is bounded by that, never by the size of the history.
//
// A like-topic (one in Config.Picks) is not routed: its members are exactly
// the papers the learning stage chose for it (Pick), those of them still in
// the history, in feed order, each with the pick's terms; all of them are
// kept, and the feeds show the first limit. Its members are read again (by
// store.Get) when they may differ from the picks: its state is new, or a
// Build is told that one of its picks changed or was pruned. Its files are
// rendered again when the picks change, as when a keyword topic's rules
// do.
//
// Build takes the papers a refresh changed and the IDs it pruned, routes only
// those, and updates the members. A topic is routed over the whole history
// (one pass of store.ForEach for every such topic at once) only when its
// members cannot be trusted or completed: it is new, its rules or limit
// changed, the history moved on without it (a crash between a merge and the
// state that follows it), or papers left it until fewer than its limit
// remain while others it takes lie beyond the reserve.
//
// Each topic has six feeds: its papers (feed.Render: Atom, RSS, JSON Feed)
// and its daily digest (feed.Daily: the same three formats, one item per
// listing day). The digest lists the days of the papers the topic's feeds
// show; when the topic takes more papers than its limit, the oldest of
// those days is left out, since the limit may cut it (feed.Topic.More). The
// six are rendered only when what they are rendered from changed: the
// topic's text, the site (its hub included), the shown papers and their
// content, and whether the topic takes more. Every feed is written with a
// gzip copy beside it (<name>.gz, as nginx's gzip_static expects), each
// through a feed.Writer, which leaves a file that already holds the same
// bytes untouched; Result.Changed lists the public URL of each feed whose
// bytes changed, for WebSub. The directories are then synced, once each,
// so that the renames last through a crash of the machine; feeds.opml and
// index.html follow and are synced in turn, then the files of topics no
// longer configured are removed (their digests too), so a reader never
// finds a link to a feed that is not there, not even after a power loss.
//
// A write that fails (a full disk, a read-only directory, no file
// descriptor left, a directory where a feed should be), or a directory
// that cannot be synced, ends the Build with an error naming the file or
// the directory. Every file already on disk stays whole (feed.Writer
// replaces files by rename); index.html and feeds.opml are not written and
// no file is removed, since they could then link to a feed that is not
// there; and a topic whose files failed, or were not synced, is not
// recorded as written, so the next Build writes it again even when
// nothing changed. A directory that failed to sync is synced again by the
// next Build before it reports success.
//
// # State
//
// The members and what was last rendered are kept in the store's state
// bucket under "topic/<slug>" and "gen" (the history generation they
// reflect), saved after the files are written and synced (also after a
// write failed, for the topics whose files were), so the next process starts
// where this one stopped; a build that changed nothing saves nothing. Other
// keys of the bucket are left alone. A topic state carries a version: one
// saved by an earlier release, whose members may be ordered by other keys,
// is not trusted and the topic is routed again.
//
// The store is passed to every call, not kept: the caller may hold the
// history open only while it writes to it. Load reads the saved state
// unless the Builder's own state already reflects the store's generation
// (the one its last Load or Build saw), so calling it after every open is
// cheap, and a history another process changed meanwhile is read again.
// Build trusts that the papers it is given are every change since that
// generation.
package site

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/klauspost/compress/gzip"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

// formats are the feed files written for every topic, by extension: the
// three documents of feed.Render, then the three of feed.Daily.
var formats = []string{"atom", "rss", "json", feed.DailyPrefix + "atom", feed.DailyPrefix + "rss", feed.DailyPrefix + "json"}

// gzExt is the extension of a feed's precompressed copy.
const gzExt = ".gz"

// indexNewest is how many of a topic's newest papers feed.Index lists.
const indexNewest = 5

// stateGen is the state key holding the store generation the members
// reflect; topic states are under statePrefix + slug.
const (
	stateGen    = "gen"
	statePrefix = "topic/"
)

// stateVersion is the version of a saved topicState. 2: members are
// ordered by feed.Date with a day-only date's time of day from the paper's
// ID (before, every paper of a day had its midnight), so states of version
// 1, which had no "v", are routed again.
const stateVersion = 2

// Key is what orders a paper in the feeds: its item date (feed.Date, which
// gives a day-only date the paper's time of day, so that order and the
// dates the feeds show agree), then upvotes, then ID.
type Key struct {
	Date    time.Time
	Upvotes int
	ID      string
}

// KeyOf is the ordering key of p.
func KeyOf(p *paper.Paper) Key {
	return Key{Date: feed.Date(p), Upvotes: p.Upvotes, ID: p.ID}
}

// CompareKeys is the order of every feed: newest first by item date, then
// most upvotes, then by ID. It is the one ordering of the program.
func CompareKeys(a, b Key) int {
	if c := b.Date.Compare(a.Date); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Upvotes, a.Upvotes); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Compare orders papers as the feeds list them (CompareKeys).
func Compare(a, b *paper.Paper) int { return CompareKeys(KeyOf(a), KeyOf(b)) }

// member is one paper a topic takes.
type member struct {
	Key
	Hash uint64 `json:"h"` // the paper's content (see contentHash)
	// Terms are the terms by which the topic takes the paper (topic.Hit),
	// kept so that writing its feeds routes no paper again: a refresh of
	// 100 topics over 100,000 papers where 30 change re-renders 94 topics
	// showing 1,888 papers, and takes 1.38 s of CPU with the terms kept
	// and 1.53 s when it routes those papers again (the real binary;
	// medians of eight alternating runs; the budget is 1 s). A member
	// saved without them (by an earlier release) gets them when next
	// written; a paper taken by no term is routed each time.
	Terms []string `json:"t,omitempty"`
}

// topicState is what a Builder keeps of a topic between builds and
// processes.
type topicState struct {
	// Version is stateVersion when the state was saved by this release.
	Version int `json:"v"`
	// Rules identifies the routing rules and limit the members were
	// chosen under; a topic whose rules changed is routed again.
	Rules string `json:"rules"`
	// All is true when Members holds every paper the topic takes.
	All     bool     `json:"all"`
	Members []member `json:"members"`
	// Rendered identifies what the topic's files were last written from.
	Rendered uint64 `json:"rendered"`
	// Empty dates the feeds while the topic has no paper: when it was
	// first found empty, so an empty feed is not rewritten every build.
	Empty time.Time `json:"empty,omitzero"`

	dirty bool // changed since it was saved
	scan  bool // to be routed over the whole history
}

// Config is what a Builder is built for: the site and its topics.
type Config struct {
	Site   feed.Site
	Specs  []topic.Spec
	Router *topic.Router
	// Picks are, by slug, the papers each like-topic shows, as the
	// learning stage chose them; a topic without an entry is routed.
	Picks map[string][]Pick
	// Keep are the slugs of topics left out of Specs whose feeds stay as
	// they are on disk, neither written nor removed: like-topics that
	// have not learnt yet.
	Keep []string
}

// Pick is a paper a like-topic shows, with the terms that become its
// item's categories: the words that weighed most for it.
type Pick struct {
	ID    string
	Terms []string
}

// Builder builds the site in one output directory from the history it is
// given at each call. It is not safe for concurrent use: the caller runs
// one build at a time.
type Builder struct {
	dir string
	log *slog.Logger
	cfg Config

	topics []*topicState          // by spec, once loaded
	loaded bool                   // topics hold the states of cfg.Specs
	old    map[string]*topicState // by slug: the states SetConfig kept for the next Load
	// held is whether the states in memory (topics, or old after
	// SetConfig) reflect the history at generation gen.
	held     bool
	gen      uint64
	savedGen string // the history generation of the state on disk, as last read or saved
	sweep    bool   // the state on disk may hold topics no longer configured
	// spare are the states the last read of the history found for topics
	// then not configured, by slug, saved at generation spareGen: a topic
	// configured by the next SetConfig takes its state from there.
	spare    map[string]*topicState
	spareGen string

	hits map[string][]topic.Hit // routing of the papers seen by one Build
	zw   *gzip.Writer           // compresses every gzip copy, reset for each
	// renderer keeps, from one Build to the next, the items and digest
	// lines of the papers the feeds show, so a Build makes again only those
	// of papers that changed (see feed.Renderer).
	renderer feed.Renderer

	files *feed.Writer // writes every file of the site
	// sync makes the files written since it last succeeded durable and
	// puts them in place: files.Sync, which a test makes fail.
	sync func() error
}

// New returns a Builder writing into dir. It reads nothing until Load or
// the first Build.
func New(dir string, cfg Config, log *slog.Logger) *Builder {
	files := feed.NewWriter(dir)
	return &Builder{dir: dir, log: log, cfg: cfg, files: files, sync: files.Sync}
}

// SetConfig replaces the site and topics. Topics whose rules changed are
// routed again at the next Build; the rest keep their members.
func (b *Builder) SetConfig(cfg Config) {
	if b.loaded {
		// Keep the states of every topic still configured, by slug.
		b.old = map[string]*topicState{}
		for i, ts := range b.topics {
			b.old[b.cfg.Specs[i].Slug] = ts
		}
		b.topics = nil
		b.loaded = false
	}
	b.cfg = cfg
	b.sweep = true
}

// rules identifies what a topic's members depend on.
func rules(s topic.Spec) string {
	data, err := json.Marshal(struct {
		K, E  []string
		Q     string
		Min   int
		Limit int
	}{s.Keywords, s.Exclude, s.Query, s.MinUpvotes, s.Limit})
	if err != nil { // strings and ints always marshal
		panic(err)
	}
	h := fnv.New64a()
	h.Write(data)
	return fmt.Sprintf("%016x", h.Sum64())
}

// rules identifies what a topic's members depend on: for a like-topic, its
// picks too.
func (b *Builder) rules(s topic.Spec) string {
	picks, ok := b.cfg.Picks[s.Slug]
	if !ok {
		return rules(s)
	}
	data, err := json.Marshal(picks)
	if err != nil { // strings always marshal
		panic(err)
	}
	h := fnv.New64a()
	h.Write(data)
	return fmt.Sprintf("%s-like-%016x", rules(s), h.Sum64())
}

// isLike reports whether topic i is a like-topic.
func (b *Builder) isLike(i int) bool {
	_, ok := b.cfg.Picks[b.cfg.Specs[i].Slug]
	return ok
}

// fillPicks makes the members of every like-topic its picks still in the
// history, in feed order. It reads the picks of a topic only when its
// members may differ from them: its state is new (scan), or one of its
// picks is among the papers changed or pruned since the state's generation.
// Reading every pick at every build read 20,000 papers for 100
// like-topics, and took 200 MB, in a -once that changed nothing.
func (b *Builder) fillPicks(s *store.Store, changed []*paper.Paper, pruned []string) error {
	touched := map[string]bool{}
	for _, p := range changed {
		touched[p.ID] = true
	}
	for _, id := range pruned {
		touched[id] = true
	}
	refill := make([]bool, len(b.topics))
	var need []string
	for i, ts := range b.topics {
		if !b.isLike(i) {
			continue
		}
		picks := b.cfg.Picks[b.cfg.Specs[i].Slug]
		refill[i] = ts.scan || !ts.All || slices.ContainsFunc(picks, func(p Pick) bool { return touched[p.ID] })
		if refill[i] {
			for _, p := range picks {
				need = append(need, p.ID)
			}
		}
	}
	var papers map[string]*paper.Paper
	if len(need) > 0 {
		slices.Sort(need)
		var err error
		if papers, err = s.Get(slices.Compact(need)...); err != nil {
			return fmt.Errorf("read the papers of like-topics: %w", err)
		}
	}
	for i, ts := range b.topics {
		if !refill[i] {
			continue
		}
		var ms []member
		for _, pick := range b.cfg.Picks[b.cfg.Specs[i].Slug] {
			if p, ok := papers[pick.ID]; ok {
				ms = append(ms, member{Key: KeyOf(p), Hash: contentHash(p), Terms: pick.Terms})
			}
		}
		slices.SortFunc(ms, func(a, b member) int { return CompareKeys(a.Key, b.Key) })
		if !slices.EqualFunc(ms, ts.Members, func(a, b member) bool {
			return a.Key.ID == b.Key.ID && a.Key.Date.Equal(b.Key.Date) && a.Upvotes == b.Upvotes && a.Hash == b.Hash && slices.Equal(a.Terms, b.Terms)
		}) {
			ts.Members, ts.dirty = ms, true
		}
		if !ts.All || ts.scan {
			ts.All, ts.scan, ts.dirty = true, false, true
		}
	}
	return nil
}

// capacity is how many members a topic keeps: its limit and as many again.
func capacity(s topic.Spec) int { return 2 * max(s.Limit, 1) }

// Load makes the Builder's state that of the history s holds. Call it after
// every open of the store, before merging into it. When the Builder's
// state already reflects s's generation (its last Load or Build saw it),
// Load reads nothing. Otherwise it reads the saved state from s: a state
// saved at another generation of the history than s's missed some merge or
// prune and is not trusted, and every topic is then routed over the whole
// history at the next Build. Build loads by itself when Load was not
// called.
func (b *Builder) Load(s *store.Store) error { return b.load(s, false) }

// load is Load; in Build (inBuild), states SetConfig kept are trusted at
// any generation of s, since Build is given the changes since theirs.
// Without that, a process whose like-topics join the config between its
// merge and its build (see SetConfig) routed every topic over the whole
// history whenever the merge changed it.
func (b *Builder) load(s *store.Store, inBuild bool) error {
	gen := s.Gen()
	if b.held && b.gen == gen && b.loaded {
		return nil
	}
	var saved map[string]*topicState
	stale := false
	if b.held && (b.gen == gen || inBuild) {
		// Kept by SetConfig: these states saw every change up to b.gen.
		saved = b.old
		// A topic configured since (the like-topics, once they learnt)
		// takes the state the last read of the history found for it,
		// when that was saved at b.gen: without it, every new process
		// rendered each like-topic's feeds again.
		if b.spareGen == fmt.Sprint(b.gen) {
			for slug, ts := range b.spare {
				if saved[slug] == nil {
					saved[slug] = ts
				}
			}
		}
	} else {
		var err error
		if saved, b.savedGen, err = b.readState(s); err != nil {
			return err
		}
		stale = b.savedGen != fmt.Sprint(gen)
		b.sweep = true // the config may have changed since it was saved
		// The configured topics' states are taken out of spare below.
		b.spare, b.spareGen = maps.Clone(saved), b.savedGen
	}
	b.old = nil
	b.topics = make([]*topicState, len(b.cfg.Specs))
	for i, spec := range b.cfg.Specs {
		ts, ok := saved[spec.Slug]
		r := b.rules(spec)
		if !ok || stale || ts.Rules != r || ts.Version != stateVersion {
			ts = &topicState{Version: stateVersion, Rules: r, scan: true, dirty: true}
		}
		b.topics[i] = ts
		delete(b.spare, spec.Slug)
	}
	b.loaded, b.held, b.gen = true, true, gen
	return nil
}

// readState reads the topics' states s holds, by slug, and the history
// generation they were saved at. A state that cannot be read is left out,
// with a warning: its topic is routed again.
func (b *Builder) readState(s *store.Store) (map[string]*topicState, string, error) {
	state, err := s.State()
	if err != nil {
		return nil, "", fmt.Errorf("read site state: %w", err)
	}
	saved := map[string]*topicState{}
	for k, v := range state {
		slug, ok := strings.CutPrefix(k, statePrefix)
		if !ok {
			continue
		}
		ts := &topicState{}
		if err := json.Unmarshal(v, ts); err != nil {
			b.log.Warn("site state of a topic is unreadable; routing it again", "topic", slug, "err", err)
			continue
		}
		saved[slug] = ts
	}
	return saved, string(state[stateGen]), nil
}

// Status is what the index page shows about the last refresh.
type Status = feed.Status

// Result says what a Build did.
type Result struct {
	Written int // files written (feeds, their gzip copies, OPML, index)
	Removed int // files of topics no longer configured
	Scanned int // topics routed over the whole history
	// Rendered is how many topics' feeds were rendered: those whose
	// papers, text or site changed, or whose files were missing.
	Rendered int
	// Changed is the public URL (feed.URL, the self link) of every feed,
	// topic or daily, whose bytes this Build changed, in the order they
	// were written: what a WebSub hub is told about. Gzip copies, the
	// index and the OPML are not feeds and are never in it. A Build that
	// fails part-way still lists the feeds it changed before the failure.
	Changed []string
}

// Build updates the members for the papers changed and pruned in s since
// the generation of the last Load or Build (the stored form of each changed
// paper; IDs of pruned ones), then writes what changed. It loads first when
// the Builder holds no state (see Load). now dates empty topics. On a
// failed write it returns the error naming the file, after saving the
// state of what was written (see the package comment).
func (b *Builder) Build(s *store.Store, changed []*paper.Paper, pruned []string, st Status, now time.Time) (Result, error) {
	var res Result
	if !b.loaded {
		if err := b.load(s, true); err != nil {
			return res, err
		}
	}
	b.hits = map[string][]topic.Hit{}
	defer func() { b.hits = nil }()
	for i, ts := range b.topics {
		if ts.scan || b.isLike(i) {
			continue
		}
		for _, id := range pruned {
			ts.remove(id)
		}
		for _, p := range changed {
			ts.remove(p.ID)
			if terms, ok := b.terms(i, p); ok {
				ts.insert(member{Key: KeyOf(p), Hash: contentHash(p), Terms: terms}, capacity(b.cfg.Specs[i]))
			}
		}
		if !ts.All && len(ts.Members) < b.cfg.Specs[i].Limit {
			ts.scan = true // papers beyond the reserve may belong in the feed
		}
	}
	if err := b.fillPicks(s, changed, pruned); err != nil {
		return res, err
	}
	// The members now reflect s, or are marked to be routed over it.
	b.gen = s.Gen()
	n, err := b.scan(s)
	if err != nil {
		return res, err
	}
	res.Scanned = n
	topics, err := b.write(s, now, &res)
	if missing, ok := errors.AsType[*missingError](err); ok {
		// Members that left the history unannounced: route every topic
		// again rather than show a feed without them.
		b.log.Warn("a paper shown in the feeds is no longer in the history; routing the history again", "paper", missing.id)
		for _, ts := range b.topics {
			ts.scan, ts.dirty = true, true
		}
		if err := b.fillPicks(s, nil, nil); err != nil {
			return res, err
		}
		if n, err = b.scan(s); err != nil {
			return res, err
		}
		res.Scanned += n
		topics, err = b.write(s, now, &res)
	}
	// The index and OPML link every topic's feeds: written only once all
	// of them are, and durable, and the files of removed topics go only
	// after the index that linked them is durable too.
	if err == nil {
		if err = b.writeIndex(topics, st, &res); err != nil {
			// The two go together or not at all: feeds.opml, written
			// first, is dropped with index.html.
			err = errors.Join(err, b.files.Discard())
		}
	}
	if err == nil {
		err = b.sync()
	}
	if err == nil {
		res.Removed, err = b.removeStale()
	}
	// Every topic is routed by now: its state holds what was written,
	// even when a write failed, and a topic whose files failed keeps the
	// signature of its files before, so the next Build writes it again.
	return res, errors.Join(err, b.save(s))
}

// remove drops id from the members.
func (ts *topicState) remove(id string) {
	if i := slices.IndexFunc(ts.Members, func(m member) bool { return m.ID == id }); i >= 0 {
		ts.Members = slices.Delete(ts.Members, i, i+1)
		ts.dirty = true
	}
}

// insert adds m in order when it falls within the members, or when they
// are all the topic's papers, keeping at most limit of them.
func (ts *topicState) insert(m member, limit int) {
	i, _ := slices.BinarySearchFunc(ts.Members, m.Key, func(x member, k Key) int { return CompareKeys(x.Key, k) })
	if i == len(ts.Members) && !ts.All {
		return // beyond the members: papers between them and it are unknown
	}
	ts.Members = slices.Insert(ts.Members, i, m)
	if len(ts.Members) > limit {
		ts.Members = ts.Members[:limit]
		ts.All = false
	}
	ts.dirty = true
}

// scan routes the history, once, for every topic marked for it, and
// returns how many topics it routed.
func (b *Builder) scan(s *store.Store) (int, error) {
	var which []int
	for i, ts := range b.topics {
		if ts.scan && !b.isLike(i) {
			which = append(which, i)
		}
	}
	if len(which) == 0 {
		return 0, nil
	}
	start := time.Now()
	scanning := make([]bool, len(b.topics))
	for _, i := range which {
		scanning[i] = true
	}
	// The store decodes the papers one by one; routing them, most of the
	// work, runs beside it on every core. Each worker keeps its own
	// candidates, cut to the first few capacities as they grow.
	workers := runtime.GOMAXPROCS(0)
	papers := make(chan *paper.Paper, 64)
	found := make([][]candidates, workers)
	var wg sync.WaitGroup
	for w := range workers {
		found[w] = make([]candidates, len(b.topics))
		wg.Go(func() {
			for p := range papers {
				var hash uint64
				for _, h := range b.cfg.Router.Route(p) {
					if !scanning[h.Topic] {
						continue
					}
					if hash == 0 {
						hash = contentHash(p)
					}
					found[w][h.Topic].add(member{Key: KeyOf(p), Hash: hash, Terms: h.Terms}, capacity(b.cfg.Specs[h.Topic]))
				}
			}
		})
	}
	err := s.ForEach(func(p *paper.Paper) error {
		papers <- p
		return nil
	})
	close(papers)
	wg.Wait()
	if err != nil {
		return 0, fmt.Errorf("route the history: %w", err)
	}
	for _, i := range which {
		ts, c := b.topics[i], capacity(b.cfg.Specs[i])
		var all candidates
		for w := range workers {
			all.cut = all.cut || found[w][i].cut
			all.ms = append(all.ms, found[w][i].ms...)
		}
		ts.All = !all.cut && len(all.ms) <= c
		ts.Members = slices.Clip(keepFirst(all.ms, c))
		ts.scan, ts.dirty = false, true
	}
	b.log.Info("routed the history", "topics", len(which), "papers", s.Len(), "took", time.Since(start).Round(time.Millisecond))
	return len(which), nil
}

// candidates are the papers a scan found for one topic: every one, or the
// first ones in feed order once cut.
type candidates struct {
	ms   []member
	cut  bool // papers after last were dropped
	last Key  // once cut: the last paper kept
}

// add adds m, and keeps the first c once there are 4c: a paper dropped
// then has c papers before it that stay, and so does any later paper that
// comes after the last one kept.
func (cs *candidates) add(m member, c int) {
	if cs.cut && CompareKeys(m.Key, cs.last) > 0 {
		return
	}
	cs.ms = append(cs.ms, m)
	if len(cs.ms) >= 4*c {
		cs.ms = keepFirst(cs.ms, c)
		cs.cut, cs.last = true, cs.ms[len(cs.ms)-1].Key
	}
}

// terms returns the terms by which topic i takes p, and whether it does.
// A paper is routed once per Build, for all topics.
func (b *Builder) terms(i int, p *paper.Paper) ([]string, bool) {
	hits, ok := b.hits[p.ID]
	if !ok {
		hits = b.cfg.Router.Route(p)
		b.hits[p.ID] = hits
	}
	for _, h := range hits {
		if h.Topic == i {
			return h.Terms, true
		}
	}
	return nil, false
}

// missingError is a member that is not in the history.
type missingError struct{ id string }

func (e *missingError) Error() string { return "paper " + e.id + " is not in the history" }

// keepFirst sorts ms in feed order and keeps the first n.
func keepFirst(ms []member, n int) []member {
	slices.SortFunc(ms, func(a, b member) int { return CompareKeys(a.Key, b.Key) })
	return ms[:min(len(ms), n)]
}

// contentHash identifies what a paper's items are rendered from: all of it
// but LastSeen. It is marshalled by encoding/json/v2, which takes a third of
// encoding/json's time: a first routing hashes every paper a topic takes,
// and with encoding/json that was 0.9 s of its 5.9 s of CPU at 100,000
// papers. (Hashes saved by a release that used encoding/json differ from
// these; that costs at most one more rendering of a topic, whose files, the
// same bytes, are left as they are: an unchanged -once after the upgrade
// wrote only index.html.)
func contentHash(p *paper.Paper) uint64 {
	c := *p
	c.LastSeen = time.Time{}
	data, err := jsonv2.Marshal(&c)
	if err != nil { // a Paper is plain data and always marshals
		panic(err)
	}
	h := fnv.New64a()
	h.Write(data)
	return h.Sum64()
}

// signature identifies what a topic's files are rendered from.
func (b *Builder) signature(spec topic.Spec, ts *topicState, shown []member) uint64 {
	h := fnv.New64a()
	for _, s := range []string{b.cfg.Site.BaseURL, b.cfg.Site.Title, b.cfg.Site.Hub, spec.Slug, spec.Title, spec.Description, ts.Rules, ts.Empty.UTC().Format(time.RFC3339Nano), fmt.Sprint(b.more(spec, ts))} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, m := range shown {
		fmt.Fprintf(h, "%s\x00%d\x00", m.ID, m.Hash)
	}
	return h.Sum64()
}

// more reports whether the topic takes more papers than its feeds show
// (feed.Topic.More): unless the members are all its papers and within its
// limit. A stale All (papers beyond the members pruned since) only errs
// towards leaving a whole day out of the digest, never towards showing a
// cut one.
func (b *Builder) more(spec topic.Spec, ts *topicState) bool {
	return !ts.All || len(ts.Members) > spec.Limit
}

// shown is the members a topic's feeds show.
func (b *Builder) shown(i int) []member {
	ts := b.topics[i]
	return ts.Members[:min(len(ts.Members), b.cfg.Specs[i].Limit)]
}

// Shown is, for every configured topic by slug, the IDs of the papers its
// feeds show, in feed order, as of the last Build (nil before one). Metrics
// count them; deliveries take new papers from them.
func (b *Builder) Shown() map[string][]string {
	if b.topics == nil {
		return nil
	}
	out := make(map[string][]string, len(b.topics))
	for i, s := range b.cfg.Specs {
		ms := b.shown(i)
		ids := make([]string, len(ms))
		for j, m := range ms {
			ids[j] = m.ID
		}
		out[s.Slug] = ids
	}
	return out
}

// write renders and writes the feeds of every topic whose signature
// changed, and returns every topic as the index and OPML show it: its
// newest papers and how many its feeds hold.
func (b *Builder) write(s *store.Store, now time.Time, res *Result) ([]feed.Topic, error) {
	topics := make([]feed.Topic, len(b.topics))
	var need []string // papers to read: the index's newest and re-rendered feeds'
	sigs := make([]uint64, len(b.topics))
	render := make([]bool, len(b.topics))
	read := make([]int, len(b.topics)) // how many of each topic's shown papers
	for i, ts := range b.topics {
		spec := b.cfg.Specs[i]
		shown := b.shown(i)
		if len(shown) == 0 && ts.Empty.IsZero() {
			ts.Empty, ts.dirty = now.UTC().Truncate(time.Second), true
		} else if len(shown) > 0 && !ts.Empty.IsZero() {
			ts.Empty, ts.dirty = time.Time{}, true
		}
		topics[i] = feed.Topic{Slug: spec.Slug, Title: spec.Title, Description: spec.Description, Updated: ts.Empty, Total: len(shown), More: b.more(spec, ts)}
		sigs[i] = b.signature(spec, ts, shown)
		render[i] = sigs[i] != ts.Rendered || !b.filesExist(spec.Slug)
		read[i] = len(shown)
		if !render[i] {
			read[i] = min(read[i], indexNewest) // for the index only
		}
		for _, m := range shown[:read[i]] {
			need = append(need, m.ID)
		}
	}
	// Topics share papers: each is read once, and its item and digest
	// lines made once, or kept from an earlier Build while it is unchanged.
	slices.Sort(need)
	need = slices.Compact(need)
	papers, err := s.Get(need...)
	if err != nil {
		return nil, fmt.Errorf("read papers: %w", err)
	}
	defer b.renderer.Retain(func(id string) bool { _, ok := slices.BinarySearch(need, id); return ok })
	var written []int // topics whose six feeds were written
	for i, ts := range b.topics {
		items := make([]feed.Item, 0, read[i])
		for j, m := range b.shown(i)[:read[i]] {
			p, ok := papers[m.ID]
			if !ok {
				// The history lost a member behind our back (pruned
				// without this Builder being told).
				err = &missingError{id: m.ID}
				break
			}
			if len(m.Terms) == 0 && !b.isLike(i) {
				// Saved without its terms: keep them from now on.
				if m.Terms, _ = b.terms(i, p); len(m.Terms) > 0 {
					ts.Members[j].Terms, ts.dirty = m.Terms, true
				}
			}
			items = append(items, feed.Item{Paper: *p, Terms: m.Terms})
		}
		if err != nil {
			break
		}
		topics[i].Items = items
		if !render[i] {
			continue
		}
		if err = b.writeTopic(topics[i], res); err != nil {
			break
		}
		written = append(written, i)
		// The index and OPML need only the newest: let the rest go now.
		topics[i].Items = slices.Clip(items[:min(len(items), indexNewest)])
	}
	// A topic is recorded as written only once its files are durable, also
	// when a later topic failed: the next Build writes the others again.
	if serr := b.sync(); serr != nil {
		return nil, errors.Join(err, serr)
	}
	for _, i := range written {
		b.topics[i].Rendered, b.topics[i].dirty = sigs[i], true
	}
	res.Rendered += len(written)
	if err != nil {
		return nil, err
	}
	return topics, nil
}

// writeTopic renders a topic's six feeds and writes them with their gzip
// copies.
func (b *Builder) writeTopic(t feed.Topic, res *Result) error {
	fs, err := b.renderer.Render(b.cfg.Site, t)
	if err != nil {
		return fmt.Errorf("render topic %s: %w", t.Slug, err)
	}
	daily, err := b.renderer.Daily(b.cfg.Site, t)
	if err != nil {
		return fmt.Errorf("render topic %s: %w", t.Slug, err)
	}
	for j, data := range [][]byte{fs.Atom, fs.RSS, fs.JSON, daily.Atom, daily.RSS, daily.JSON} {
		if err := b.writeFeed(t.Slug, formats[j], data, res); err != nil {
			return err
		}
	}
	return nil
}

// files are the names of a topic's feed files and their gzip copies.
func files(slug string) []string {
	var names []string
	for _, ext := range formats {
		names = append(names, feed.Path(slug, ext), feed.Path(slug, ext)+gzExt)
	}
	return names
}

// filesExist reports whether every feed file of a topic is a file on
// disk, so a file removed (or replaced) by hand is written again.
func (b *Builder) filesExist(slug string) bool {
	for _, name := range files(slug) {
		fi, err := os.Stat(filepath.Join(b.dir, filepath.FromSlash(name)))
		if err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// writeFeed writes a topic's feed in one format (ext as for feed.Path),
// then its gzip copy, and lists the feed's URL in res.Changed when its
// bytes changed.
func (b *Builder) writeFeed(slug, ext string, data []byte, res *Result) error {
	name := feed.Path(slug, ext)
	changed, err := b.writeFile(name, data, res)
	if changed {
		u, uerr := feed.URL(b.cfg.Site, slug, ext)
		if uerr != nil { // the feed was rendered from the same site and slug
			return errors.Join(err, fmt.Errorf("url of %s: %w", name, uerr))
		}
		res.Changed = append(res.Changed, u)
	}
	if err != nil {
		return err
	}
	gz, err := b.gzipBytes(data)
	if err != nil {
		return fmt.Errorf("compress %s: %w", name, err)
	}
	_, err = b.writeFile(name+gzExt, gz, res)
	return err
}

// writeFile writes one file of the site and says whether its bytes
// changed; the error names the file. The file is durable at the next
// b.sync.
func (b *Builder) writeFile(name string, data []byte, res *Result) (bool, error) {
	changed, err := b.files.WriteFile(name, data)
	if changed {
		res.Written++
	}
	return changed, err
}

// gzipBytes compresses data the same way every time (no name, no time in
// the header), so an unchanged feed has an unchanged gzip copy. BestSpeed:
// a refresh compresses every feed it rewrites, and on feeds the best level
// costs about five times the CPU for copies a tenth smaller. One writer is
// reset for every feed: a new one allocates its compressor's tables, about
// a megabyte, each time. The compressor is klauspost/compress's gzip, which
// writes the same format at 560 MB/s where compress/gzip writes 330, with
// copies as small (a ratio of 0.0943 against 0.0944 on the feeds of a
// 100-topic site); a changed refresh of 100 topics gzips some 60 MB of
// feeds, and compress/gzip took 0.19 s of its 1.08 s of CPU.
func (b *Builder) gzipBytes(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(data) / 4)
	if b.zw == nil {
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		if err != nil {
			return nil, err
		}
		b.zw = zw
	} else {
		b.zw.Reset(&buf)
	}
	if _, err := b.zw.Write(data); err != nil {
		return nil, err
	}
	if err := b.zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeIndex writes feeds.opml and index.html.
func (b *Builder) writeIndex(topics []feed.Topic, st Status, res *Result) error {
	data, err := feed.OPML(b.cfg.Site, topics)
	if err != nil {
		return fmt.Errorf("render %s: %w", feed.OPMLName, err)
	}
	if _, err := b.writeFile(feed.OPMLName, data, res); err != nil {
		return err
	}
	data, err = feed.Index(b.cfg.Site, topics, st)
	if err != nil {
		return fmt.Errorf("render %s: %w", feed.IndexName, err)
	}
	_, err = b.writeFile(feed.IndexName, data, res)
	return err
}

// removeStale removes the feed files (and gzip copies) of topics no longer
// configured. Hidden files (the writer's temporary files) are left to
// feed.RemoveTemps.
func (b *Builder) removeStale() (int, error) {
	keep := map[string]bool{}
	for _, s := range b.cfg.Specs {
		for _, name := range files(s.Slug) {
			keep[name] = true
		}
	}
	for _, slug := range b.cfg.Keep {
		for _, name := range files(slug) {
			keep[name] = true
		}
	}
	entries, err := os.ReadDir(filepath.Join(b.dir, "feeds"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("list feeds: %w", err)
	}
	removed := 0
	for _, e := range entries {
		name := "feeds/" + e.Name()
		if !e.Type().IsRegular() || keep[name] || strings.HasPrefix(e.Name(), ".") || !isFeedFile(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(b.dir, "feeds", e.Name())); err != nil {
			return removed, fmt.Errorf("remove stale feed: %w", err)
		}
		removed++
		b.log.Info("removed feed of a topic no longer configured", "file", name)
	}
	return removed, nil
}

// isFeedFile reports whether name is a feed file or its gzip copy.
func isFeedFile(name string) bool {
	name = strings.TrimSuffix(name, gzExt)
	for _, ext := range formats {
		if strings.HasSuffix(name, "."+ext) {
			return true
		}
	}
	return false
}

// save writes the states that changed, with the generation of the history
// they reflect. Keys of the state bucket that are not the site's are left
// as they are.
func (b *Builder) save(s *store.Store) error {
	put := map[string][]byte{}
	for i, ts := range b.topics {
		if !ts.dirty {
			continue
		}
		data, err := json.Marshal(ts)
		if err != nil {
			return fmt.Errorf("site state: %w", err)
		}
		put[statePrefix+b.cfg.Specs[i].Slug] = data
	}
	gen := fmt.Sprint(b.gen)
	if len(put) == 0 && gen == b.savedGen && !b.sweep {
		return nil
	}
	// States of topics no longer configured go with them.
	state, err := s.State()
	if err != nil {
		return fmt.Errorf("read site state: %w", err)
	}
	configured := map[string]bool{}
	for _, s := range b.cfg.Specs {
		configured[statePrefix+s.Slug] = true
	}
	var del []string
	for k := range state {
		if strings.HasPrefix(k, statePrefix) && !configured[k] {
			del = append(del, k)
		}
	}
	if len(put) == 0 && gen == b.savedGen && len(del) == 0 {
		b.sweep = false // nothing to write: the file stays as it is
		return nil
	}
	put[stateGen] = []byte(gen)
	if err := s.SaveState(put, del); err != nil {
		return fmt.Errorf("save site state: %w", err)
	}
	for _, ts := range b.topics {
		ts.dirty = false
	}
	b.savedGen, b.sweep = gen, false
	return nil
}
