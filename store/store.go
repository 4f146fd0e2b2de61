// Package store keeps the history of every paper paperfeed has seen, in one
// bbolt file. It is the only package that touches the database file.
//
// # Contract
//
// Open opens the file for reading and writing, creating it when absent,
// and migrates a file of the previous format (see Format). A new store is
// built whole under a temporary name in the same directory and linked into
// place, so no crash can leave a 0-byte file (or half a store) behind. Open
// never repairs, rewrites or wipes a file it cannot read: a file held by
// another process fails with ErrLocked; a file that is not a paperfeed
// store fails with ErrForeign; a paperfeed store whose structure cannot be
// read fails with a *DamagedError, and so does an empty (0-byte) file, which
// is never taken for a new store. In every failing case the file is left
// byte-for-byte untouched, because a file is first opened read-only and
// checked before it is opened for writing.
//
// OpenWith takes Options. Wait is how long to wait for another process's
// lock before ErrLocked (0, Open's choice, fails at once). ReadOnly opens
// the file under a lock shared with other read-only Stores, in this process
// or another: it never creates, migrates or writes the file, a missing file
// is an error wrapping fs.ErrNotExist, a format 1 file fails with ErrOlder,
// and Merge, Prune and SaveState fail with ErrReadOnly. A writer and readers
// exclude each other: each waits (up to its Wait) for the others to close.
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
// Papers are keyed by Paper.ID. A paper that cannot be stored is skipped
// and reported in MergeResult.Skipped, with why: an empty ID, an ID longer
// than bbolt's keys allow, a record over 1 MiB of JSON, a time JSON cannot
// write (a year after 9999). The history keeps what it held of a skipped
// paper, and the rest of the batch is merged in the same transaction; only
// a failure of the file itself (damage, including a damaged record of a
// paper being merged, or a failed write) fails Merge, writing nothing.
// Several papers with one ID in a batch are merged in order. A new
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
//   - Hub: true once any source said so.
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
// # Retention
//
// Prune(cutoff) drops a paper only when both its date (its listing day:
// Day, else Published, else FirstSeen) and its LastSeen are before cutoff.
// A paper that any source still lists is therefore never dropped, however
// old (a lab page's papers of years ago stay while the page lists them),
// and one that no source lists any more is kept for the retention after it
// was last seen or dated, whichever is later. Prune walks the listing-day
// index from its oldest end up to the cutoff and reads only the papers
// dated before it, not the whole history. A zero cutoff drops nothing:
// whether to prune at all is the caller's decision.
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
// Bucket "papers" maps ID to a record: a kind byte (1 raw, 2 flate, 3 one
// zstd frame; this program writes 1 and 3 and reads all three), a CRC-32C (little-endian) of the stored bytes (bbolt checksums only its
// meta pages), then the stored bytes. The body is a JSON object: "v", the
// record version (2), then the paper under paper.Paper's json tags, without
// "id" (it is the key) and with "hub" even when false. Bodies of 256 bytes
// or more are compressed when that makes them smaller. A reader ignores
// fields it does not know and leaves the fields a record lacks zero, so
// adding a field to paper.Paper needs no migration; "v" and the marker
// change, with a migration, only when a field changes meaning. A real
// Hugging Face paper takes about 2.5 KB of JSON, 1.3 KB compressed, and a
// store about 1.4 KB of file per paper.
//
// The one field a record lacks that does not read as zero is "hub", which
// records written before paper.Paper had Hub lack: such a record reads with
// Hub true when it is an arXiv paper carrying a field only Hugging Face
// gives (upvotes, comments, GitHub stars, AI summary or keywords, thumbnail,
// organization), false otherwise. That is why "hub" is written even when
// false: a record with it keeps its value.
//
// Bucket "days" is the listing-day index, kept by Merge (a paper's listing
// day moves when its Day or Published becomes known later): for every paper
// an empty value under its listing day's Unix seconds (8 bytes big-endian,
// the sign bit flipped so that days before 1970 sort first) followed by its
// ID.
//
// Bucket "state" holds the values of SaveState, as given.
//
// Bucket "marks" holds delivery marks, created by the first SaveMarks (see
// marks.go). SaveMarks, like SaveState, writes one transaction and leaves
// Gen alone.
//
// A file of format "paperfeed-store 1" (records in a fixed binary field
// order, no index, no state) is migrated in place by the first Open, in one
// write transaction: every record is decoded with the format 1 reader,
// given Hub by the rule for records without "hub", and written as a format
// 2 record, the index and counters are built, and the marker is set. (A
// read-only Store never migrates: it refuses a format 1 file.) A crash leaves the whole old file or the whole new one; a
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
	"io/fs"
	"math"
	"os"
	"path/filepath"
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

