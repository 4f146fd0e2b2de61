package learn

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/topic"
)

// Cache is what a learning pass keeps of the history for the next one: the
// words of its papers and, for each paper, the checksum of its stored
// record, its digest, its listing day and its tokens. A pass whose
// Learner has it (NewCached) tokenises only the papers whose records
// changed: tokenising and decoding every paper was 2.8 s of the 6 s that
// one like-topic's pass over 100,000 papers took. The result is the same
// as without it, bit for bit. WriteTo encodes it; ReadCache reads it back.
type Cache struct {
	words  []string
	order  []string // the papers' IDs, sorted
	papers []cached // by order
	at     int      // where the last find found a paper
}

// find is where the cache has paper id, if it has it: the one after the
// last found first, as a walk of the history in ID order asks for them.
func (c *Cache) find(id string) (int, bool) {
	i := c.at
	if i >= len(c.order) || c.order[i] != id {
		var ok bool
		if i, ok = slices.BinarySearch(c.order, id); !ok {
			return 0, false
		}
	}
	c.at = i + 1
	return i, true
}

// cached is what a Cache keeps of one paper.
type cached struct {
	sum    uint32 // of its stored record
	digest [sha256.Size]byte
	day    time.Time
	toks   []int32
}

// Len is the number of papers the cache holds.
func (c *Cache) Len() int { return len(c.order) }

// NewCached is New for a pass that takes from c, an earlier pass's Cache
// (nil: none), each paper whose record it holds under the same checksum
// (see AddRecord), and keeps what the next pass takes (see WriteCache). The
// pass uses c up: its tokens become the corpus's.
func NewCached(router *topic.Router, topics []Topic, o like.Options, c *Cache) (*Learner, error) {
	l, err := New(router, topics, o)
	if err != nil {
		return nil, err
	}
	if c != nil {
		if err := l.b.Seed(c.words); err != nil {
			return nil, fmt.Errorf("learn: cache: %w", err)
		}
	}
	l.cache, l.keep = c, []cached{}
	l.rules = slices.ContainsFunc(topics, func(t Topic) bool { return t.Rules })
	return l, nil
}

// AddRecord adds the paper of the history's record id, of checksum sum:
// from the earlier pass's Cache when it holds the paper under sum (fromCache),
// else decoded by decode and tokenised. A topic with rules needs the paper
// itself, so decode is then called for every paper, but a cached paper is
// still not tokenised. Only for a Learner of NewCached.
func (l *Learner) AddRecord(id string, sum uint32, decode func() (*paper.Paper, error)) (fromCache bool, err error) {
	if l.keep == nil {
		return false, errors.New("learn: AddRecord of a Learner without a cache")
	}
	var c *cached
	if l.cache != nil {
		if i, ok := l.cache.find(id); ok && l.cache.papers[i].sum == sum {
			// The cache's copy of the ID, not the caller's: one string a
			// paper.
			c, id = &l.cache.papers[i], l.cache.order[i]
		}
	}
	var p *paper.Paper
	if c == nil || l.rules {
		if p, err = decode(); err != nil {
			return false, err
		}
		if p.ID != id {
			return false, fmt.Errorf("learn: record %s holds paper %q", id, p.ID)
		}
	}
	if c == nil {
		k, err := l.add(p, sum)
		if err != nil {
			return false, err
		}
		l.keep = append(l.keep, k)
		return false, nil
	}
	if err := l.b.AddTokens(id, c.toks); err != nil {
		return false, fmt.Errorf("learn: %w", err)
	}
	l.addPaper(id, c, p)
	l.keep = append(l.keep, *c)
	return true, nil
}

// WriteCache encodes what this pass keeps for the next: the papers added,
// as AddRecord added them (see Cache.WriteTo). Call it before Train, which
// renumbers the tokens it encodes; a Learner of New keeps nothing.
func (l *Learner) WriteCache(w io.Writer) (int64, error) {
	if l.keep == nil || l.b == nil {
		return 0, errors.New("learn: WriteCache of a Learner without a cache, or after Train")
	}
	idx := make([]int, len(l.keep))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return strings.Compare(l.papers[i].id, l.papers[j].id) })
	c := &Cache{words: l.b.Words(), order: make([]string, len(idx)), papers: make([]cached, len(idx))}
	for k, i := range idx {
		c.order[k], c.papers[k] = l.papers[i].id, l.keep[i]
	}
	return c.WriteTo(w)
}

