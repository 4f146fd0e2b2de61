// Package store keeps the history of every paper paperfeed has seen, in one
// bbolt file. It is the only package that touches the database file.
//
// # Contract
//
// Open opens the file, creating it when absent (or initialising it when it
// is empty). It never repairs, rewrites or wipes a file it cannot read: a
// file held by another process fails at once with ErrLocked; a file that is
// not a paperfeed store fails with ErrForeign; a paperfeed store that cannot
// be read back fails with a *DamagedError. In every failing case the file is
// left byte-for-byte untouched, because a non-empty file is first opened
// read-only and fully read (every record decoded and checksummed) before it
// is opened for writing.
//
// The whole history is loaded into memory at Open; Papers and Len answer
// from that copy without I/O. The copy is a slice of pointers to papers that
// are never modified once stored: Merge stores a changed paper as a new
// *paper.Paper, and Merge and Prune build a new pointer slice (copying
// pointers, not papers), so a slice returned by Papers, and every paper it
// points to, never changes. Merge and Prune each write one bbolt
// transaction, fsync'd before they return, and only then update the
// in-memory copy, so a failed or interrupted write changes neither the file
// nor what Papers returns. A process killed at any moment leaves a file that
// opens with every paper of every Merge that returned.
//
// # Merge rules
//
// Papers are keyed by Paper.ID (an empty ID fails the whole Merge, nothing
// written). Several papers with one ID in a batch are merged in order. A new
// paper is stored as given with FirstSeen = LastSeen = now; an already known
// one is updated field by field:
//
//   - Title, Abstract, Link, Thumbnail, GitHubRepo, ProjectPage,
//     Organization, AISummary, ArxivComments, JournalRef, Section, Authors
//     and AIKeywords: the new value when non-empty, else the stored one, so a
//     source that lacks a field never erases another source's value.
//   - Upvotes, Comments, GitHubStars: the newest non-zero value. Zero means
//     "not known" (paper.Paper's convention), so a source that has no
//     counters leaves them alone.
//   - Categories: union preserving order, stored ones first (the primary
//     subject stays first); duplicates dropped.
//   - Sources: union, sorted, duplicates and empty names dropped.
//   - Day and Published: the first non-zero value ever stored; a paper's
//     date never changes once known, since feeds date items by it.
//   - FirstSeen never changes; LastSeen becomes now. Scrapers' own
//     FirstSeen/LastSeen are ignored.
//
// A paper counts as changed when its stored form differs in anything but
// LastSeen, so re-merging identical data reports nothing changed. Times are
// stored in UTC to the nanosecond (their location and monotonic reading are
// dropped). Empty slices are stored as nil.
//
// Prune drops papers whose listing day (Day, else Published, else
// FirstSeen) is before the cutoff. A zero cutoff drops nothing: whether to
// prune at all is the caller's decision.
//
// # Format
//
// Bucket "meta" holds key "format" = "paperfeed-store 1"; a bbolt file
// without it is foreign. Bucket "papers" maps ID to a record: a kind byte
// (raw or compress/flate), a CRC-32C of the rest (bbolt checksums only its
// meta pages), then the fields in a fixed binary order (see appendBody).
// Records of 256 bytes or more are compressed when that makes them smaller;
// a real Hugging Face paper takes about 1.1 KB, and a store about 2.1 KB of
// file per paper. Open decodes records on every core.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/paperfeed/paperfeed/paper"
)

// formatMarker identifies a paperfeed store and its format version.
const formatMarker = "paperfeed-store 1"

// lockTimeout is how long Open waits for another process's lock. Short:
// a second paperfeed on the same file is a mistake to report, not to queue.
const lockTimeout = 100 * time.Millisecond

// fillPercent packs leaf pages nearly full: arXiv IDs grow with time, so
// inserts are mostly appends and pages are rarely split in the middle again.
const fillPercent = 0.9

var (
	bucketMeta   = []byte("meta")
	bucketPapers = []byte("papers")
	keyFormat    = []byte("format")
)

// ErrLocked is returned by Open, after about 100ms, when another process
// holds the file; also when another open Store in this process does (the
// lock is an flock on each open file description).
var ErrLocked = errors.New("store file is locked by another process")

// ErrForeign is returned (wrapped, with the file name) by Open when the file
// is not a paperfeed store: not a bbolt file, or a bbolt file without
// paperfeed's format marker, or one of an unknown format version.
var ErrForeign = errors.New("not a paperfeed store")