// ErrLocked is returned by OpenWith when another process holds the file
// after Options.Wait; also when another open Store in this process does
// (the lock is an flock on each open file description). A writer holds the
// file alone; read-only Stores share it with each other.
var ErrLocked = errors.New("store file is locked by another process")

// ErrForeign is returned (wrapped, with the file name) by Open when the file
// is not a paperfeed store: not a bbolt file, or a bbolt file without
// paperfeed's format marker, or one of an unknown format version.
var ErrForeign = errors.New("not a paperfeed store")

// ErrEmpty is the Err of the *DamagedError that Open returns for a file of 0
// bytes. paperfeed never leaves one (a new store is built under a temporary
// name and linked into place whole), so such a file is someone else's, or
// was left by an interrupted first start of an older release.
var ErrEmpty = errors.New("empty (0 bytes): not a paperfeed history")

// ErrReadOnly is returned (wrapped) by Merge, Prune and SaveState on a Store
// opened with Options.ReadOnly.
var ErrReadOnly = errors.New("store is open read-only")

// ErrOlder is returned (wrapped, with the file name) by a read-only OpenWith
// for a file of the previous format, which only a writer migrates.
var ErrOlder = errors.New("written by an older paperfeed: run paperfeed once to migrate it")

// DamagedError is returned when the file is a paperfeed store (or claims to
// be) that cannot be read back: by Open for damage to its structure, by the
// call that reads it for a damaged record. The file is left untouched.
type DamagedError struct {
	Path string
	Err  error
}

