package store

import (
	"bytes"
	"encoding/json"
	"flag"
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
		Title:         "On the Limits of LLM Adaptability <in> \"quotes\" & ünïcödé",
		Abstract:      strings.Repeat("Large Language Models are increasingly used for annotation. ", 20),
		Authors:       []string{"Etienne Casanova", "Rafał Kocielnik"},
		Link:          "https://example.org/p/1?a=1&b=2",
		Published:     time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC),
		Day:           time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC),
		Hub:           true,
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
		LastSeen:      time.Date(2026, 6, 14, 0, 0, 0, 0, time.UTC),
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

func TestRecordRoundTrip(t *testing.T) {
	short := paper.Paper{ID: "2606.1", Title: "T"}
	negative := paper.Paper{ID: "x", Upvotes: -3, Published: time.Date(1969, 7, 20, 20, 17, 0, 5, time.UTC)}
	tests := []struct {
		name     string
		in       paper.Paper
		wantKind byte
	}{
		{"every field, compressed", fullPaper(), kindZstd},
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

// rawRecord is a stored value holding body as is.
func rawRecord(body string) []byte { return withHeader(kindRaw, []byte(body)) }

func TestRecordBody(t *testing.T) {
	var d unpacker
	v, err := (&encoder{}).encode(&paper.Paper{ID: "2606.1", Title: "a <b> & c", Upvotes: 2})
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	body, err := d.body(v)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	// The version first, no ID (the key), HTML left alone, zero fields
	// under omitempty left out, but "hub" written even when false.
	const want = `{"v":2,"title":"a <b> & c","published":"0001-01-01T00:00:00Z","day":"0001-01-01T00:00:00Z","upvotes":2,"first_seen":"0001-01-01T00:00:00Z","last_seen":"0001-01-01T00:00:00Z","hub":false}`
	if string(body) != want {
		t.Errorf("body = %s\nwant %s", body, want)
	}
}

// TestRecordEvolves is the rule that lets paper.Paper grow without a
// migration: a field the record lacks is zero, a field the reader does not
// know is ignored, and the key is the ID whatever the record says.
func TestRecordEvolves(t *testing.T) {
	tests := []struct {
		name string
		body string
		want paper.Paper
	}{
		{"missing fields are zero", `{"v":2,"title":"T","hub":false}`, paper.Paper{ID: "k", Title: "T"}},
		{"only the version", `{"v":2}`, paper.Paper{ID: "k"}},
		{
			"unknown fields are ignored",
			`{"v":2,"title":"T","review_score":4.5,"venue":{"name":"ICML","year":2026},"tags":["a"],"upvotes":3}`,
			paper.Paper{ID: "k", Title: "T", Upvotes: 3},
		},
		{"the key wins over an id in the record", `{"v":2,"id":"other","title":"T"}`, paper.Paper{ID: "k", Title: "T"}},
		{
			"times with an offset",
			`{"v":2,"day":"2026-06-12T02:00:00+02:00"}`,
			paper.Paper{ID: "k", Day: time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)},
		},
	}
	var d decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.decode("k", rawRecord(tt.body))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !got.Day.Equal(tt.want.Day) {
				t.Errorf("Day = %v, want %v", got.Day, tt.want.Day)
			}
			got.Day = tt.want.Day
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decode:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEncodeRejectsHugeRecord(t *testing.T) {
	var e encoder
	p := paper.Paper{ID: "big", Abstract: strings.Repeat("a", maxBody+1)}
	if _, err := e.encode(&p); err == nil || !strings.Contains(err.Error(), "record is 1.0 MB, over the 1 MiB limit") {
		t.Errorf("encode of a %d-byte abstract: err = %v, want a size limit error", maxBody+1, err)
	}
}

func TestRecordDecodeErrors(t *testing.T) {
	full := fullPaper()
	good, err := (&encoder{}).encode(&full)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	flipped := bytes.Clone(good)
	flipped[headerLen+10] ^= 0x40
	tests := []struct {
		name string
		v    []byte
		want string
	}{
		{"empty value", nil, "shorter than its header"},
		{"header only cut", good[:3], "shorter than its header"},
		{"checksum mismatch", flipped, "checksum"},
		{"unknown kind", withHeader(9, []byte(`{"v":2}`)), "unknown record kind 9"},
		{"not json", rawRecord("title"), "not a paper"},
		{"json cut short", rawRecord(`{"v":2,"title":"T`), "not a paper"},
		{"json array", rawRecord(`[1,2]`), "not a paper"},
		{"wrong type", rawRecord(`{"v":2,"upvotes":"many"}`), "not a paper"},
		{"trailing bytes", rawRecord(`{"v":2} x`), "not a paper"},
		{"no version", rawRecord(`{"title":"T"}`), "record version 0"},
		{"null", rawRecord(`null`), "record version 0"},
		{"later version", rawRecord(`{"v":3,"title":"T"}`), "record version 3, this program reads 2"},
		{"format 1 record", withHeader(kindRaw, appendBody(nil, &full)), "not a paper"},
		{"corrupt flate stream", withHeader(kindFlate, []byte{0xff, 0xff, 0xff}), "decompress"},
		{"corrupt zstd stream", withHeader(kindZstd, []byte{0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff}), "decompress"},
		{"zstd frame cut short", withHeader(kindZstd, zstdOf(t, []byte(`{"v":2,"title":"a title long enough"}`))[:12]), "decompress"},
		{"zstd bomb", withHeader(kindZstd, zstdOf(t, make([]byte, maxBody+10))), "expands beyond"},
		{"flate bomb", withHeader(kindFlate, compress(t, make([]byte, maxBody+10))), "expands beyond"},
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

// TestRecordGolden pins the record format: a change to it must still read
// the records already written (the golden ones among them), and is made on
// purpose with -update.
func TestRecordGolden(t *testing.T) {
	const golden = "testdata/record-v2.golden"
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
		t.Errorf("encoded record differs from %s (%d vs %d bytes); if intended, check that older records still decode, then -update", golden, len(v), len(want))
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

// TestRecordGoldenFlate decodes a record as this program wrote them before
// it compressed with zstd: flate records stay in every history written
// until then.
func TestRecordGoldenFlate(t *testing.T) {
	v := readFile(t, "testdata/record-v2-flate.golden")
	if v[0] != kindFlate {
		t.Fatalf("the flate golden record has kind %d", v[0])
	}
	want := fullPaper()
	var d decoder
	got, err := d.decode(want.ID, v)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decode flate record:\n got %+v\nwant %+v", got, want)
	}
	// One unpacker reads both kinds in turn, each into its own buffer.
	z, err := (&encoder{}).encode(&want)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	for _, rec := range [][]byte{v, z, v} {
		if got, err := d.decode(want.ID, rec); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("decode kind %d after the other: %v\n got %+v", rec[0], err, got)
		}
	}
}

// TestRecordGoldenBeforeHub decodes a record written before paper.Paper had
// Hub (fullPaper's fields but Hub, which the record lacks): it carries
// Hugging Face's fields, so it reads with Hub true.
func TestRecordGoldenBeforeHub(t *testing.T) {
	v := readFile(t, "testdata/record-v2-before-hub.golden")
	var u unpacker
	body, err := u.body(v)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	if bytes.Contains(body, []byte(`"hub"`)) {
		t.Fatalf("the golden record before hub holds a hub field: %s", body)
	}
	want := fullPaper()
	var d decoder
	got, err := d.decode(want.ID, v)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decode record before hub:\n got %+v\nwant %+v", got, want)
	}
}

// TestRecordHubInferred covers the Hub of records with and without the
// field: a record with it keeps its value; one without reads Hub true only
// for an arXiv paper carrying a field that only Hugging Face gives.
func TestRecordHubInferred(t *testing.T) {
	tests := []struct {
		name string
		id   string
		body string
		want bool
	}{
		{"upvotes", "2606.00467", `{"v":2,"upvotes":3}`, true},
		{"comments", "2606.00467", `{"v":2,"comments":1}`, true},
		{"github stars", "2606.00467", `{"v":2,"github_stars":9}`, true},
		{"ai summary", "2606.00467", `{"v":2,"ai_summary":"S"}`, true},
		{"ai keywords", "2606.00467", `{"v":2,"ai_keywords":["k"]}`, true},
		{"thumbnail", "2606.00467", `{"v":2,"thumbnail":"https://cdn.example.org/t.png"}`, true},
		{"organization", "2606.00467", `{"v":2,"organization":"Org"}`, true},
		{"old-style arxiv id", "hep-th/9901001", `{"v":2,"upvotes":3}`, true},
		{"fields any source gives", "2606.00467", `{"v":2,"title":"T","abstract":"A","authors":["X"],"github_repo":"https://github.com/a/b","project_page":"https://example.org","categories":["cs.LG"],"sources":["huggingface"]}`, false},
		{"not an arxiv paper", "url-06fa0c444adbfc731946", `{"v":2,"organization":"Lab","upvotes":3}`, false},
		{"hub false is kept", "2606.00467", `{"v":2,"hub":false,"upvotes":3,"ai_summary":"S"}`, false},
		{"hub true is kept", "2606.00467", `{"v":2,"hub":true}`, true},
		{"hub true on any id", "url-06fa0c444adbfc731946", `{"v":2,"hub":true}`, true},
		{"hub null is no value", "2606.00467", `{"v":2,"hub":null,"upvotes":3}`, true},
	}
	var d decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.decode(tt.id, rawRecord(tt.body))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Hub != tt.want {
				t.Errorf("Hub of %s = %v, want %v", tt.body, got.Hub, tt.want)
			}
		})
	}
}

