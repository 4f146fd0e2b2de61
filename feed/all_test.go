package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/feeds"
	"github.com/paperfeed/paperfeed/paper"
)

// jsonPrefix is what the buffers hold before an append in these tests: the
// render must go after it and leave it alone.
const jsonPrefix = "prefix\n"

// checkJSONMatchesEncoder fails unless AppendJSON appends to a non-empty
// buffer exactly the bytes (or the error) of the encoding/json renderer it
// replaced.
func checkJSONMatchesEncoder(t *testing.T, tp Topic) {
	t.Helper()
	got, gotErr := AppendJSON([]byte(jsonPrefix), testSite, tp)
	want, wantErr := encAppendJSON([]byte(jsonPrefix), testSite, tp)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("json: error %v, encoding/json error %v", gotErr, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("json differs from encoding/json's bytes:\n got: %q\nwant: %q", got, want)
	}
}

// sameBuffer reports whether got is want unchanged: the same length,
// capacity, backing array and bytes.
func sameBuffer(got, want []byte, wantBytes string) bool {
	return len(got) == len(want) && cap(got) == cap(want) &&
		(cap(got) == 0 || &got[:1][0] == &want[:1][0]) && string(got) == wantBytes
}

// checkAllMatchesSeparate fails unless AppendAll appends to r exactly what
// AppendAtom, AppendRSS and AppendJSON append, into fresh buffers and into
// reused ones with room to spare, and leaves r as given when a separate
// render fails.
func checkAllMatchesSeparate(t *testing.T, tp Topic) {
	t.Helper()
	atom, atomErr := Atom(testSite, tp)
	rss, rssErr := RSS(testSite, tp)
	js, jsonErr := JSON(testSite, tp)
	wantErr := errors.Join(atomErr, rssErr, jsonErr)
	for _, r := range []*Rendered{
		{},
		{
			Atom: append(make([]byte, 0, 1<<20), "atom "...),
			RSS:  append(make([]byte, 0, 1<<20), "rss "...),
			JSON: append(make([]byte, 0, 1<<20), "json "...),
		},
		{Atom: []byte("a"), RSS: []byte("r"), JSON: []byte("j")},
	} {
		before := *r
		pa, pr, pj := string(r.Atom), string(r.RSS), string(r.JSON)
		err := AppendAll(r, testSite, tp)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("AppendAll error %v, separate renders' %v", err, wantErr)
		}
		if err != nil {
			if !sameBuffer(r.Atom, before.Atom, pa) || !sameBuffer(r.RSS, before.RSS, pr) || !sameBuffer(r.JSON, before.JSON, pj) {
				t.Fatalf("AppendAll failed (%v) and changed the buffers to %q %q %q, want %q %q %q",
					err, r.Atom, r.RSS, r.JSON, pa, pr, pj)
			}
			continue
		}
		for _, f := range []struct {
			name            string
			got, pre, alone []byte
		}{
			{"atom", r.Atom, []byte(pa), atom},
			{"rss", r.RSS, []byte(pr), rss},
			{"json", r.JSON, []byte(pj), js},
		} {
			if want := append(f.pre, f.alone...); !bytes.Equal(f.got, want) {
				t.Fatalf("AppendAll %s (prefix %q) differs from the separate render:\n got: %.300q\nwant: %.300q", f.name, f.pre, f.got, want)
			}
		}
	}
}

// farDate is a date encoding/json cannot write (year 10000).
var farDate = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)

func TestAppendAll(t *testing.T) {
	for _, tt := range adversarialCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			checkAllMatchesSeparate(t, tt.topic)
		})
	}
}

// TestAppendAllReuse renders every fixture topic into one Rendered, as the
// app does, and checks each against the separate renders.
func TestAppendAllReuse(t *testing.T) {
	var r Rendered
	for _, tp := range fixtureTopics(t) {
		r.Atom, r.RSS, r.JSON = r.Atom[:0], r.RSS[:0], r.JSON[:0]
		if err := AppendAll(&r, testSite, tp); err != nil {
			t.Fatalf("%s: %v", tp.Slug, err)
		}
		for _, f := range []struct {
			name   string
			got    []byte
			render func(Site, Topic) ([]byte, error)
		}{{"atom", r.Atom, Atom}, {"rss", r.RSS, RSS}, {"json", r.JSON, JSON}} {
			want, err := f.render(testSite, tp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.got, want) {
				t.Errorf("%s %s: AppendAll into reused buffers differs from the separate render", tp.Slug, f.name)
			}
		}
	}
}

