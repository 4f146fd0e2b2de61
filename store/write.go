package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paperfeed/paperfeed/paper"
)

// MergeResult says what a Merge did.
type MergeResult struct {
	// Added and Updated count new papers and known papers whose stored
	// content changed.
	Added, Updated int
	// Changed holds the stored form of every added or changed paper,
	// sorted by ID: what the caller routes again. The papers are the
	// caller's own.
	Changed []*paper.Paper
	// Before holds, for each paper of Changed at the same place, its
	// stored form before the merge, or nil for an added paper: what a
	// caller that derives state from some fields only compares.
	Before []*paper.Paper
	// Skipped holds the papers of the batch that could not be stored, in
	// ID order: the history keeps what it held of them, and the rest of
	// the batch is merged.
	Skipped []Skip
}

// Skip is a paper that Merge left out, and why.
type Skip struct {
	ID  string
	Err error
}

// maxIDLen is the longest ID a paper can be stored under: bbolt's largest
// key, less the 8 bytes the listing-day index puts before the ID.
const maxIDLen = bolt.MaxKeySize - 8

// write is one paper a Merge stores: its record, and its listing-day index
// keys before (nil for a new paper) and after.
type write struct {
	id             string
	value          []byte
	oldKey, newKey []byte
}

// Merge merges scraped papers into the history, following the package's
// merge rules, and reports which papers were added or changed so callers
// route only those, and which could not be stored. It reads the known ones
// in one read transaction and writes, in one write transaction, only the
// papers that changed or were last seen on an earlier day; with none to
// write it writes nothing. It fails only when the file does (damage, a
// failed write), and then writes nothing.
func (s *Store) Merge(papers []paper.Paper, now time.Time) (MergeResult, error) {
	if s.readOnly {
		return MergeResult{}, fmt.Errorf("merge: store %s: %w", s.path, ErrReadOnly)
	}
	var res MergeResult
	for i := range papers {
		switch id := papers[i].ID; {
		case id == "":
			res.Skipped = append(res.Skipped, Skip{Err: fmt.Errorf("paper %d of the batch (title %q) has an empty id", i, papers[i].Title)})
		case len(id) > maxIDLen:
			res.Skipped = append(res.Skipped, Skip{ID: id, Err: fmt.Errorf("id is %d bytes, over the limit of %d", len(id), maxIDLen)})
		}
	}
	if len(res.Skipped) > 0 {
		papers = slices.DeleteFunc(slices.Clone(papers), func(p paper.Paper) bool { return p.ID == "" || len(p.ID) > maxIDLen })
	}
	if len(papers) == 0 {
		return res, nil
	}
	now = now.UTC()
	seen := seenDay(now)

	s.wmu.Lock()
	defer s.wmu.Unlock()

	ids := make([]string, 0, len(papers))
	for i := range papers {
		ids = append(ids, papers[i].ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	// Only writers change the file, and we hold wmu: what this read
	// transaction sees is what the write transaction below starts from.
	old := make(map[string]*paper.Paper, len(ids))
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPapers).Cursor()
		var d decoder
		for _, id := range ids {
			p, found, err := s.read(c, &d, id)
			if err != nil {
				return err
			}
			if found {
				old[id] = &p
			}
		}
		return nil
	})
	if err != nil {
		return MergeResult{}, fmt.Errorf("merge: %w", err)
	}

	merged := make(map[string]*paper.Paper, len(ids))
	for i := range papers {
		in := &papers[i]
		cur, ok := merged[in.ID]
		if !ok {
			// mergeInto replaces cur's slices rather than writing into
			// them, so the copy may share them with the old paper.
			cur = &paper.Paper{ID: in.ID, FirstSeen: now}
			if o := old[in.ID]; o != nil {
				*cur = *o
			}
			merged[in.ID] = cur
		}
		mergeInto(cur, in)
		cur.LastSeen = seen
	}

	var writes []write
	for _, id := range ids {
		p, o := merged[id], old[id]
		changed := o == nil || !paper.SameContent(o, p)
		if !changed && seenDay(o.LastSeen).Equal(p.LastSeen) {
			continue // nothing to write
		}
		v, err := s.enc.encode(p)
		if err != nil {
			// The history keeps what it held of the paper.
			res.Skipped = append(res.Skipped, Skip{ID: id, Err: err})
			continue
		}
		switch {
		case o == nil:
			res.Added++
			res.Changed = append(res.Changed, p)
			res.Before = append(res.Before, nil)
		case changed:
			res.Updated++
			res.Changed = append(res.Changed, p)
			res.Before = append(res.Before, o)
		}
		w := write{id: id, value: v, newKey: dayKey(p)}
		if o != nil {
			w.oldKey = dayKey(o)
		}
		writes = append(writes, w)
	}
	// Empty IDs sort first, in batch order.
	slices.SortStableFunc(res.Skipped, func(a, b Skip) int { return strings.Compare(a.ID, b.ID) })
	if len(writes) == 0 {
		return res, nil
	}

	err = s.update(func(tx *bolt.Tx, h *header) error {
		b, days := tx.Bucket(bucketPapers), tx.Bucket(bucketDays)
		b.FillPercent, days.FillPercent = fillPercent, fillPercent
		for _, w := range writes {
			if err := b.Put([]byte(w.id), w.value); err != nil {
				return fmt.Errorf("put %s: %w", w.id, err)
			}
			if bytes.Equal(w.oldKey, w.newKey) {
				continue
			}
			if w.oldKey != nil {
				if err := days.Delete(w.oldKey); err != nil {
					return fmt.Errorf("index %s: %w", w.id, err)
				}
			}
			if err := days.Put(w.newKey, nil); err != nil {
				return fmt.Errorf("index %s: %w", w.id, err)
			}
		}
		h.count += uint64(res.Added)
		h.gen++
		return nil
	})
	if err != nil {
		return MergeResult{}, fmt.Errorf("merge: %w", err)
	}
	return res, nil
}