// FuzzDecode feeds arbitrary values to the decoder: it must not panic, and
// whatever it accepts must encode to a value that decodes and encodes to the
// same bytes again (one round trip reaches the stored form).
func FuzzDecode(f *testing.F) {
	var e encoder
	for _, p := range []paper.Paper{fullPaper(), {ID: "x", Title: "t"}, {ID: "y"}} {
		v, err := e.encode(&p)
		if err != nil {
			f.Fatalf("encode seed: %v", err)
		}
		f.Add(v)
	}
	f.Add(rawRecord(`{"v":2,"title":"T","unknown":[1,{"a":null}],"day":"2026-06-12T02:00:00+02:00"}`))
	f.Add([]byte{kindRaw, 0, 0, 0, 0})
	f.Add([]byte{kindFlate, 0, 0, 0, 0, 0xff})
	f.Add([]byte{kindZstd, 0, 0, 0, 0, 0x28, 0xb5, 0x2f, 0xfd})
	if v, err := os.ReadFile("testdata/record-v2-flate.golden"); err == nil {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		var d decoder
		p, err := d.decode("id", v)
		if err != nil {
			return
		}
		if p.ID != "id" {
			t.Fatalf("decoded ID %q, want the key", p.ID)
		}
		var e encoder
		once, err := e.encode(&p)
		if err != nil {
			t.Fatalf("re-encode accepted record: %v", err)
		}
		q, err := d.decode("id", once)
		if err != nil {
			t.Fatalf("decode re-encoded record: %v", err)
		}
		twice, err := e.encode(&q)
		if err != nil {
			t.Fatalf("encode again: %v", err)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("re-encoded record does not come back the same:\n got %q\nwant %q", twice, once)
		}
	})
}

