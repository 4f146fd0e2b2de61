package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paperfeed/paperfeed/paper"
)

// legacyMarker is the format marker of files written by the previous
// release: records in a fixed binary field order, no index, no state. Open
// migrates such a file to formatMarker in place.
const legacyMarker = "paperfeed-store 1"

// errShort reports a format 1 record that ends in the middle of a field.
var errShort = errors.New("record ends early")

// testHookMigrate, when set by a test, runs inside the migration's write
// transaction just before it commits; an error it returns aborts the
// migration.
var testHookMigrate func() error

// migrate rewrites a format 1 file as format 2 within tx: every record is
// decoded with the format 1 reader, given the Hub of a record written before
// the field (see listedByHub) and written back as JSON, the
// listing-day index and the state bucket are created, then the count, the
// generation (0) and the marker are set. It returns the number of papers.
// Its caller commits tx, so a crash or an error leaves the file as it was.
func migrate(path string, tx *bolt.Tx) (uint64, error) {
	damaged := func(format string, args ...any) error {
		return &DamagedError{Path: path, Err: fmt.Errorf(format, args...)}
	}
	meta, papers := tx.Bucket(bucketMeta), tx.Bucket(bucketPapers)
	for _, name := range [][]byte{bucketDays, bucketState} {
		if tx.Bucket(name) != nil {
			return 0, damaged("format 1 file holds a bucket %q of a later format", name)
		}
	}
	days, err := tx.CreateBucket(bucketDays)
	if err != nil {
		return 0, fmt.Errorf("migrate store %s: %w", path, err)
	}
	if _, err := tx.CreateBucket(bucketState); err != nil {
		return 0, fmt.Errorf("migrate store %s: %w", path, err)
	}
	papers.FillPercent, days.FillPercent = fillPercent, fillPercent
	var (
		d legacyDecoder
		e encoder
		n uint64
	)
	c := papers.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			return 0, damaged("key %q is a bucket, not a paper", k)
		}
		id := string(k)
		p, err := d.decode(id, v)
		if err != nil {
			return 0, damaged("paper %q: %w", id, err)
		}
		p.Hub = listedByHub(&p)
		rec, err := e.encode(&p)
		if err != nil {
			return 0, fmt.Errorf("migrate store %s: paper %q: %w", path, id, err)
		}
		key := []byte(id)
		if err := papers.Put(key, rec); err != nil {
			return 0, fmt.Errorf("migrate store %s: put %s: %w", path, id, err)
		}
		// A Put moves nothing but may invalidate the cursor: find the
		// key again before stepping on.
		c.Seek(key)
		if err := days.Put(dayKey(&p), nil); err != nil {
			return 0, fmt.Errorf("migrate store %s: index %s: %w", path, id, err)
		}
		n++
	}
	for _, kv := range []struct{ k, v []byte }{
		{keyCount, binary.BigEndian.AppendUint64(nil, n)},
		{keyGen, binary.BigEndian.AppendUint64(nil, 0)},
		{keyFormat, []byte(formatMarker)},
	} {
		if err := meta.Put(kv.k, kv.v); err != nil {
			return 0, fmt.Errorf("migrate store %s: %w", path, err)
		}
	}
	if testHookMigrate != nil {
		if err := testHookMigrate(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// legacyDecoder reads format 1 records, reusing its flate reader and buffer
// across records; it is not safe for concurrent use. Format 1 is only ever
// read, to migrate it.
type legacyDecoder struct{ u unpacker }

// decode parses the format 1 value v of the paper keyed id. It never panics
// and never trusts a length it has not checked against the remaining bytes.
func (d *legacyDecoder) decode(id string, v []byte) (paper.Paper, error) {
	body, err := d.u.body(v)
	if err != nil {
		return paper.Paper{}, err
	}
	p, err := parseBody(string(body))
	if err != nil {
		return paper.Paper{}, err
	}
	p.ID = id
	return p, nil
}

// parseBody reads a format 1 body: the fields paper.Paper had then, in the
// order below (ID excluded, it is the key); strings and string lists
// length-prefixed, integers as varints, times as a presence byte then Unix
// seconds and nanoseconds (so they come back in UTC). Strings are substrings
// of body, so a paper costs one string allocation plus one per list.
func parseBody(body string) (paper.Paper, error) {
	r := reader{s: body}
	var p paper.Paper
	p.Title = r.str()
	p.Abstract = r.str()
	p.Authors = r.strs()
	p.Link = r.str()
	p.Published = r.time()
	p.Day = r.time()
	p.Upvotes = r.int()
	p.Comments = r.int()
	p.Thumbnail = r.str()
	p.GitHubRepo = r.str()
	p.GitHubStars = r.int()
	p.ProjectPage = r.str()
	p.Organization = r.str()
	p.AISummary = r.str()
	p.AIKeywords = r.strs()
	p.Categories = r.strs()
	p.ArxivComments = r.str()
	p.JournalRef = r.str()
	p.Section = r.str()
	p.Sources = r.strs()
	p.FirstSeen = r.time()
	p.LastSeen = r.time()
	if r.err != nil {
		return paper.Paper{}, r.err
	}
	if r.pos != len(body) {
		return paper.Paper{}, fmt.Errorf("record has %d unexpected trailing bytes", len(body)-r.pos)
	}
	return p, nil
}

// reader reads parseBody's fields; after the first error every read returns
// a zero value and err keeps that first error.
type reader struct {
	s   string
	pos int
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var x uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if r.pos >= len(r.s) {
			r.fail(errShort)
			return 0
		}
		c := r.s[r.pos]
		r.pos++
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			if c == 0 && i > 0 {
				// Only minimal varints are accepted, so every
				// record has exactly one encoding.
				r.fail(errors.New("varint is not minimally encoded"))
				return 0
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	r.fail(errors.New("varint overflows 64 bits"))
	return 0
}

func (r *reader) varint() int64 {
	ux := r.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (r *reader) int() int {
	x := r.varint()
	if int64(int(x)) != x {
		r.fail(fmt.Errorf("integer %d overflows int", x))
		return 0
	}
	return int(x)
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.s)-r.pos) {
		r.fail(fmt.Errorf("string of %d bytes at offset %d: %w", n, r.pos, errShort))
		return ""
	}
	s := r.s[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s
}

func (r *reader) strs() []string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	// Every element takes at least its length byte.
	if n > uint64(len(r.s)-r.pos) {
		r.fail(fmt.Errorf("list of %d strings at offset %d: %w", n, r.pos, errShort))
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.str()
	}
	if r.err != nil {
		return nil
	}
	return ss
}

func (r *reader) time() time.Time {
	if r.err != nil {
		return time.Time{}
	}
	if r.pos >= len(r.s) {
		r.fail(errShort)
		return time.Time{}
	}
	flag := r.s[r.pos]
	r.pos++
	switch flag {
	case 0:
		return time.Time{}
	case 1:
	default:
		r.fail(fmt.Errorf("bad time marker %d at offset %d", flag, r.pos-1))
		return time.Time{}
	}
	sec := r.varint()
	nsec := r.uvarint()
	if r.err != nil {
		return time.Time{}
	}
	if nsec >= uint64(time.Second) {
		r.fail(fmt.Errorf("time nanoseconds %d out of range", nsec))
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec)).UTC()
	if t.IsZero() {
		// Only the zero marker may stand for the zero time, so a record
		// has one encoding and re-encodes to the same bytes.
		r.fail(errors.New("time set to the zero time"))
		return time.Time{}
	}
	return t
}