// update runs fn in a write transaction with the meta counters in h, writes
// h's counters back and commits (bbolt fsyncs before Commit returns), then
// mirrors them in s. The caller holds wmu.
func (s *Store) update(fn func(tx *bolt.Tx, h *header) error) error {
	var h header
	err := guard(s.path, func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			h.count = binary.BigEndian.Uint64(meta.Get(keyCount))
			h.gen = binary.BigEndian.Uint64(meta.Get(keyGen))
			if err := fn(tx, &h); err != nil {
				return err
			}
			if err := meta.Put(keyCount, binary.BigEndian.AppendUint64(nil, h.count)); err != nil {
				return err
			}
			return meta.Put(keyGen, binary.BigEndian.AppendUint64(nil, h.gen))
		})
	})
	if err != nil {
		return s.wrap(err)
	}
	s.count.Store(h.count)
	s.gen.Store(h.gen)
	return nil
}

// Prune drops, in one transaction, the papers that no source has listed
// since cutoff and that are dated before it: both their listing day (Day,
// else Published, else FirstSeen) and their LastSeen are before cutoff. It
// returns their IDs sorted. A paper a source still lists is never dropped,
// however old its date. Prune walks the listing-day index from its oldest
// end up to the cutoff and reads only the papers dated before it, not the
// history. A zero cutoff drops nothing.
func (s *Store) Prune(cutoff time.Time) ([]string, error) {
	if s.readOnly {
		return nil, fmt.Errorf("prune: store %s: %w", s.path, ErrReadOnly)
	}
	if cutoff.IsZero() {
		return nil, nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()

	type drop struct {
		id  string
		key []byte
	}
	var drops []drop
	cs, cn := cutoff.Unix(), cutoff.Nanosecond()
	err := s.view(func(tx *bolt.Tx) error {
		papers := tx.Bucket(bucketPapers).Cursor()
		var d decoder
		c := tx.Bucket(bucketDays).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < 8 {
				return s.damaged("listing-day index key %x is shorter than 8 bytes", k)
			}
			sec, id := dayKeySeconds(k), string(k[8:])
			if sec > cs || sec == cs && cn == 0 {
				break
			}
			p, found, err := s.read(papers, &d, id)
			if err != nil {
				return err
			}
			// The key holds whole seconds: in the cutoff's own second,
			// the paper's listing day decides.
			if found && (!listingDay(&p).Before(cutoff) || !p.LastSeen.Before(cutoff)) {
				continue
			}
			drops = append(drops, drop{id, bytes.Clone(k)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	if len(drops) == 0 {
		return nil, nil
	}
	var dropped []string
	err = s.update(func(tx *bolt.Tx, h *header) error {
		b, days := tx.Bucket(bucketPapers), tx.Bucket(bucketDays)
		for _, d := range drops {
			if k, _ := b.Cursor().Seek([]byte(d.id)); string(k) == d.id {
				if err := b.Delete([]byte(d.id)); err != nil {
					return fmt.Errorf("delete %s: %w", d.id, err)
				}
				dropped = append(dropped, d.id)
			}
			if err := days.Delete(d.key); err != nil {
				return fmt.Errorf("delete %s from the index: %w", d.id, err)
			}
		}
		if uint64(len(dropped)) > h.count {
			return s.damaged("meta count is %d, fewer than the %d papers pruned", h.count, len(dropped))
		}
		h.count -= uint64(len(dropped))
		h.gen++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	sort.Strings(dropped)
	return dropped, nil
}

// SaveState writes put into the state bucket and deletes the keys of del,
// in one transaction (a key in both is put). It does not change Gen.
func (s *Store) SaveState(put map[string][]byte, del []string) error {
	if s.readOnly {
		return fmt.Errorf("save state: store %s: %w", s.path, ErrReadOnly)
	}
	if len(put) == 0 && len(del) == 0 {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := guard(s.path, func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketState)
			for _, k := range del {
				if _, ok := put[k]; ok {
					continue
				}
				if err := b.Delete([]byte(k)); err != nil {
					return fmt.Errorf("delete %q: %w", k, err)
				}
			}
			for k, v := range put {
				if err := b.Put([]byte(k), v); err != nil {
					return fmt.Errorf("put %q: %w", k, err)
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("save state: %w", s.wrap(err))
	}
	return nil
}

// mergeInto applies the package's merge rules to fold in into cur. It never
// shares in's slices with cur, so callers may reuse their input, and it
// never writes into cur's slices (it replaces them), so cur may share them
// with a stored paper.
func mergeInto(cur, in *paper.Paper) {
	str := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	list := func(dst *[]string, v []string) {
		if len(v) > 0 {
			*dst = slices.Clone(v)
		}
	}
	count := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	date := func(dst *time.Time, v time.Time) {
		if dst.IsZero() && !v.IsZero() {
			*dst = v.UTC()
		}
	}
	str(&cur.Title, in.Title)
	str(&cur.Abstract, in.Abstract)
	list(&cur.Authors, in.Authors)
	str(&cur.Link, in.Link)
	date(&cur.Published, in.Published)
	date(&cur.Day, in.Day)
	cur.Hub = cur.Hub || in.Hub
	count(&cur.Upvotes, in.Upvotes)
	count(&cur.Comments, in.Comments)
	str(&cur.Thumbnail, in.Thumbnail)
	str(&cur.GitHubRepo, in.GitHubRepo)
	count(&cur.GitHubStars, in.GitHubStars)
	str(&cur.ProjectPage, in.ProjectPage)
	str(&cur.Organization, in.Organization)
	str(&cur.AISummary, in.AISummary)
	list(&cur.AIKeywords, in.AIKeywords)
	cur.Categories = unionOrdered(cur.Categories, in.Categories)
	str(&cur.ArxivComments, in.ArxivComments)
	str(&cur.JournalRef, in.JournalRef)
	str(&cur.Section, in.Section)
	cur.Sources = unionSorted(cur.Sources, in.Sources)
}

// unionOrdered returns a's elements then b's not already present, without
// duplicates or empty strings; nil when empty. It allocates a new slice
// whenever the result differs from a.
func unionOrdered(a, b []string) []string {
	var out []string
	seen := make(map[string]bool, len(a)+len(b))
	for _, list := range [][]string{a, b} {
		for _, s := range list {
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	if slices.Equal(out, a) {
		return a
	}
	return out
}

// unionSorted returns the sorted set of a's and b's non-empty elements; nil
// when empty.
func unionSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for _, s := range a {
		if s != "" {
			out = append(out, s)
		}
	}
	for _, s := range b {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	if slices.Equal(out, a) {
		return a
	}
	return slices.Clip(out)
}