// DamagedError is returned by Open when the file is a paperfeed store (or
// claims to be) that cannot be read back. The file is left untouched.
type DamagedError struct {
	Path string
	Err  error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("store %s is damaged and was left untouched (restore it from a backup or move it aside): %v", e.Path, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// Store is an open history file. Its methods are safe for concurrent use;
// Merge and Prune are serialised.
type Store struct {
	path string

	// wmu serialises writers (Merge, Prune, Close); it guards db and enc.
	wmu sync.Mutex
	db  *bolt.DB
	enc encoder

	// mu guards papers, which writers replace (never modify) after commit.
	// Neither the slice nor the papers it points to are ever modified.
	mu     sync.RWMutex
	papers []*paper.Paper
}

// MergeResult says what a Merge did.
type MergeResult struct {
	// Added and Updated count new papers and known papers whose stored
	// content changed.
	Added, Updated int
	// Changed holds the IDs added or changed, sorted.
	Changed []string
}

// Open opens the store file at path, creating it if absent. See the package
// comment for its errors; the file is never modified when Open fails on it.
func Open(path string) (*Store, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist) || err == nil && info.Mode().IsRegular() && info.Size() == 0:
		return create(path)
	case err != nil:
		return nil, fmt.Errorf("open store: %w", err)
	case !info.Mode().IsRegular():
		return nil, fmt.Errorf("open store %s: not a regular file", path)
	}

	papers, txID, err := validate(path)
	if err != nil {
		return nil, err
	}
	db, err := openRW(path)
	if err != nil {
		return nil, err
	}
	// Another process may have written between the read-only check and
	// our lock; then read the file again, now that we hold it.
	err = guard(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			if tx.ID() == txID {
				return nil
			}
			var err error
			papers, err = load(path, tx)
			return err
		})
	})
	if err != nil {
		return nil, errors.Join(err, closeDB(path, db))
	}
	return &Store{path: path, db: db, papers: papers}, nil
}

// create makes a new store at path, which is absent or empty.
func create(path string) (*Store, error) {
	db, err := openRW(path)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if k, _ := tx.Cursor().First(); k != nil {
			// The file filled up between our Stat and our lock: write
			// nothing, and let load judge what is there.
			return nil
		}
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keyFormat, []byte(formatMarker)); err != nil {
			return err
		}
		_, err = tx.CreateBucket(bucketPapers)
		return err
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create store %s: %w", path, err), closeDB(path, db))
	}
	var papers []*paper.Paper
	err = guard(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			var err error
			papers, err = load(path, tx)
			return err
		})
	})
	if err != nil {
		return nil, errors.Join(err, closeDB(path, db))
	}
	return &Store{path: path, db: db, papers: papers}, nil
}

// validate opens path read-only and reads all of it, returning its papers and
// the transaction ID they were read at.
func validate(path string) (papers []*paper.Paper, txID int, err error) {
	var file *os.File
	opts := &bolt.Options{
		ReadOnly:        true,
		Timeout:         lockTimeout,
		PreLoadFreelist: true, // read (and so check) the freelist too
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	if err := preflight(path); err != nil {
		return nil, 0, err
	}
	var db *bolt.DB
	err = guard(path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, opts)
		if err != nil {
			return openError(path, err)
		}
		return db.View(func(tx *bolt.Tx) error {
			txID = tx.ID()
			info, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("open store: %w", err)
			}
			if tx.Size() > info.Size() {
				return &DamagedError{Path: path, Err: fmt.Errorf("file is truncated: %d bytes, its pages need %d", info.Size(), tx.Size())}
			}
			papers, err = load(path, tx)
			return err
		})
	})
	if db != nil {
		// Closing a read-only handle writes nothing.
		err = errors.Join(err, closeDB(path, db))
	} else if file != nil && err != nil {
		// bbolt panicked inside Open: release the file and its shared lock.
		if cerr := file.Close(); cerr != nil && !errors.Is(cerr, os.ErrClosed) {
			err = errors.Join(err, fmt.Errorf("close store %s: %w", path, cerr))
		}
	}
	if err != nil {
		return nil, 0, err
	}
	return papers, txID, nil
}

// openRW opens path for writing, failing fast when it is locked.
func openRW(path string) (*bolt.DB, error) {
	var db *bolt.DB
	err := guard(path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
		if err != nil {
			return openError(path, err)
		}
		return nil
	})
	return db, err
}

