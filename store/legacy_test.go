package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// legacyPaper sets every field format 1 has; the format 1 tests use it, and
// it never changes, as format 1 does not.
func legacyPaper() paper.Paper {
	return paper.Paper{
		ID:            "2606.00467",
		Title:         "On the Limits of LLM Adaptability",
		Abstract:      strings.Repeat("Large Language Models are increasingly used for annotation. ", 20),
		Authors:       []string{"Etienne Casanova", "Rafal Kocielnik"},
		Link:          "https://example.org/p/1",
		Published:     time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC),
		Day:           time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC),
		Upvotes:       12,
		Comments:      3,
		Thumbnail:     "https://cdn.example.org/t.png",
		GitHubRepo:    "https://github.com/example/repo",
		GitHubStars:   251,
		ProjectPage:   "https://example.org/project",
		Organization:  "California institute of technology",
		AISummary:     "Large language models exhibit limited ability to correct zero-shot errors.",
		AIKeywords:    []string{"zero-shot annotation", "LLM-as-a-judge"},
		Categories:    []string{"cs.CL", "cs.LG"},
		ArxivComments: "10 pages, 3 figures",
		JournalRef:    "ACL 2026",
		Section:       "new",
		Sources:       []string{"arxiv-cs", "huggingface"},
		FirstSeen:     time.Date(2026, 6, 13, 6, 0, 0, 123456789, time.UTC),
		LastSeen:      time.Date(2026, 6, 14, 6, 0, 0, 1, time.UTC),
	}
}

func TestLegacyRoundTrip(t *testing.T) {
	short := paper.Paper{ID: "2606.1", Title: "T"}
	negative := paper.Paper{ID: "x", Upvotes: -3, Published: time.Date(1969, 7, 20, 20, 17, 0, 5, time.UTC)}
	tests := []struct {
		name     string
		in       paper.Paper
		wantKind byte
	}{
		{"every field, compressed", legacyPaper(), kindFlate},
		{"short record stays raw", short, kindRaw},
		{"negative numbers and pre-1970 time", negative, kindRaw},
		{"only an id", paper.Paper{ID: "hep-th/9901001"}, kindRaw},
	}
	var e legacyEncoder
	var d legacyDecoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := e.encode(&tt.in)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if v[0] != tt.wantKind {
				t.Errorf("kind = %d, want %d", v[0], tt.wantKind)
			}
			got, err := d.decode(tt.in.ID, v)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.in) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.in)
			}
		})
	}
}

func TestLegacyTimesComeBackUTC(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	in := paper.Paper{ID: "a", Day: time.Date(2026, 6, 12, 2, 0, 0, 0, loc)}
	var e legacyEncoder
	var d legacyDecoder
	v, err := e.encode(&in)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	got, err := d.decode("a", v)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !got.Day.Equal(in.Day) || got.Day.Location() != time.UTC {
		t.Errorf("Day = %v (%v), want %v in UTC", got.Day, got.Day.Location(), in.Day)
	}
}

// withHeader builds a stored value of the given kind around stored bytes,
// with a correct checksum.
func withHeader(kind byte, stored []byte) []byte {
	v := make([]byte, headerLen+len(stored))
	v[0] = kind
	binary.LittleEndian.PutUint32(v[1:headerLen], crc32.Checksum(stored, castagnoli))
	copy(v[headerLen:], stored)
	return v
}

