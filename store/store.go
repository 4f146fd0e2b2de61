// Package store keeps the history of every paper paperfeed has seen, in one
// bbolt file. It is the only package that touches the database file.
//
// # Contract
//
// Open opens the file, creating it when absent (or initialising it when it
// is empty), and migrates a file of the previous format (see Format). It
// never repairs, rewrites or wipes a file it cannot read: a file held by
// another process fails at once with ErrLocked; a file that is not a
// paperfeed store fails with ErrForeign; a paperfeed store whose structure
// cannot be read fails with a *DamagedError. In every failing case the file
// is left byte-for-byte untouched, because a non-empty file is first opened
// read-only and checked before it is opened for writing.
//
// Open reads no record, so it costs the same for ten papers as for a
// million. It checks what bbolt would otherwise trust blindly (its meta
// pages, the freelist, the file's length), lets bbolt make its own checks,
// then checks the format marker, the buckets, the counters and the pages at
// both ends of every bucket. A damaged record, or damage deeper inside a
// bucket's tree, is therefore no longer an Open error, as it was in format
// 1: records are checksummed and decoded when they are read, and the first
// call that reads a damaged one (Get, ForEach, a Merge or Prune that reads
// that paper, Verify) fails with a *DamagedError naming the paper and leaves
// the file untouched; papers elsewhere in the file still read. Verify reads
// and checks every record, the index and the counters, for a check on
// demand.
//
// Nothing proportional to the history is held in memory. Len and Gen answer
// from counters kept in the file; Get and ForEach decode papers from the
// memory-mapped file as they are asked for (ForEach one at a time), and
// every paper they or Merge return is the caller's own, shared with nothing.
// A read runs in one bbolt read transaction, so it sees the history as a
// whole write left it, never half of one.
//
// Merge, Prune and SaveState each write at most one bbolt transaction,
// fsync'd before they return; writers are serialised, and a failed or
// interrupted write changes nothing (neither the file nor Len and Gen). A
// process killed at any moment leaves a file that opens with every paper of
// every Merge that returned. All methods are safe for concurrent use, but
// the fn given to ForEach must not use the Store except for Len and Gen: a
// writer may be waiting for ForEach's read to end, and a read started
// behind it would wait for the writer.
//
// # Merge rules
//
// Papers are keyed by Paper.ID (an empty ID fails the whole Merge, nothing
// written). Several papers with one ID in a batch are merged in order. A new
// paper is stored as given with FirstSeen = now and LastSeen = now's UTC
// day; an already known one is updated field by field:
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
//   - FirstSeen never changes. LastSeen becomes now's UTC day: the history
//     keeps LastSeen to the day (UTC midnight), not to the nanosecond, so
//     that seeing a paper again on the same day is no change to write.
//     (Papers migrated from format 1 keep the exact LastSeen it stored
//     until they are next written.) Scrapers' own FirstSeen/LastSeen are
//     ignored.
//
// A paper counts as changed when its stored form differs in anything but
// LastSeen, so re-merging identical data reports nothing changed. A known
// paper is written only when it changed or its LastSeen moves to a new day;
// a Merge with no paper to write opens no write transaction, so a re-scrape
// on the same day leaves the file as it was. Times are stored in UTC to the
// nanosecond (their location and monotonic reading are dropped); empty
// slices are stored as nil; strings are stored as UTF-8 (encoding/json
// writes an invalid byte as U+FFFD).
//
// Prune drops papers whose listing day (Day, else Published, else
// FirstSeen) is before the cutoff, walking the listing-day index from its
// start up to the cutoff rather than the history. A zero cutoff drops
// nothing: whether to prune at all is the caller's decision.
//
// Gen counts the transactions of Merge and Prune that wrote papers (a new or
// migrated store is at 0), so a caller that saved something derived from the
// history can tell whether the history moved since. State and SaveState keep
// opaque values by key for the site-building stage (its topic members and
// what it last rendered), written in one transaction that leaves Gen alone.
//
// # Format
//
// Bucket "meta" holds "format" = "paperfeed-store 2", and "count" (papers in
// the history) and "gen" as 8-byte big-endian integers; a bbolt file without
// the marker, or with a marker this program does not know, is foreign.
//
// Bucket "papers" maps ID to a record: a kind byte (1 raw, 2 compress/flate),
// a CRC-32C (little-endian) of the stored bytes (bbolt checksums only its
// meta pages), then the stored bytes. The body is a JSON object: "v", the
// record version (2), then the paper under paper.Paper's json tags, without
// "id" (it is the key). Bodies of 256 bytes or more are compressed when that
// makes them smaller. A reader ignores fields it does not know and leaves
// the fields a record lacks zero, so adding a field to paper.Paper needs no
// migration; "v" and the marker change, with a migration, only when a field
// changes meaning. A real Hugging Face paper takes about 2.5 KB of JSON,
// 1.2 KB compressed, and a store about 1.4 KB of file per paper.
//
// Bucket "days" is the listing-day index, kept by Merge (a paper's listing
// day moves when its Day or Published becomes known later): for every paper
// an empty value under its listing day's Unix seconds (8 bytes big-endian,
// the sign bit flipped so that days before 1970 sort first) followed by its
// ID.
//
// Bucket "state" holds the values of SaveState, as given.
//
// A file of format "paperfeed-store 1" (records in a fixed binary field
// order, no index, no state) is migrated in place by the first Open, in one
// write transaction: every record is decoded with the format 1 reader and
// written as a format 2 record, the index and counters are built, and the
// marker is set. A crash leaves the whole old file or the whole new one; a
// format 1 file with a damaged record is refused with a *DamagedError,
// untouched, as before. Migration is the one step that holds the whole
// history in memory (bbolt keeps a transaction's pages until it commits),
// once; the file keeps the old pages as free space for later writes.
package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/paperfeed/paperfeed/paper"
)