// TestRecordJSONv1v2: records are written by encoding/json and read by
// encoding/json/v2 (see decoder); whatever encoding/json wrote, or would
// have read, the decoder reads as encoding/json does. Only names are
// matched exactly, where encoding/json folds case: this program never
// wrote a name in another case.
func TestRecordJSONv1v2(t *testing.T) {
	var bodies []string
	var e encoder
	var u unpacker
	papers := append(realistic(t, 0, 200), fullPaper(), paper.Paper{ID: "x"},
		paper.Paper{ID: "y", Title: "bad \xff byte", Authors: []string{"\xc3"}, Upvotes: -1})
	for _, p := range papers {
		v, err := e.encode(&p)
		if err != nil {
			t.Fatalf("encode %s: %v", p.ID, err)
		}
		body, err := u.body(v)
		if err != nil {
			t.Fatalf("body %s: %v", p.ID, err)
		}
		bodies = append(bodies, string(body))
	}
	bodies = append(bodies,
		`{"v":2,"title":"T","title":"U"}`,                                             // a repeated name: the last wins
		"{\"v\":2,\"title\":\"raw \xff byte\"}",                                       // invalid UTF-8 as stored
		`{"v":2,"title":"\u00e9\ud83d\ude00 \u003cb\u003e","unknown":{"a":[1,null]}}`, // escapes, unknown member
		`{"v":2,"day":"2026-06-12T02:00:00+02:00","authors":null,"hub":null}`,         // offset time, nulls
		` {"v":2, "upvotes": 7 } `,                                                    // spaces
	)
	for _, body := range bodies {
		var want paper.Paper
		rec := record{Paper: &want}
		if err := json.Unmarshal([]byte(body), &rec); err != nil {
			t.Fatalf("encoding/json refuses %q: %v", body, err)
		}
		want.ID = "id"
		if rec.Hub != nil {
			want.Hub = *rec.Hub
		} else {
			want.Hub = listedByHub(&want)
		}
		var d decoder
		got, err := d.decode("id", rawRecord(body))
		if err != nil {
			t.Fatalf("decode %q: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decode %q:\n got %+v\nwant %+v", body, got, want)
		}
	}
}

// zstdOf is body as one zstd frame, as the encoder writes it.
func zstdOf(t *testing.T, body []byte) []byte {
	t.Helper()
	zw, err := newZstdEncoder()
	if err != nil {
		t.Fatal(err)
	}
	return zw.EncodeAll(body, nil)
}