func TestAppendAllErrors(t *testing.T) {
	far := paper.Paper{ID: "2606.00003", Title: "far", Day: farDate}
	tests := []struct {
		name  string
		site  Site
		topic Topic
		want  error  // matched with errors.Is, when set
		text  string // in the message, when set
	}{
		{"bad slug", testSite, Topic{Slug: "../x", Updated: refreshed}, errBadSlug, ""},
		{"no slug", testSite, Topic{Slug: " ", Updated: refreshed}, errNoSlug, ""},
		{"no date", testSite, Topic{Slug: "d", Items: []Item{{Paper: paper.Paper{ID: "2606.00002"}}}}, errNoDate, ""},
		{"no id", testSite, Topic{Slug: "i", Updated: refreshed, Items: []Item{{Paper: paper.Paper{Title: "x"}}}}, errNoID, ""},
		{"relative base url", Site{BaseURL: "/x"}, Topic{Slug: "s", Updated: refreshed}, errNotAbsolute, ""},
		{"year past 9999", testSite, Topic{Slug: "y", Items: []Item{{Paper: far}}}, nil, "year outside of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rendered{Atom: []byte("a"), RSS: make([]byte, 1, 64), JSON: nil}
			before := r
			err := AppendAll(&r, tt.site, tt.topic)
			if err == nil {
				t.Fatal("AppendAll succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("AppendAll error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("AppendAll error %q lacks %q", err, tt.text)
			}
			if !sameBuffer(r.Atom, before.Atom, "a") || !sameBuffer(r.RSS, before.RSS, "\x00") || !sameBuffer(r.JSON, before.JSON, "") {
				t.Errorf("AppendAll failed and changed the buffers: %q %q %q", r.Atom, r.RSS, r.JSON)
			}
		})
	}
}

func TestJSONMatchesEncoder(t *testing.T) {
	cases := adversarialCases(t)
	cases = append(cases,
		renderCase{"year past 9999", Topic{Slug: "y", Items: []Item{{Paper: paper.Paper{ID: "2606.00003", Day: farDate}}}}},
		renderCase{"year 9999", Topic{Slug: "y", Items: []Item{{Paper: paper.Paper{ID: "2606.00003", Day: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}}}}},
		renderCase{"year 0", Topic{Slug: "y", Updated: time.Date(0, 1, 1, 0, 0, 1, 0, time.UTC), Items: []Item{{Paper: paper.Paper{Link: "http://x.test/"}}}}},
	)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			checkJSONMatchesEncoder(t, tt.topic)
		})
	}
}

// encodeJSON is v as encoding/json writes it with SetEscapeHTML(false).
func encodeJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func TestAppendJSONStringMatchesEncoder(t *testing.T) {
	tests := []struct{ name, s string }{
		{"empty", ""},
		{"plain", "hello world"},
		{"html", `<a href="x?a=1&b=2">'q'</a>`},
		{"backslash and quote", `a\b"c`},
		{"every control", "\x00\x01\b\t\n\v\f\r\x0e\x1f\x7f"},
		{"line separators", "a\u2028b\u2029c"},
		{"invalid utf-8", "\xff\xfe a \xc3 \xed\xa0\x80 \xf4\x90\x80\x80"},
		{"truncated rune at end", "ab\xe2\x80"},
		{"non-ascii", "straße Σ 日本 😀 \ufffd \ufeff"},
		{"nasty", nasty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := encodeJSON(t, tt.s)
			if got := appendJSONString([]byte("x"), tt.s); string(got) != "x"+string(want) {
				t.Errorf("appendJSONString(%q) = %q, want %q", tt.s, got[1:], want)
			}
			if got := appendJSONString(nil, []byte(tt.s)); !bytes.Equal(got, want) {
				t.Errorf("appendJSONString([]byte %q) = %q, want %q", tt.s, got, want)
			}
		})
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("")
	f.Add("<&>\"\\\x00\x1f\u2028\u2029\xff")
	f.Add(nasty)
	f.Fuzz(func(t *testing.T, s string) {
		want := encodeJSON(t, s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %q, want %q", s, got, want)
		}
		if got := appendJSONString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString([]byte %q) = %q, want %q", s, got, want)
		}
	})
}