// cacheMagic starts an encoded Cache; cacheFormat is its layout's version.
// A Cache of another ModelVersion is refused too: the tokeniser may differ.
const (
	cacheMagic  = "paperfeed like-tokens\n"
	cacheFormat = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo encodes c: the magic, the format and ModelVersion, the words, the
// papers in ID order (ID, checksum, digest, listing day, tokens, as
// varints), and a CRC-32C of everything before it.
func (c *Cache) WriteTo(w io.Writer) (int64, error) {
	crc := crc32.New(castagnoli)
	cw := &countWriter{w: io.MultiWriter(w, crc)}
	bw := bufio.NewWriterSize(cw, 1<<16)
	var b []byte
	flush := func() error {
		_, err := bw.Write(b)
		b = b[:0]
		return err
	}
	b = append(b, cacheMagic...)
	b = binary.AppendUvarint(b, cacheFormat)
	b = binary.AppendUvarint(b, ModelVersion)
	b = binary.AppendUvarint(b, uint64(len(c.words)))
	for _, w := range c.words {
		b = binary.AppendUvarint(b, uint64(len(w)))
		b = append(b, w...)
		if len(b) > 1<<15 {
			if err := flush(); err != nil {
				return cw.n, err
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(c.order)))
	for k, id := range c.order {
		p := &c.papers[k]
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
		b = binary.LittleEndian.AppendUint32(b, p.sum)
		b = append(b, p.digest[:]...)
		if p.day.IsZero() {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = binary.AppendVarint(b, p.day.Unix())
		}
		b = binary.AppendUvarint(b, uint64(len(p.toks)))
		for _, t := range p.toks {
			b = binary.AppendUvarint(b, uint64(t+1))
		}
		if len(b) > 1<<15 {
			if err := flush(); err != nil {
				return cw.n, err
			}
		}
	}
	if err := flush(); err != nil {
		return cw.n, err
	}
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	n, err := w.Write(crc.Sum(nil))
	return cw.n + int64(n), err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ErrCacheVersion is ReadCache's error for a Cache another version wrote.
var ErrCacheVersion = errors.New("learn: cache of another version")

// ReadCache decodes a Cache that WriteTo wrote. Anything else (another
// version, a damaged or cut file, tokens out of range) is an error: the
// caller learns without it. The Cache does not keep data.
func ReadCache(data []byte) (*Cache, error) {
	c, err := readCache(data)
	if err != nil {
		return nil, fmt.Errorf("learn: read cache: %w", err)
	}
	return c, nil
}

func readCache(data []byte) (*Cache, error) {
	if len(data) < len(cacheMagic)+4 || string(data[:len(cacheMagic)]) != cacheMagic {
		return nil, errors.New("not a like-topics cache")
	}
	body := data[:len(data)-4]
	if got, want := binary.BigEndian.Uint32(data[len(body):]), crc32.Checksum(body, castagnoli); got != want {
		return nil, fmt.Errorf("checksum %08x does not match the content's, %08x: damaged or cut", got, want)
	}
	r := cacheReader{b: body[len(cacheMagic):]}
	format, model := r.uvarint("format"), r.uvarint("model version")
	if r.err == nil && (format != cacheFormat || model != ModelVersion) {
		return nil, fmt.Errorf("%w: format %d and model %d, this program reads %d and %d", ErrCacheVersion, format, model, cacheFormat, ModelVersion)
	}
	nw := r.count("words")
	c := &Cache{words: make([]string, 0, nw)}
	for range nw {
		c.words = append(c.words, string(r.bytes("word", r.count("word length"))))
	}
	if r.err == nil {
		// Words that cannot seed a Builder are damage too: NewCached
		// cannot take this cache.
		if err := like.CheckWords(c.words); err != nil {
			return nil, err
		}
	}
	np := r.count("papers")
	c.order, c.papers = make([]string, 0, np), make([]cached, 0, np)
	for range np {
		if r.err != nil {
			break
		}
		id := string(r.bytes("ID", r.count("ID length")))
		if r.err == nil && (id == "" || len(c.order) > 0 && id <= c.order[len(c.order)-1]) {
			return nil, fmt.Errorf("paper %q: empty, repeated or out of order", id)
		}
		r.at = id
		var p cached
		head := r.bytes("its checksum, digest and day", 4+sha256.Size+1)
		if r.err != nil {
			break
		}
		p.sum = binary.LittleEndian.Uint32(head)
		copy(p.digest[:], head[4:])
		switch head[4+sha256.Size] {
		case 0:
		case 1:
			p.day = time.Unix(r.varint("day"), 0).UTC()
		default:
			return nil, fmt.Errorf("paper %s: day flag %d", id, head[4+sha256.Size])
		}
		nt := r.count("tokens")
		p.toks = make([]int32, 0, nt)
		for range nt {
			t := r.uvarint("token")
			if r.err == nil && t > uint64(len(c.words)) {
				return nil, fmt.Errorf("paper %s: token %d of %d words", id, int64(t)-1, len(c.words))
			}
			p.toks = append(p.toks, int32(t)-1)
		}
		c.papers = append(c.papers, p)
		c.order = append(c.order, id)
		r.at = ""
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) > 0 {
		return nil, fmt.Errorf("%d bytes after the papers", len(r.b))
	}
	return c, nil
}

// cacheReader reads an encoded Cache; its first error sticks, and every
// read after it gives zero.
type cacheReader struct {
	b   []byte
	err error
	at  string // the paper being read, if any
}

func (r *cacheReader) fail(what, why string) {
	switch {
	case r.err != nil:
	case r.at != "":
		r.err = fmt.Errorf("paper %s: %s: %s", r.at, what, why)
	default:
		r.err = fmt.Errorf("%s: %s", what, why)
	}
	r.b = nil
}

func (r *cacheReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what, "not a varint")
		return 0
	}
	r.b = r.b[n:]
	return x
}

// varint reads what binary.AppendVarint wrote: a zig-zag uvarint.
func (r *cacheReader) varint(what string) int64 {
	u := r.uvarint(what)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count is a length or a number of items, each at least a byte long, so
// no more than the bytes left: a damaged count cannot make the reader
// allocate beyond the file's size.
func (r *cacheReader) count(what string) int {
	x := r.uvarint(what)
	if x > uint64(len(r.b)) {
		r.fail(what, fmt.Sprintf("%d, more than the %d bytes left", x, len(r.b)))
		return 0
	}
	return int(x)
}

func (r *cacheReader) bytes(what string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.fail(what, "cut short")
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}
