package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"flag"
	"hash/crc32"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// fullPaper has every field set, so a field the codec forgets shows up.
func fullPaper() paper.Paper {
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

func TestFullPaperSetsEveryField(t *testing.T) {
	v := reflect.ValueOf(fullPaper())
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("fullPaper leaves %s zero; set it so the codec tests cover it", v.Type().Field(i).Name)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	short := paper.Paper{ID: "2606.1", Title: "T"}
	negative := paper.Paper{ID: "x", Upvotes: -3, Published: time.Date(1969, 7, 20, 20, 17, 0, 5, time.UTC)}
	tests := []struct {
		name     string
		in       paper.Paper
		wantKind byte
	}{
		{"every field, compressed", fullPaper(), kindFlate},
		{"short record stays raw", short, kindRaw},
		{"negative numbers and pre-1970 time", negative, kindRaw},
		{"only an id", paper.Paper{ID: "hep-th/9901001"}, kindRaw},
	}
	var e encoder
	var d decoder
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

func TestCodecTimesComeBackUTC(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	in := paper.Paper{ID: "a", Day: time.Date(2026, 6, 12, 2, 0, 0, 0, loc)}
	var e encoder
	var d decoder
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

func TestEncodeRejectsHugeRecord(t *testing.T) {
	var e encoder
	p := paper.Paper{ID: "big", Abstract: strings.Repeat("a", maxBody+1)}
	if _, err := e.encode(&p); err == nil || !strings.Contains(err.Error(), "exceeds the limit") {
		t.Errorf("encode of a %d-byte abstract: err = %v, want a size limit error", maxBody+1, err)
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

func TestDecodeErrors(t *testing.T) {
	full := fullPaper()
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
	var d decoder
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

// TestRecordGolden pins the on-disk record format: if it changes, files
// written by earlier versions stop opening, so formatMarker must change too.
func TestRecordGolden(t *testing.T) {
	const golden = "testdata/record.golden"
	p := fullPaper()
	var e encoder
	v, err := e.encode(&p)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	if *update {
		if err := os.WriteFile(golden, v, 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(v, want) {
		t.Errorf("encoded record differs from %s (%d vs %d bytes); bump formatMarker if the change is intended, then -update", golden, len(v), len(want))
	}
	var d decoder
	got, err := d.decode(p.ID, want)
	if err != nil {
		t.Fatalf("decode golden: %v", err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("decode golden:\n got %+v\nwant %+v", got, p)
	}
}

// FuzzDecode feeds arbitrary values to the decoder: it must not panic, and
// whatever it accepts must encode back to a value that decodes the same.
func FuzzDecode(f *testing.F) {
	var e encoder
	for _, p := range []paper.Paper{fullPaper(), {ID: "x", Title: "t"}, {ID: "y"}} {
		v, err := e.encode(&p)
		if err != nil {
			f.Fatalf("encode seed: %v", err)
		}
		f.Add(v)
	}
	f.Add([]byte{kindRaw, 0, 0, 0, 0})
	f.Add([]byte{kindFlate, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, v []byte) {
		var d decoder
		p, err := d.decode("id", v)
		if err != nil {
			return
		}
		var e encoder
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
	p := fullPaper()
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