func (e *DamagedError) Error() string {
	if errors.Is(e.Err, ErrEmpty) {
		return fmt.Sprintf("store %s is %v; if a first start was interrupted, remove it (the file was left untouched)", e.Path, e.Err)
	}
	return fmt.Sprintf("store %s is damaged and was left untouched (restore it from a backup or move it aside): %v", e.Path, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// ErrDamaged matches every *DamagedError under errors.Is, for a caller that
// only asks whether the file is damaged.
var ErrDamaged = errors.New("store is damaged")

// Is reports whether target is ErrDamaged.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// Store is an open history file. Its methods are safe for concurrent use;
// Merge, Prune and SaveState are serialised.
type Store struct {
	path     string
	db       *bolt.DB
	readOnly bool

	// wmu serialises writers (Merge, Prune, SaveState, Close); it guards
	// enc.
	wmu sync.Mutex
	enc encoder

	// count and gen mirror the meta bucket's counters; writers store
	// them after each commit.
	count atomic.Uint64
	gen   atomic.Uint64
}

// Options say how OpenWith opens a store.
type Options struct {
	// ReadOnly opens the file for reading only, under a lock it shares
	// with other read-only Stores: it never creates, migrates or writes
	// the file, and Merge, Prune and SaveState fail with ErrReadOnly. A
	// writer waits for the readers to close the file, and they for it.
	ReadOnly bool
	// Wait is how long to wait for another process's lock before failing
	// with ErrLocked; 0 fails at once.
	Wait time.Duration
}

// Open opens the store file at path for reading and writing, creating it
// if absent and migrating a format 1 file, and fails at once when another
// process holds it: it is OpenWith(path, Options{}).
func Open(path string) (*Store, error) {
	return OpenWith(path, Options{})
}

// OpenWith opens the store file at path as o says. See the package comment
// for its errors; the file is never modified when OpenWith fails on it.
func OpenWith(path string, o Options) (*Store, error) {
	deadline := time.Now().Add(o.Wait)
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && !o.ReadOnly {
		if err := create(path); err != nil {
			return nil, err
		}
		// What is there now is ours, or another process's that won the
		// race to create it: either way it is opened like any store.
		info, err = os.Stat(path)
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("open store: %w", err)
	case !info.Mode().IsRegular():
		return nil, fmt.Errorf("open store %s: not a regular file", path)
	case info.Size() == 0:
		// bbolt would take it for a new file and write its first pages.
		return nil, &DamagedError{Path: path, Err: ErrEmpty}
	}
	if o.ReadOnly {
		db, h, err := openRO(path, lockWait(deadline))
		if err != nil {
			return nil, err
		}
		if h.format != formatMarker {
			return nil, errors.Join(fmt.Errorf("open store %s: %w", path, ErrOlder), closeDB(path, db))
		}
		s := &Store{path: path, db: db, readOnly: true}
		s.count.Store(h.count)
		s.gen.Store(h.gen)
		return s, nil
	}
	if err := validate(path, lockWait(deadline)); err != nil {
		return nil, err
	}
	db, err := openRW(path, lockWait(deadline))
	if err != nil {
		return nil, err
	}
	s, err := start(path, db)
	if err != nil {
		return nil, errors.Join(err, closeDB(path, db))
	}
	return s, nil
}

// lockWait is bbolt's lock timeout for a lock wanted by deadline: at least
// a nanosecond, which tries the lock once, since bbolt's 0 waits forever.
func lockWait(deadline time.Time) time.Duration {
	return max(time.Until(deadline), time.Nanosecond)
}

// Test hooks of create: testHookCreate, when set, runs once the new store
// is built under its temporary name, before it is linked into place (an
// error it returns fails create); linkFile links the new store into place.
var (
	testHookCreate func(tmp string) error
	linkFile       = os.Link
)

// create makes a new, empty store at path, which did not exist. bbolt
// creates its file first and writes its first pages after, so a process
// killed in between would leave a 0-byte file at path, which Open refuses.
// The store is therefore built whole under a temporary name in the same
// directory (bbolt fsyncs it) and linked into place, then the directory is
// fsync'd: a crash leaves no file at path or a whole store (and at worst
// a temporary file, "<name>.new-<digits>", to delete). A link never
// replaces a file: when another process created path meanwhile, its store
// is kept and ours deleted. Where the file system has no hard links, the
// store is renamed into place instead.
func create(path string) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".new-*")
	if err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	tmp := f.Name()
	// Whatever happens, the temporary name goes: after the link, path
	// names the store alone.
	defer func() {
		if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("create store: %w", rerr))
		}
	}()
	if err := f.Close(); err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	if err := initialise(tmp); err != nil {
		return fmt.Errorf("create store %s: %w", path, err)
	}
	if testHookCreate != nil {
		if err := testHookCreate(tmp); err != nil {
			return fmt.Errorf("create store %s: %w", path, err)
		}
	}
	switch err := linkFile(tmp, path); {
	case errors.Is(err, fs.ErrExist):
		return nil // another process's store: open that one
	case err != nil:
		if _, serr := os.Lstat(path); serr == nil {
			return nil // created meanwhile, as above
		}
		if rerr := os.Rename(tmp, path); rerr != nil {
			return fmt.Errorf("create store %s: %w", path, errors.Join(err, rerr))
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("create store %s: %w", path, err)
	}
	return nil
}

// initialise writes an empty format 2 store into the empty file at path.
func initialise(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Nanosecond})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
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
	return errors.Join(err, db.Close())
}

// syncDir fsyncs the directory dir, so that a name just linked into it
// survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
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