// TestJSONFeedHeadMatchesEncoder holds the feed-level writer to encoding/json
// for feeds.JSONFeed values with the fields the package sets, empty or not.
func TestJSONFeedHeadMatchesEncoder(t *testing.T) {
	tests := []struct {
		name string
		feed feeds.JSONFeed
	}{
		{"full", feeds.JSONFeed{Version: jsonFeedVersion, Title: "T", Language: "en", HomePageUrl: "http://h/",
			FeedUrl: "http://h/f.json", Description: "D <&>", Authors: []*feeds.JSONAuthor{{Name: "paperfeed"}}}},
		{"empty", feeds.JSONFeed{}},
		{"no description", feeds.JSONFeed{Version: "v", Title: "T", Language: "en", FeedUrl: "f"}},
		{"authors of every shape", feeds.JSONFeed{Version: "v", Authors: []*feeds.JSONAuthor{
			{}, nil, {Name: "n"}, {Url: "u"}, {Avatar: "a"}, {Name: "n", Url: "u", Avatar: "a"}, {Url: "u", Avatar: "a"},
		}}},
		{"empty author list", feeds.JSONFeed{Version: "v", Authors: []*feeds.JSONAuthor{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := encodeJSON(t, refJSONFeed{JSONFeed: &tt.feed, Items: []*feeds.JSONItem{}})
			got := append(appendJSONFeedHead(nil, &tt.feed), `,"items":[]}`...)
			if !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func FuzzJSONMatchesEncoder(f *testing.F) {
	f.Add("t", "abstract", "Ann", "LLM", "https://x.test/a", "2606.00001", int64(0))
	f.Add(nasty, nasty, nasty, nasty, nasty, nasty, int64(-1))
	f.Add("\u2028\u2029", "\xff\xfe\x00\x1f", "\"\\", "k", "https://u.test/p?a=1&b=2", "", int64(1)<<40)
	f.Fuzz(func(t *testing.T, title, abstract, author, term, link, id string, secs int64) {
		p := paper.Paper{
			ID: id, Title: title, Abstract: abstract, Authors: []string{author, term, author},
			Link: link, Thumbnail: link, GitHubRepo: link, ProjectPage: link,
			Organization: title, AISummary: abstract, ArxivComments: term, JournalRef: author,
			Day: time.Unix(secs, 0), AIKeywords: []string{term, title},
		}
		tp := Topic{Slug: "f", Title: title, Description: abstract, Updated: refreshed,
			Items: []Item{{Paper: p, Terms: []string{term}}, {Paper: paper.Paper{ID: "2606.00001", Title: author}}}}
		checkJSONMatchesEncoder(t, tp)
		checkAllMatchesSeparate(t, tp)
	})
}

// TestAppendJSONStringEveryByte puts every byte value at every position of a
// plain 17-byte string, so that each lane of the eight-byte scan sees it.
func TestAppendJSONStringEveryByte(t *testing.T) {
	for c := range 256 {
		for i := range 17 {
			s := []byte("abcdefghijklmnopq")
			s[i] = byte(c)
			want := encodeJSON(t, string(s))
			if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
				t.Fatalf("byte %#x at %d: appendJSONString = %q, want %q", c, i, got, want)
			}
		}
	}
}

// TestAppendAllConcurrent renders every fixture topic from four goroutines
// at once, each with its own reused Rendered, and checks every document
// against the one rendered alone: pooled scratch is never shared.
func TestAppendAllConcurrent(t *testing.T) {
	topics := fixtureTopics(t)
	want := make([]Rendered, len(topics))
	for i, tp := range topics {
		if err := AppendAll(&want[i], testSite, tp); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(topics))
	for g := range 4 {
		wg.Go(func() {
			var r Rendered
			for k := range 3 * len(topics) {
				i := (k + g) % len(topics)
				r.Atom, r.RSS, r.JSON = r.Atom[:0], r.RSS[:0], r.JSON[:0]
				if err := AppendAll(&r, testSite, topics[i]); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(r.Atom, want[i].Atom) || !bytes.Equal(r.RSS, want[i].RSS) || !bytes.Equal(r.JSON, want[i].JSON) {
					errs <- fmt.Errorf("goroutine %d: topic %d differs from the one rendered alone", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