// formatMarker identifies a paperfeed store and its format version.
const formatMarker = "paperfeed-store 2"

// lockTimeout is how long Open waits for another process's lock. Short:
// a second paperfeed on the same file is a mistake to report, not to queue.
const lockTimeout = 100 * time.Millisecond

// fillPercent packs leaf pages full: arXiv IDs and listing days grow with
// time, so inserts are mostly appends and pages are rarely split in the
// middle again. (At bbolt's default of 0.5, or 0.9, a 4 KB page takes two
// records of a real paper's 1.2 KB where three fit, and a third of the file
// is empty.)
const fillPercent = 1.0

var (
	bucketMeta   = []byte("meta")
	bucketPapers = []byte("papers")
	bucketDays   = []byte("days")
	bucketState  = []byte("state")
	keyFormat    = []byte("format")
	keyCount     = []byte("count")
	keyGen       = []byte("gen")
)

// ErrLocked is returned by Open, after about 100ms, when another process
// holds the file; also when another open Store in this process does (the
// lock is an flock on each open file description).
var ErrLocked = errors.New("store file is locked by another process")

// ErrForeign is returned (wrapped, with the file name) by Open when the file
// is not a paperfeed store: not a bbolt file, or a bbolt file without
// paperfeed's format marker, or one of an unknown format version.
var ErrForeign = errors.New("not a paperfeed store")

// DamagedError is returned when the file is a paperfeed store (or claims to
// be) that cannot be read back: by Open for damage to its structure, by the
// call that reads it for a damaged record. The file is left untouched.
type DamagedError struct {
	Path string
	Err  error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("store %s is damaged and was left untouched (restore it from a backup or move it aside): %v", e.Path, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// Store is an open history file. Its methods are safe for concurrent use;
// Merge, Prune and SaveState are serialised.
type Store struct {
	path string
	db   *bolt.DB

	// wmu serialises writers (Merge, Prune, SaveState, Close); it guards
	// enc.
	wmu sync.Mutex
	enc encoder

	// count and gen mirror the meta bucket's counters; writers store
	// them after each commit.
	count atomic.Uint64
	gen   atomic.Uint64
}

// Open opens the store file at path, creating it if absent and migrating a
// format 1 file. See the package comment for its errors; the file is never
// modified when Open fails on it.
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
	if err := validate(path); err != nil {
		return nil, err
	}
	db, err := openRW(path)
	if err != nil {
		return nil, err
	}
	s, err := start(path, db)
	if err != nil {
		return nil, errors.Join(err, closeDB(path, db))
	}
	return s, nil
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
			// nothing, and let start judge what is there.
			return nil
		}
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		for _, kv := range []struct{ k, v []byte }{
			{keyFormat, []byte(formatMarker)},
			{keyCount, binary.BigEndian.AppendUint64(nil, 0)},
			{keyGen, binary.BigEndian.AppendUint64(nil, 0)},
		} {
			if err := meta.Put(kv.k, kv.v); err != nil {
				return err
			}
		}
		for _, name := range [][]byte{bucketPapers, bucketDays, bucketState} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create store %s: %w", path, err), closeDB(path, db))
	}
	s, err := start(path, db)
	if err != nil {
		return nil, errors.Join(err, closeDB(path, db))
	}
	return s, nil
}