// openError classifies an error from bolt.Open.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("open store %s: %w", path, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		if hasBoltMagic(path) {
			return &DamagedError{Path: path, Err: fmt.Errorf("its bbolt header pages fail validation: %w", err)}
		}
		return fmt.Errorf("open store %s: %w (not a bbolt database: %v); the file was left untouched", path, ErrForeign, err)
	case strings.Contains(err.Error(), "file size too small"):
		return &DamagedError{Path: path, Err: err}
	}
	return fmt.Errorf("open store %s: %w", path, err)
}

// boltMagic opens every bbolt meta page, after the 16-byte page header.
const boltMagic = 0xED0CDAED

// preflight reads the bbolt meta pages of path as bbolt would (the valid one
// with the highest transaction wins) and checks what bbolt would otherwise
// trust blindly while opening: that the file holds all the pages the meta
// counts, and that the freelist is a freelist naming pages inside the file.
// bbolt panics on a bad freelist while its mapping is live, and the mapping
// would keep the file locked; a truncated file makes it read past the end.
// With no valid meta page it returns nil and leaves the verdict to bbolt.
func preflight(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer f.Close() // read-only: closing cannot lose data
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	// A meta is magic, version, page size, flags (4 bytes each), root
	// bucket (16), freelist, high-water page, txid (8 each) and an FNV-64a
	// checksum (8) of everything before it; it follows the 16-byte page
	// header of id (8), flags (2), count (2) and overflow (4).
	const hdr, sumAt, freelistFlag, noFreelist = 16, 56, 0x10, ^uint64(0)
	le := binary.LittleEndian
	var best struct {
		txid, pageSize, freelist, highWater uint64
		ok                                  bool
	}
	pageSize := int64(os.Getpagesize())
	for i := range 2 {
		var m [sumAt + 8]byte
		if _, err := f.ReadAt(m[:], int64(i)*pageSize+hdr); err != nil {
			continue
		}
		h := fnv.New64a()
		h.Write(m[:sumAt]) // a hash.Hash never returns an error
		if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != 2 || h.Sum64() != le.Uint64(m[sumAt:]) {
			continue
		}
		if i == 0 {
			pageSize = int64(le.Uint32(m[8:]))
		}
		if txid := le.Uint64(m[48:]); !best.ok || txid > best.txid {
			best.txid, best.ok = txid, true
			best.pageSize = uint64(le.Uint32(m[8:]))
			best.freelist, best.highWater = le.Uint64(m[32:]), le.Uint64(m[40:])
		}
	}
	if !best.ok || best.pageSize < 512 || best.highWater > math.MaxInt64/best.pageSize {
		return nil
	}
	damaged := func(format string, args ...any) error {
		return &DamagedError{Path: path, Err: fmt.Errorf(format, args...)}
	}
	if need := best.highWater * best.pageSize; need > uint64(info.Size()) {
		return damaged("file is truncated: %d bytes, its pages need %d", info.Size(), need)
	}
	fl := best.freelist
	if fl == noFreelist {
		return nil
	}
	if fl < 2 || fl >= best.highWater {
		return damaged("freelist page %d is outside the file's %d pages", fl, best.highWater)
	}
	var ph [hdr]byte
	if _, err := f.ReadAt(ph[:], int64(fl*best.pageSize)); err != nil {
		return damaged("read freelist page %d: %w", fl, err)
	}
	if flags := le.Uint16(ph[8:]); flags != freelistFlag {
		return damaged("freelist page %d has page type %#x", fl, flags)
	}
	overflow := uint64(le.Uint32(ph[12:]))
	if fl+overflow >= best.highWater {
		return damaged("freelist page %d overflows the file's %d pages", fl, best.highWater)
	}
	page := make([]byte, (overflow+1)*best.pageSize)
	if _, err := f.ReadAt(page, int64(fl*best.pageSize)); err != nil {
		return damaged("read freelist page %d: %w", fl, err)
	}
	n, at := uint64(le.Uint16(page[10:])), uint64(hdr)
	if n == 0xFFFF { // the real count is the first element
		n, at = le.Uint64(page[hdr:]), hdr+8
	}
	if n > (uint64(len(page))-at)/8 {
		return damaged("freelist page %d lists %d pages, more than it holds", fl, n)
	}
	for i := range n {
		if id := le.Uint64(page[at+8*i:]); id < 2 || id >= best.highWater {
			return damaged("freelist page %d lists page %d, outside the file's %d pages", fl, id, best.highWater)
		}
	}
	return nil
}

