package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// Record kinds: the first byte of every stored value.
const (
	kindRaw   byte = 1 // body stored as is
	kindFlate byte = 2 // body compressed with compress/flate
)

// headerLen is the kind byte plus a CRC-32C of the stored body: bbolt checks
// its meta pages but not values, and a flipped byte in an abstract would
// otherwise decode into a silently different paper.
const headerLen = 5

// maxBody bounds a decoded record so a damaged or hostile value cannot make a
// decoder allocate without limit. Real records are a few KB.
const maxBody = 1 << 20

// compressMin is the body size from which compression is tried: flate's
// framing costs more than it saves on short records.
const compressMin = 256

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errShort reports a record that ends in the middle of a field.
var errShort = errors.New("record ends early")

// encoder turns papers into stored values. It reuses one flate writer, which
// is expensive to create; it is not safe for concurrent use.
type encoder struct {
	body []byte
	zbuf bytes.Buffer
	zw   *flate.Writer
}

// encode returns the stored value of p (ID excluded: it is the key). The
// returned slice is freshly allocated, as bbolt requires values to stay
// untouched until the transaction commits.
func (e *encoder) encode(p *paper.Paper) ([]byte, error) {
	e.body = appendBody(e.body[:0], p)
	if len(e.body) > maxBody {
		return nil, fmt.Errorf("encode %s: record of %d bytes exceeds the limit of %d", p.ID, len(e.body), maxBody)
	}
	kind, stored := kindRaw, e.body
	if len(e.body) >= compressMin {
		if e.zw == nil {
			zw, err := flate.NewWriter(&e.zbuf, flate.DefaultCompression)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", p.ID, err)
			}
			e.zw = zw
		}
		e.zbuf.Reset()
		e.zw.Reset(&e.zbuf)
		if _, err := e.zw.Write(e.body); err != nil {
			return nil, fmt.Errorf("encode %s: compress: %w", p.ID, err)
		}
		if err := e.zw.Close(); err != nil {
			return nil, fmt.Errorf("encode %s: compress: %w", p.ID, err)
		}
		if e.zbuf.Len() < len(e.body) {
			kind, stored = kindFlate, e.zbuf.Bytes()
		}
	}
	v := make([]byte, headerLen+len(stored))
	v[0] = kind
	binary.LittleEndian.PutUint32(v[1:headerLen], crc32.Checksum(stored, castagnoli))
	copy(v[headerLen:], stored)
	return v, nil
}

// decoder turns stored values back into papers, reusing its flate reader and
// buffer across records; it is not safe for concurrent use.
type decoder struct {
	zr  io.ReadCloser
	buf bytes.Buffer
}

// decode parses the stored value v of the paper keyed id. It never panics and
// never trusts a length it has not checked against the remaining bytes.
func (d *decoder) decode(id string, v []byte) (paper.Paper, error) {
	if len(v) < headerLen {
		return paper.Paper{}, fmt.Errorf("record of %d bytes is shorter than its header", len(v))
	}
	stored := v[headerLen:]
	if got, want := crc32.Checksum(stored, castagnoli), binary.LittleEndian.Uint32(v[1:headerLen]); got != want {
		return paper.Paper{}, fmt.Errorf("record checksum %08x does not match stored %08x", got, want)
	}
	var body string
	switch v[0] {
	case kindRaw:
		body = string(stored)
	case kindFlate:
		if d.zr == nil {
			d.zr = flate.NewReader(bytes.NewReader(stored))
		} else if err := d.zr.(flate.Resetter).Reset(bytes.NewReader(stored), nil); err != nil {
			return paper.Paper{}, fmt.Errorf("decompress: %w", err)
		}
		d.buf.Reset()
		n, err := d.buf.ReadFrom(io.LimitReader(d.zr, maxBody+1))
		if err != nil {
			return paper.Paper{}, fmt.Errorf("decompress: %w", err)
		}
		if n > maxBody {
			return paper.Paper{}, fmt.Errorf("record expands beyond %d bytes", maxBody)
		}
		body = d.buf.String()
	default:
		return paper.Paper{}, fmt.Errorf("unknown record kind %d", v[0])
	}
	p, err := parseBody(body)
	if err != nil {
		return paper.Paper{}, err
	}
	p.ID = id
	return p, nil
}

// appendBody appends the fields of p in a fixed order: strings and string
// lists length-prefixed, integers as varints, times as a presence byte then
// Unix seconds and nanoseconds (so times come back in UTC).
func appendBody(b []byte, p *paper.Paper) []byte {
	b = appendString(b, p.Title)
	b = appendString(b, p.Abstract)
	b = appendStrings(b, p.Authors)
	b = appendString(b, p.Link)
	b = appendTime(b, p.Published)
	b = appendTime(b, p.Day)
	b = binary.AppendVarint(b, int64(p.Upvotes))
	b = binary.AppendVarint(b, int64(p.Comments))
	b = appendString(b, p.Thumbnail)
	b = appendString(b, p.GitHubRepo)
	b = binary.AppendVarint(b, int64(p.GitHubStars))
	b = appendString(b, p.ProjectPage)
	b = appendString(b, p.Organization)
	b = appendString(b, p.AISummary)
	b = appendStrings(b, p.AIKeywords)
	b = appendStrings(b, p.Categories)
	b = appendString(b, p.ArxivComments)
	b = appendString(b, p.JournalRef)
	b = appendString(b, p.Section)
	b = appendStrings(b, p.Sources)
	b = appendTime(b, p.FirstSeen)
	b = appendTime(b, p.LastSeen)
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// parseBody is the inverse of appendBody. Strings are substrings of body, so
// a paper costs one string allocation plus one per list.
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

// reader reads appendBody's fields; after the first error every read returns
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