// start checks the file again now that db holds its lock (another process
// may have written since the read-only check), migrates a format 1 file and
// reads the counters.
func start(path string, db *bolt.DB) (*Store, error) {
	var h header
	err := guard(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			var err error
			h, err = check(path, tx)
			return err
		})
	})
	if err == nil && h.format == legacyMarker {
		err = guard(path, func() error {
			return db.Update(func(tx *bolt.Tx) error {
				n, err := migrate(path, tx)
				h = header{format: formatMarker, count: n}
				return err
			})
		})
	}
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, db: db}
	s.count.Store(h.count)
	s.gen.Store(h.gen)
	return s, nil
}

// validate opens path read-only and checks it (see check).
func validate(path string) error {
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
		return err
	}
	var db *bolt.DB
	err := guard(path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, opts)
		if err != nil {
			return openError(path, err)
		}
		return db.View(func(tx *bolt.Tx) error {
			_, err := check(path, tx)
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
	return err
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

// header is what check reads from a file: its format, and for format 2 its
// counters.
type header struct {
	format     string
	count, gen uint64
}

// check checks that the file holds the pages tx needs, reads the meta
// bucket and checks that the buckets of the file's format are there, reading
// the pages at both ends of each (a bucket's root among them) but no record:
// it costs the same for any size of history.
func check(path string, tx *bolt.Tx) (header, error) {
	damaged := func(format string, args ...any) error {
		return &DamagedError{Path: path, Err: fmt.Errorf(format, args...)}
	}
	info, err := os.Stat(path)
	if err != nil {
		return header{}, fmt.Errorf("open store: %w", err)
	}
	if tx.Size() > info.Size() {
		return header{}, damaged("file is truncated: %d bytes, its pages need %d", info.Size(), tx.Size())
	}
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return header{}, fmt.Errorf("open store %s: %w (a bbolt file without paperfeed's %q bucket); the file was left untouched", path, ErrForeign, bucketMeta)
	}
	marker := meta.Get(keyFormat)
	if marker == nil {
		return header{}, fmt.Errorf("open store %s: %w (no format marker); the file was left untouched", path, ErrForeign)
	}
	h := header{format: string(marker)}
	var buckets [][]byte
	switch h.format {
	case formatMarker:
		buckets = [][]byte{bucketPapers, bucketDays, bucketState}
		for _, c := range []struct {
			key []byte
			dst *uint64
		}{{keyCount, &h.count}, {keyGen, &h.gen}} {
			v := meta.Get(c.key)
			if len(v) != 8 {
				return header{}, damaged("meta %q is %d bytes, want 8", c.key, len(v))
			}
			*c.dst = binary.BigEndian.Uint64(v)
		}
	case legacyMarker:
		buckets = [][]byte{bucketPapers}
	default:
		return header{}, fmt.Errorf("open store %s: %w (format %q, this program reads %q and migrates %q); the file was left untouched", path, ErrForeign, marker, formatMarker, legacyMarker)
	}
	for _, name := range buckets {
		b := tx.Bucket(name)
		if b == nil {
			return header{}, damaged("bucket %q is missing", name)
		}
		c := b.Cursor()
		c.First()
		c.Last()
	}
	return h, nil
}

func closeDB(path string, db *bolt.DB) error {
	if err := db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", path, err)
	}
	return nil
}

// Close closes the file. Len and Gen keep answering with the last values;
// every other method fails after Close.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return closeDB(s.path, s.db)
}

// Len returns the number of papers in the history, from the count kept in
// the file (no scan).
func (s *Store) Len() int { return int(s.count.Load()) }

// Gen returns the history's generation: the number of Merge and Prune
// transactions that wrote papers, kept in the file.
func (s *Store) Gen() uint64 { return s.gen.Load() }

// view runs fn in a read transaction, guarded: fn must not call code of the
// caller's, whose panics would be reported as damage.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	return guard(s.path, func() error {
		if err := s.db.View(fn); err != nil {
			return s.wrap(err)
		}
		return nil
	})
}

// wrap names the store in an error of bbolt's; a *DamagedError, which
// names it already, is returned as is.
func (s *Store) wrap(err error) error {
	var d *DamagedError
	if errors.As(err, &d) {
		return err
	}
	return fmt.Errorf("store %s: %w", s.path, err)
}