// openRO opens path read-only, under a shared lock it waits for up to
// wait, and checks it (see preflight and check) before anything else reads
// it. bbolt's Open reads only the meta pages here: the freelist, which bbolt
// would trust blindly, is not loaded (a read-only handle never needs it), and
// preflight checks it under the lock, where no writer can be changing it.
func openRO(path string, wait time.Duration) (*bolt.DB, header, error) {
	var file *os.File
	opts := &bolt.Options{
		ReadOnly: true,
		Timeout:  wait,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	var (
		db *bolt.DB
		h  header
	)
	err := guard(path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, opts)
		if err != nil {
			return openError(path, err)
		}
		if err := preflight(path); err != nil {
			return err
		}
		return db.View(func(tx *bolt.Tx) error {
			var err error
			h, err = check(path, tx)
			return err
		})
	})
	switch {
	case err == nil:
		return db, h, nil
	case db != nil:
		// Closing a read-only handle writes nothing.
		err = errors.Join(err, closeDB(path, db))
	case file != nil:
		// bbolt failed or panicked inside Open: release the file and its
		// shared lock.
		if cerr := file.Close(); cerr != nil && !errors.Is(cerr, os.ErrClosed) {
			err = errors.Join(err, fmt.Errorf("close store %s: %w", path, cerr))
		}
	}
	return nil, header{}, err
}

// validate opens path read-only and checks it (see openRO).
func validate(path string, wait time.Duration) error {
	db, _, err := openRO(path, wait)
	if err != nil {
		return err
	}
	return closeDB(path, db)
}

// openRW opens path for writing, waiting up to wait for its lock.
func openRW(path string, wait time.Duration) (*bolt.DB, error) {
	var db *bolt.DB
	err := guard(path, func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: wait})
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
	if info.Size() == 0 {
		return &DamagedError{Path: path, Err: ErrEmpty}
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
	return s.ForEachRecord(func(_ string, _ uint32, decode func() (*paper.Paper, error)) error {
		p, err := decode()
		if err != nil {
			return err
		}
		return fn(p)
	})
}

// ForEachRecord is ForEach for a caller that keeps what it derives from
// papers between walks: it calls fn with each paper's ID and the checksum
// of its stored record, which changes whenever the paper is written with
// other content (a CRC-32C: two contents share one by chance once in four
// billion), and a decode that gives the paper. A paper whose checksum
// fn knew need not be decoded. decode is valid only during the call. An
// error from fn stops the walk and is returned as is.
func (s *Store) ForEachRecord(fn func(id string, sum uint32, decode func() (*paper.Paper, error)) error) error {
	var fnErr error
	err := s.db.View(func(tx *bolt.Tx) error {
		var (
			c    *bolt.Cursor
			d    decoder
			k, v []byte
		)
		decode := func() (*paper.Paper, error) {
			var p *paper.Paper
			err := guard(s.path, func() error {
				q, err := s.decode(&d, k, v)
				p = &q
				return err
			})
			return p, err
		}
		for {
			err := guard(s.path, func() error {
				if c == nil {
					c = tx.Bucket(bucketPapers).Cursor()
					k, v = c.First()
				} else {
					k, v = c.Next()
				}
				switch {
				case k == nil:
				case v == nil:
					return s.damaged("key %q is a bucket, not a paper", k)
				case len(v) < headerLen:
					return s.damaged("paper %q: record of %d bytes is shorter than its header", k, len(v))
				}
				return nil
			})
			if err != nil || k == nil {
				return err
			}
			if fnErr = fn(string(k), binary.LittleEndian.Uint32(v[1:headerLen]), decode); fnErr != nil {
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

// State returns every entry of the state bucket, or with keys only the
// entries of those keys it holds.
func (s *Store) State(keys ...string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketState)
		if len(keys) == 0 {
			return b.ForEach(func(k, v []byte) error {
				if v == nil {
					return s.damaged("state key %q is a bucket", k)
				}
				out[string(k)] = bytes.Clone(v)
				return nil
			})
		}
		c := b.Cursor()
		for _, key := range keys {
			k, v := c.Seek([]byte(key))
			switch {
			case k == nil || string(k) != key:
			case v == nil:
				return s.damaged("state key %q is a bucket", k)
			default:
				out[key] = bytes.Clone(v)
			}
		}
		return nil
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