// hasBoltMagic reports whether either meta page of path (at the usual 4 KB
// page size) starts with bbolt's magic number: then a file bbolt refuses is a
// damaged database rather than some other kind of file.
func hasBoltMagic(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	found := false
	var buf [4]byte
	for _, off := range []int64{16, 4096 + 16} {
		if _, err := f.ReadAt(buf[:], off); err == nil && binary.LittleEndian.Uint32(buf[:]) == boltMagic {
			found = true
		}
	}
	if err := f.Close(); err != nil {
		return false
	}
	return found
}

// guard runs fn, turning a panic or a memory fault (bbolt reading a corrupt
// or truncated mapping) into a *DamagedError.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &DamagedError{Path: path, Err: fmt.Errorf("reading it failed: %v", r)}
		}
	}()
	return fn()
}

// load checks the format marker and decodes every paper, sorted by ID.
func load(path string, tx *bolt.Tx) ([]*paper.Paper, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return nil, fmt.Errorf("open store %s: %w (a bbolt file without paperfeed's %q bucket); the file was left untouched", path, ErrForeign, bucketMeta)
	}
	marker := meta.Get(keyFormat)
	if marker == nil {
		return nil, fmt.Errorf("open store %s: %w (no format marker); the file was left untouched", path, ErrForeign)
	}
	if string(marker) != formatMarker {
		return nil, fmt.Errorf("open store %s: %w (format %q, this program reads %q); the file was left untouched", path, ErrForeign, marker, formatMarker)
	}
	b := tx.Bucket(bucketPapers)
	if b == nil {
		return nil, &DamagedError{Path: path, Err: fmt.Errorf("bucket %q is missing", bucketPapers)}
	}
	// Collect the records (views into the mapping, valid until the
	// transaction ends), then decode them on every core: decompressing is
	// most of Open's work.
	type record struct{ k, v []byte }
	var recs []record
	err := b.ForEach(func(k, v []byte) error {
		if v == nil {
			return fmt.Errorf("key %q is a bucket, not a paper", k)
		}
		recs = append(recs, record{k, v})
		return nil
	})
	if err != nil {
		return nil, &DamagedError{Path: path, Err: err}
	}
	papers := make([]*paper.Paper, len(recs))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(recs)/1000))
	chunk := (len(recs) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min(len(recs), (w+1)*chunk)
		wg.Go(func() {
			errs[w] = guard(path, func() error {
				var d decoder
				for i := lo; i < hi; i++ {
					p, err := d.decode(string(recs[i].k), recs[i].v)
					if err != nil {
						return &DamagedError{Path: path, Err: fmt.Errorf("paper %q: %w", recs[i].k, err)}
					}
					papers[i] = &p // one allocation each, so Prune frees what it drops
				}
				return nil
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first damaged record in key order
		}
	}
	return papers, nil
}

func closeDB(path string, db *bolt.DB) error {
	if err := db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", path, err)
	}
	return nil
}

// Close closes the file. Papers keeps answering from memory; Merge and Prune
// fail after Close.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return closeDB(s.path, s.db)
}

// Papers returns every paper in the history, sorted by ID, without I/O.
// The slice and the papers it points to are shared and read-only: callers
// must not modify either. They never change after being returned: later
// writes replace the store's slice, and store a changed paper as a new
// *paper.Paper rather than modifying the old one.
func (s *Store) Papers() []*paper.Paper {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.papers
}

// Len returns the number of papers in the history.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.papers)
}

// find returns the index of id in papers (sorted by ID) and whether it is there.
func find(papers []*paper.Paper, id string) (int, bool) {
	return slices.BinarySearchFunc(papers, id, func(p *paper.Paper, id string) int {
		return strings.Compare(p.ID, id)
	})
}