// damaged reports a damaged record or index entry.
func (s *Store) damaged(format string, args ...any) error {
	return &DamagedError{Path: s.path, Err: fmt.Errorf(format, args...)}
}

// read looks id up in the papers bucket through c and decodes it; found is
// false when id is not in the history.
func (s *Store) read(c *bolt.Cursor, d *decoder, id string) (p paper.Paper, found bool, err error) {
	k, v := c.Seek([]byte(id))
	if k == nil || string(k) != id {
		return paper.Paper{}, false, nil
	}
	p, err = s.decode(d, k, v)
	return p, err == nil, err
}

// decode decodes the record v keyed k, reporting damage with the paper's ID.
func (s *Store) decode(d *decoder, k, v []byte) (paper.Paper, error) {
	if v == nil {
		return paper.Paper{}, s.damaged("key %q is a bucket, not a paper", k)
	}
	p, err := d.decode(string(k), v)
	if err != nil {
		return paper.Paper{}, s.damaged("paper %q: %w", k, err)
	}
	return p, nil
}

// Get returns the papers of ids that are in the history, read in one
// transaction; ids not in the history are absent from the map.
func (s *Store) Get(ids ...string) (map[string]*paper.Paper, error) {
	out := make(map[string]*paper.Paper, len(ids))
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPapers).Cursor()
		var d decoder
		for _, id := range ids {
			if _, done := out[id]; done {
				continue
			}
			p, found, err := s.read(c, &d, id)
			if err != nil {
				return err
			}
			if found {
				out[id] = &p
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForEach calls fn with every paper in the history in ID order, decoding
// them one at a time in one read transaction. An error from fn stops the
// walk and is returned as is. fn may keep the papers; it must not use the
// Store except for Len and Gen (see the package comment).
func (s *Store) ForEach(fn func(p *paper.Paper) error) error {
	var fnErr error
	err := s.db.View(func(tx *bolt.Tx) error {
		var (
			c    *bolt.Cursor
			d    decoder
			k, v []byte
		)
		// Only the bbolt and decoding steps run guarded, not fn: a panic
		// of the caller's is not damage to the file.
		next := func() (*paper.Paper, error) {
			var p *paper.Paper
			err := guard(s.path, func() error {
				if c == nil {
					c = tx.Bucket(bucketPapers).Cursor()
					k, v = c.First()
				} else {
					k, v = c.Next()
				}
				if k == nil {
					return nil
				}
				q, err := s.decode(&d, k, v)
				p = &q
				return err
			})
			return p, err
		}
		for {
			p, err := next()
			if err != nil || p == nil {
				return err
			}
			if fnErr = fn(p); fnErr != nil {
				return fnErr
			}
		}
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return s.wrap(err)
	}
	return nil
}

// State returns every entry of the state bucket.
func (s *Store) State() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketState).ForEach(func(k, v []byte) error {
			if v == nil {
				return s.damaged("state key %q is a bucket", k)
			}
			out[string(k)] = bytes.Clone(v)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Verify reads every page of every bucket: every record (checksum and
// decoding), the listing-day index (one entry per paper, under the paper's
// listing day), the count and the state. It returns the first problem found,
// as a *DamagedError, and changes nothing. (bbolt's own Tx.Check is not used:
// it reads the pages in a goroutine of its own, where a damaged page would
// crash the program instead of being reported.)
func (s *Store) Verify() error {
	return s.view(func(tx *bolt.Tx) error {
		h, err := check(s.path, tx)
		if err != nil {
			return err
		}
		days := tx.Bucket(bucketDays).Cursor()
		var d decoder
		var n uint64
		c := tx.Bucket(bucketPapers).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			p, err := s.decode(&d, k, v)
			if err != nil {
				return err
			}
			key := dayKey(&p)
			if got, _ := days.Seek(key); !bytes.Equal(got, key) {
				return s.damaged("paper %q is missing from the listing-day index", k)
			}
			n++
		}
		var entries uint64
		for k, _ := days.First(); k != nil; k, _ = days.Next() {
			if len(k) < 8 {
				return s.damaged("listing-day index key %x is shorter than 8 bytes", k)
			}
			entries++
		}
		switch {
		case entries != n:
			return s.damaged("listing-day index holds %d entries for %d papers", entries, n)
		case h.count != n:
			return s.damaged("meta count is %d, the history holds %d papers", h.count, n)
		}
		return tx.Bucket(bucketState).ForEach(func(k, v []byte) error {
			if v == nil {
				return s.damaged("state key %q is a bucket", k)
			}
			return nil
		})
	})
}