func compress(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		t.Fatalf("flate writer: %v", err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatalf("compress: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("compress: %v", err)
	}
	return buf.Bytes()
}

func TestLegacyDecodeErrors(t *testing.T) {
	full := legacyPaper()
	body := appendBody(nil, &full)
	good := withHeader(kindRaw, body)
	flipped := bytes.Clone(good)
	flipped[headerLen+10] ^= 0x40
	badTime := appendBody(nil, &paper.Paper{})
	// Published is the first time field: title, abstract, authors, link
	// take one byte each when empty.
	badTime[4] = 7
	zeroTime := appendString(nil, "")
	zeroTime = appendString(zeroTime, "")
	zeroTime = appendStrings(zeroTime, nil)
	zeroTime = appendString(zeroTime, "")
	zeroTime = append(zeroTime, 1)
	zeroTime = binary.AppendVarint(zeroTime, time.Time{}.Unix())
	zeroTime = binary.AppendUvarint(zeroTime, 0)
	bigNanos := appendString(nil, "")
	bigNanos = appendString(bigNanos, "")
	bigNanos = appendStrings(bigNanos, nil)
	bigNanos = appendString(bigNanos, "")
	bigNanos = append(bigNanos, 1, 2)
	bigNanos = binary.AppendUvarint(bigNanos, uint64(time.Second))
	overflow := bytes.Repeat([]byte{0xff}, 11)

	tests := []struct {
		name string
		v    []byte
		want string
	}{
		{"empty value", nil, "shorter than its header"},
		{"header only cut", good[:3], "shorter than its header"},
		{"checksum mismatch", flipped, "checksum"},
		{"unknown kind", withHeader(9, body), "unknown record kind 9"},
		{"body cut short", withHeader(kindRaw, body[:len(body)-3]), "record ends early"},
		{"string longer than record", withHeader(kindRaw, []byte{0x7f, 'a'}), "string of 127 bytes"},
		{"list longer than record", withHeader(kindRaw, append(appendString(appendString(nil, ""), ""), 0x7f)), "list of 127 strings"},
		{"trailing bytes", withHeader(kindRaw, append(bytes.Clone(body), 0)), "1 unexpected trailing bytes"},
		{"bad time marker", withHeader(kindRaw, badTime), "bad time marker 7"},
		{"zero time spelled out", withHeader(kindRaw, zeroTime), "zero time"},
		{"nanoseconds out of range", withHeader(kindRaw, bigNanos), "nanoseconds"},
		{"varint overflow", withHeader(kindRaw, overflow), "overflows 64 bits"},
		{"non-minimal varint", withHeader(kindRaw, []byte{0x80, 0x00}), "not minimally encoded"},
		{"varint cut short", withHeader(kindRaw, []byte{0x80}), "record ends early"},
		{"corrupt flate stream", withHeader(kindFlate, []byte{0xff, 0xff, 0xff}), "decompress"},
		{"flate bomb", withHeader(kindFlate, compress(t, make([]byte, maxBody+10))), "expands beyond"},
		{"flate body cut short", withHeader(kindFlate, compress(t, body[:len(body)-3])), "record ends early"},
	}
	var d legacyDecoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.decode("id", tt.v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decode err = %v, want one containing %q", err, tt.want)
			}
			if !reflect.DeepEqual(got, paper.Paper{}) {
				t.Errorf("decode returned %+v with its error, want the zero paper", got)
			}
		})
	}
}

// TestLegacyRecordGolden decodes a record written by the previous release,
// whose format no longer changes.
func TestLegacyRecordGolden(t *testing.T) {
	v := readFile(t, "testdata/record-v1.golden")
	var d legacyDecoder
	p := legacyPaper()
	got, err := d.decode(p.ID, v)
	if err != nil {
		t.Fatalf("decode golden: %v", err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("decode golden:\n got %+v\nwant %+v", got, p)
	}
	var e legacyEncoder
	if again, err := e.encode(&p); err != nil || !bytes.Equal(again, v) {
		t.Errorf("the tests' format 1 encoder no longer writes the golden record (err %v)", err)
	}
}

// FuzzLegacyDecode feeds arbitrary values to the format 1 decoder: it must
// not panic, and whatever it accepts must encode back to a value that
// decodes the same.
func FuzzLegacyDecode(f *testing.F) {
	var e legacyEncoder
	for _, p := range []paper.Paper{legacyPaper(), {ID: "x", Title: "t"}, {ID: "y"}} {
		v, err := e.encode(&p)
		if err != nil {
			f.Fatalf("encode seed: %v", err)
		}
		f.Add(v)
	}
	f.Add([]byte{kindRaw, 0, 0, 0, 0})
	f.Add([]byte{kindFlate, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, v []byte) {
		var d legacyDecoder
		p, err := d.decode("id", v)
		if err != nil {
			return
		}
		var e legacyEncoder
		again, err := e.encode(&p)
		if err != nil {
			t.Fatalf("re-encode accepted record: %v", err)
		}
		q, err := d.decode("id", again)
		if err != nil {
			t.Fatalf("decode re-encoded record: %v", err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("re-encoded record differs:\n got %+v\nwant %+v", q, p)
		}
	})
}

// FuzzParseBody skips the checksum so the fuzzer reaches the field parser.
func FuzzParseBody(f *testing.F) {
	p := legacyPaper()
	f.Add(appendBody(nil, &p))
	f.Add(appendBody(nil, &paper.Paper{}))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseBody(string(body))
		if err != nil {
			return
		}
		if again := appendBody(nil, &p); !bytes.Equal(again, body) {
			t.Fatalf("accepted body does not re-encode to itself:\n got %x\nwant %x", again, body)
		}
	})
}

// legacyEncoder writes format 1 records, as the previous release did: the
// tests make format 1 files and records with it. It reuses one flate writer, which
// is expensive to create; it is not safe for concurrent use.
type legacyEncoder struct {
	body []byte
	zbuf bytes.Buffer
	zw   *flate.Writer
}

// encode returns the stored value of p (ID excluded: it is the key). The
// returned slice is freshly allocated, as bbolt requires values to stay
// untouched until the transaction commits.
func (e *legacyEncoder) encode(p *paper.Paper) ([]byte, error) {
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