// Merge merges scraped papers into the history in one write transaction,
// following the package's merge rules, and reports which papers were added
// or changed so callers re-route only those.
func (s *Store) Merge(papers []paper.Paper, now time.Time) (MergeResult, error) {
	for i := range papers {
		if papers[i].ID == "" {
			return MergeResult{}, fmt.Errorf("merge: paper %d (title %q) has an empty id", i, papers[i].Title)
		}
	}
	if len(papers) == 0 {
		return MergeResult{}, nil
	}
	now = now.UTC()

	s.wmu.Lock()
	defer s.wmu.Unlock()
	old := s.papers // only writers replace it, and we hold wmu

	merged := make(map[string]*paper.Paper, len(papers))
	for i := range papers {
		in := &papers[i]
		cur, ok := merged[in.ID]
		if !ok {
			// A copy: the stored paper may be in a slice Papers returned.
			// mergeInto replaces cur's slices rather than writing into them,
			// so the copy may share them with the stored paper.
			cur = &paper.Paper{ID: in.ID, FirstSeen: now}
			if j, found := find(old, in.ID); found {
				*cur = *old[j]
			}
			merged[in.ID] = cur
		}
		mergeInto(cur, in)
		cur.LastSeen = now
	}

	ids := make([]string, 0, len(merged))
	for id := range merged {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	var res MergeResult
	values := make([][]byte, len(ids))
	for i, id := range ids {
		p := merged[id]
		if j, found := find(old, id); !found {
			res.Added++
			res.Changed = append(res.Changed, id)
		} else if !sameContent(old[j], p) {
			res.Updated++
			res.Changed = append(res.Changed, id)
		}
		v, err := s.enc.encode(p)
		if err != nil {
			return MergeResult{}, fmt.Errorf("merge: %w", err)
		}
		values[i] = v
	}

	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPapers)
		if b == nil {
			return fmt.Errorf("bucket %q is missing", bucketPapers)
		}
		b.FillPercent = fillPercent
		for i, id := range ids {
			if err := b.Put([]byte(id), values[i]); err != nil {
				return fmt.Errorf("put %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return MergeResult{}, fmt.Errorf("merge into store %s: %w", s.path, err)
	}

	// Copy the pointers, not the papers: the new slice shares every
	// unchanged paper with old and points to the new ones for the rest.
	next := make([]*paper.Paper, 0, len(old)+res.Added)
	i := 0
	for _, id := range ids {
		for i < len(old) && old[i].ID < id {
			next = append(next, old[i])
			i++
		}
		next = append(next, merged[id])
		if i < len(old) && old[i].ID == id {
			i++
		}
	}
	next = append(next, old[i:]...)

	s.mu.Lock()
	s.papers = next
	s.mu.Unlock()
	return res, nil
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

// sameContent reports whether a and b are stored the same apart from
// LastSeen.
func sameContent(a, b *paper.Paper) bool {
	return a.ID == b.ID &&
		a.Title == b.Title &&
		a.Abstract == b.Abstract &&
		slices.Equal(a.Authors, b.Authors) &&
		a.Link == b.Link &&
		a.Published.Equal(b.Published) &&
		a.Day.Equal(b.Day) &&
		a.Upvotes == b.Upvotes &&
		a.Comments == b.Comments &&
		a.Thumbnail == b.Thumbnail &&
		a.GitHubRepo == b.GitHubRepo &&
		a.GitHubStars == b.GitHubStars &&
		a.ProjectPage == b.ProjectPage &&
		a.Organization == b.Organization &&
		a.AISummary == b.AISummary &&
		slices.Equal(a.AIKeywords, b.AIKeywords) &&
		slices.Equal(a.Categories, b.Categories) &&
		a.ArxivComments == b.ArxivComments &&
		a.JournalRef == b.JournalRef &&
		a.Section == b.Section &&
		slices.Equal(a.Sources, b.Sources) &&
		a.FirstSeen.Equal(b.FirstSeen)
}

// listingDay is the day Prune dates a paper by.
func listingDay(p *paper.Paper) time.Time {
	switch {
	case !p.Day.IsZero():
		return p.Day
	case !p.Published.IsZero():
		return p.Published
	}
	return p.FirstSeen
}

// Prune drops, in one transaction, the papers whose listing day (Day, else
// Published, else FirstSeen) is before cutoff, and returns their IDs sorted.
// A zero cutoff drops nothing.
func (s *Store) Prune(cutoff time.Time) ([]string, error) {
	if cutoff.IsZero() {
		return nil, nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old := s.papers

	var dropped []string
	keep := make([]*paper.Paper, 0, len(old))
	for i := range old {
		if listingDay(old[i]).Before(cutoff) {
			dropped = append(dropped, old[i].ID)
		} else {
			keep = append(keep, old[i])
		}
	}
	if len(dropped) == 0 {
		return nil, nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPapers)
		if b == nil {
			return fmt.Errorf("bucket %q is missing", bucketPapers)
		}
		for _, id := range dropped {
			if err := b.Delete([]byte(id)); err != nil {
				return fmt.Errorf("delete %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prune store %s: %w", s.path, err)
	}
	s.mu.Lock()
	s.papers = keep
	s.mu.Unlock()
	return dropped, nil
}
