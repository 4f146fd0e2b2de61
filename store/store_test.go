package store

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	bolt "go.etcd.io/bbolt"
)

func day(d int) time.Time { return time.Date(2026, 6, d, 0, 0, 0, 0, time.UTC) }

// stored is what a scraper might hand over on the first run.
func stored() paper.Paper {
	return paper.Paper{
		ID:           "2606.00467",
		Title:        "On the Limits of LLM Adaptability",
		Abstract:     "Large Language Models are increasingly used.",
		Authors:      []string{"Etienne Casanova", "Rafal Kocielnik"},
		Published:    day(1),
		Day:          day(12),
		Upvotes:      3,
		Comments:     1,
		GitHubRepo:   "https://github.com/a/b",
		GitHubStars:  5,
		Organization: "Caltech",
		AISummary:    "LLMs resist correction.",
		AIKeywords:   []string{"zero-shot"},
		Categories:   []string{"cs.CL", "cs.LG"},
		Sources:      []string{"huggingface"},
	}
}

// changes is what a MergeResult says, with Changed as IDs.
type changes struct {
	Added, Updated int
	Changed        []string
}

func TestMerge(t *testing.T) {
	t1 := t0.Add(24 * time.Hour)
	// LastSeen is kept to the UTC day.
	d0, d1 := seenDay(t0), seenDay(t1)
	// with returns stored() changed by f, as the history should hold it
	// after the first merge at t0.
	with := func(f func(p *paper.Paper)) paper.Paper {
		p := stored()
		p.FirstSeen, p.LastSeen = t0, d0
		f(&p)
		return p
	}
	scraped := func(f func(p *paper.Paper)) paper.Paper {
		p := stored()
		f(&p)
		return p
	}
	tests := []struct {
		name    string
		history []paper.Paper // merged at t0 first
		in      []paper.Paper // merged at t1
		want    []paper.Paper
		res     changes
	}{
		{
			name: "new paper is added with first and last seen now",
			in:   []paper.Paper{scraped(func(p *paper.Paper) { p.Sources = []string{"hf", "arxiv", "hf", ""} })},
			want: []paper.Paper{with(func(p *paper.Paper) {
				p.Sources = []string{"arxiv", "hf"}
				p.FirstSeen, p.LastSeen = t1, d1
			})},
			res: changes{Added: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "identical re-scrape changes nothing but last seen",
			history: []paper.Paper{stored()},
			in:      []paper.Paper{stored()},
			want:    []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = d1 })},
			res:     changes{},
		},
		{
			name:    "counters take the newest value",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.Upvotes, p.Comments, p.GitHubStars = 7, 2, 4
			})},
			want: []paper.Paper{with(func(p *paper.Paper) {
				p.Upvotes, p.Comments, p.GitHubStars = 7, 2, 4
				p.LastSeen = d1
			})},
			res: changes{Updated: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "zero counters mean not known and keep the stored ones",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.Upvotes, p.Comments, p.GitHubStars = 0, 0, 0
			})},
			want: []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = d1 })},
		},
		{
			name:    "empty fields never erase stored ones",
			history: []paper.Paper{stored()},
			in:      []paper.Paper{{ID: "2606.00467"}},
			want:    []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = d1 })},
		},
		{
			name:    "non-empty strings and lists replace stored ones",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.Title = "New title"
				p.Authors = []string{"Only One"}
				p.AIKeywords = []string{"k1", "k2"}
				p.ArxivComments = "10 pages"
				p.Section = "cross"
			})},
			want: []paper.Paper{with(func(p *paper.Paper) {
				p.Title = "New title"
				p.Authors = []string{"Only One"}
				p.AIKeywords = []string{"k1", "k2"}
				p.ArxivComments = "10 pages"
				p.Section = "cross"
				p.LastSeen = d1
			})},
			res: changes{Updated: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "known dates never change",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.Day, p.Published = day(13), day(2)
			})},
			want: []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = d1 })},
		},
		{
			name:    "unknown dates are filled in",
			history: []paper.Paper{scraped(func(p *paper.Paper) { p.Day, p.Published = time.Time{}, time.Time{} })},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.Day = day(13).In(time.FixedZone("UTC+2", 7200))
				p.Published = day(2)
			})},
			want: []paper.Paper{with(func(p *paper.Paper) {
				p.Day, p.Published = day(13), day(2)
				p.LastSeen = d1
			})},
			res: changes{Updated: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "sources union sorted, categories union in order",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.Sources = []string{"arxiv-cs", "huggingface"}
				p.Categories = []string{"cs.AI", "cs.CL"}
			})},
			want: []paper.Paper{with(func(p *paper.Paper) {
				p.Sources = []string{"arxiv-cs", "huggingface"}
				p.Categories = []string{"cs.CL", "cs.LG", "cs.AI"}
				p.LastSeen = d1
			})},
			res: changes{Updated: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "scrapers' first and last seen are ignored",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.FirstSeen, p.LastSeen = day(1), day(2)
			})},
			want: []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = d1 })},
		},
		{
			name: "one id twice in a batch is merged in order",
			in: []paper.Paper{
				scraped(func(p *paper.Paper) { p.Upvotes = 1 }),
				{ID: "2606.00467", Upvotes: 9, Sources: []string{"arxiv"}, Day: day(20)},
			},
			want: []paper.Paper{with(func(p *paper.Paper) {
				p.Upvotes = 9
				p.Sources = []string{"arxiv", "huggingface"}
				p.FirstSeen, p.LastSeen = t1, d1
			})},
			res: changes{Added: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "mixed batch reports added and changed ids sorted",
			history: []paper.Paper{{ID: "b", Title: "B"}, {ID: "d", Title: "D"}},
			in:      []paper.Paper{{ID: "e", Title: "E"}, {ID: "d", Title: "D2"}, {ID: "b", Title: "B"}, {ID: "a", Title: "A"}},
			want: []paper.Paper{
				{ID: "a", Title: "A", FirstSeen: t1, LastSeen: d1},
				{ID: "b", Title: "B", FirstSeen: t0, LastSeen: d1},
				{ID: "d", Title: "D2", FirstSeen: t0, LastSeen: d1},
				{ID: "e", Title: "E", FirstSeen: t1, LastSeen: d1},
			},
			res: changes{Added: 2, Updated: 1, Changed: []string{"a", "d", "e"}},
		},
		{
			name:    "empty batch does nothing",
			history: []paper.Paper{{ID: "b", Title: "B"}},
			in:      nil,
			want:    []paper.Paper{{ID: "b", Title: "B", FirstSeen: t0, LastSeen: d0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			s := openT(t, path)
			if len(tt.history) > 0 {
				mergeT(t, s, tt.history, t0)
			}
			before := all(t, s)
			res := mergeT(t, s, tt.in, t1)
			if got := (changes{res.Added, res.Updated, ids(res.Changed)}); !reflect.DeepEqual(got, tt.res) {
				t.Errorf("Merge result = %+v, want %+v", got, tt.res)
			}
			// Before holds each changed paper as it was stored, nil for a
			// new one.
			if len(res.Before) != len(res.Changed) {
				t.Fatalf("Merge gave %d papers before for %d changed", len(res.Before), len(res.Changed))
			}
			for k, p := range res.Changed {
				i := slices.IndexFunc(before, func(b paper.Paper) bool { return b.ID == p.ID })
				switch {
				case i < 0 && res.Before[k] != nil:
					t.Errorf("Before holds %+v for new paper %s", *res.Before[k], p.ID)
				case i >= 0 && (res.Before[k] == nil || !reflect.DeepEqual(*res.Before[k], before[i])):
					t.Errorf("Before of %s is %+v, want %+v as stored", p.ID, res.Before[k], before[i])
				}
			}
			// Changed holds the papers as stored.
			for _, p := range res.Changed {
				i := slices.IndexFunc(tt.want, func(w paper.Paper) bool { return w.ID == p.ID })
				if i < 0 || !reflect.DeepEqual(*p, tt.want[i]) {
					t.Errorf("Changed holds %+v, not as stored", *p)
				}
			}
			if got := all(t, s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("history after Merge:\n got %+v\nwant %+v", got, tt.want)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			again := openT(t, path)
			if got := all(t, again); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("history after reopen:\n got %+v\nwant %+v", got, tt.want)
			}
			if err := again.Verify(); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestMergeDoesNotAliasInput(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	in := []paper.Paper{stored()}
	mergeT(t, s, in, t0)
	in[0].Authors[0] = "Changed By Caller"
	in[0].AIKeywords[0] = "changed"
	in[0].Categories[0] = "changed"
	in[0].Sources[0] = "changed"
	got := all(t, s)[0]
	want := stored()
	for _, f := range []struct {
		name      string
		got, want []string
	}{
		{"Authors", got.Authors, want.Authors},
		{"AIKeywords", got.AIKeywords, want.AIKeywords},
		{"Categories", got.Categories, want.Categories},
		{"Sources", got.Sources, want.Sources},
	} {
		if !slices.Equal(f.got, f.want) {
			t.Errorf("%s = %q after the caller changed its input, want %q", f.name, f.got, f.want)
		}
	}
}

// TestReturnedPapersAreTheCallers checks that papers from Get, ForEach and
// Merge share nothing with the store or with each other: a caller may keep
// or modify them.
func TestReturnedPapersAreTheCallers(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	in := []paper.Paper{stored()}
	res := mergeT(t, s, in, t0)
	got, err := s.Get(in[0].ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	p := got[in[0].ID]
	want := *p
	want.Authors = slices.Clone(p.Authors)
	for _, q := range []*paper.Paper{res.Changed[0], p} {
		q.Title = "changed"
		q.Authors[0] = "Changed By Caller"
	}
	if got := all(t, s)[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("history after the caller changed returned papers:\n got %+v\nwant %+v", got, want)
	}
	var kept *paper.Paper
	if err := s.ForEach(func(p *paper.Paper) error {
		kept = p
		return nil
	}); err != nil {
		t.Fatalf("ForEach: %v", err)
	}
	mergeT(t, s, []paper.Paper{{ID: in[0].ID, Upvotes: 99, Authors: []string{"Other"}}}, t0.Add(time.Hour))
	if !reflect.DeepEqual(*kept, want) {
		t.Errorf("paper from ForEach changed by a later Merge:\n got %+v\nwant %+v", *kept, want)
	}
}

// TestMergeSkipsPapersItCannotStore merges batches that hold, beside a
// good paper, one that cannot be stored: Merge reports it in Skipped with
// why, keeps what the history held of it, and merges the rest in the same
// transaction.
func TestMergeSkipsPapersItCannotStore(t *testing.T) {
	huge := strings.Repeat("a", 3_200_000)
	longID := strings.Repeat("x", maxIDLen+1)
	tests := []struct {
		name    string
		bad     paper.Paper
		skipID  string
		wantErr string
	}{
		{"empty id", paper.Paper{Title: "No id"}, "", `paper 0 of the batch (title "No id") has an empty id`},
		{"id too long for bbolt", paper.Paper{ID: longID}, longID, "id is 32761 bytes, over the limit of 32760"},
		{"new record too large", paper.Paper{ID: "c", Abstract: huge}, "c", "record is 3.2 MB, over the 1 MiB limit"},
		{"known record grows too large", paper.Paper{ID: "a", Abstract: huge}, "a", "record is 3.2 MB, over the 1 MiB limit"},
		{"date JSON cannot write", paper.Paper{ID: "c", Day: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "c", "year outside of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			s := openT(t, path)
			mergeT(t, s, []paper.Paper{{ID: "a", Title: "A"}}, t0)
			next := t0.Add(48 * time.Hour)
			res, err := s.Merge([]paper.Paper{tt.bad, {ID: "b", Title: "B"}}, next)
			if err != nil {
				t.Fatalf("Merge: %v, want the bad paper skipped", err)
			}
			if len(res.Skipped) != 1 || res.Skipped[0].ID != tt.skipID || res.Skipped[0].Err == nil || !strings.Contains(res.Skipped[0].Err.Error(), tt.wantErr) {
				t.Fatalf("Skipped = %v, want %.20q with an error containing %q", res.Skipped, tt.skipID, tt.wantErr)
			}
			if res.Added != 1 || !slices.Equal(ids(res.Changed), []string{"b"}) || res.Updated != 0 {
				t.Errorf("Merge = %+v, want b added alone", changes{res.Added, res.Updated, ids(res.Changed)})
			}
			check := func(s *Store, when string) {
				t.Helper()
				if got := allIDs(t, s); !slices.Equal(got, []string{"a", "b"}) || s.Len() != 2 || s.Gen() != 2 {
					t.Errorf("history %s = %.40q (Len %d, Gen %d), want [a b] (2, 2)", when, got, s.Len(), s.Gen())
				}
				got, err := s.Get("a")
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				// A skipped known paper keeps its record, LastSeen too.
				if a := got["a"]; a.Abstract != "" || a.Title != "A" || !a.LastSeen.Equal(seenDay(t0)) {
					t.Errorf("paper a %s = %.60q last seen %v, want A as first merged", when, a.Title+a.Abstract, a.LastSeen)
				}
				if err := s.Verify(); err != nil {
					t.Errorf("Verify %s: %v", when, err)
				}
			}
			check(s, "after Merge")
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			check(openT(t, path), "after reopen")
		})
	}
}

// TestMergeSkippedOrder checks Skipped lists several bad papers in ID order,
// empty IDs first in batch order, and counts a bad ID given twice once.
func TestMergeSkippedOrder(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	huge := strings.Repeat("a", maxBody)
	res := mergeT(t, s, []paper.Paper{
		{ID: "z", Abstract: huge},
		{Title: "first"},
		{ID: "ok"},
		{ID: "m", Abstract: huge},
		{Title: "second"},
		{ID: "z", Title: "again"},
	}, t0)
	var got []string
	for _, sk := range res.Skipped {
		got = append(got, sk.ID+": "+sk.Err.Error())
	}
	want := []string{
		`: paper 1 of the batch (title "first") has an empty id`,
		`: paper 4 of the batch (title "second") has an empty id`,
		"m: record is 1.0 MB, over the 1 MiB limit",
		"z: record is 1.0 MB, over the 1 MiB limit",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Skipped =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Added != 1 || !slices.Equal(allIDs(t, s), []string{"ok"}) {
		t.Errorf("Merge added %d, history %q; want ok alone", res.Added, allIDs(t, s))
	}
}

// TestMergeLongestID stores a paper under the longest ID allowed: its
// listing-day index key is bbolt's largest.
func TestMergeLongestID(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	id := strings.Repeat("x", maxIDLen)
	res := mergeT(t, s, []paper.Paper{{ID: id}}, t0)
	if res.Added != 1 || res.Skipped != nil {
		t.Fatalf("Merge of a %d-byte ID: added %d, skipped %v", len(id), res.Added, res.Skipped)
	}
	if err := s.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestClosedStore(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	mergeT(t, s, []paper.Paper{{ID: "a", Day: day(1)}}, t0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Merge([]paper.Paper{{ID: "b"}}, t0); err == nil {
		t.Errorf("Merge after Close: err = nil, want an error")
	}
	if _, err := s.Prune(day(2)); err == nil {
		t.Errorf("Prune after Close: err = nil, want an error")
	}
	if _, err := s.Get("a"); err == nil {
		t.Errorf("Get after Close: err = nil, want an error")
	}
	if err := s.ForEach(func(*paper.Paper) error { return nil }); err == nil {
		t.Errorf("ForEach after Close: err = nil, want an error")
	}
	if _, err := s.State(); err == nil {
		t.Errorf("State after Close: err = nil, want an error")
	}
	if _, err := s.State("k"); err == nil {
		t.Errorf("State(k) after Close: err = nil, want an error")
	}
	if err := s.SaveState(map[string][]byte{"k": nil}, nil); err == nil {
		t.Errorf("SaveState after Close: err = nil, want an error")
	}
	if err := s.Verify(); err == nil {
		t.Errorf("Verify after Close: err = nil, want an error")
	}
	if s.Len() != 1 || s.Gen() != 1 {
		t.Errorf("Len, Gen after Close = %d, %d; want 1, 1", s.Len(), s.Gen())
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	first := realistic(t, 0, 120)
	mergeT(t, s, first[:70], t0)
	mergeT(t, s, first[50:], t0.Add(time.Hour))
	want := all(t, s)
	if len(want) != 120 || s.Len() != 120 {
		t.Fatalf("after two merges: %d papers, Len %d; want 120", len(want), s.Len())
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again := openT(t, path)
	got := all(t, again)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reopened store holds %d papers that differ from the %d written", len(got), len(want))
	}
	if again.Len() != 120 || again.Gen() != 2 {
		t.Errorf("reopened store: Len %d, Gen %d; want 120, 2", again.Len(), again.Gen())
	}
	if !slices.IsSortedFunc(got, func(a, b paper.Paper) int { return strings.Compare(a.ID, b.ID) }) {
		t.Errorf("ForEach after reopen is not in ID order")
	}
	byID, err := again.Get(realisticID(0), realisticID(119), "absent", realisticID(0))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if len(byID) != 2 || !reflect.DeepEqual(*byID[realisticID(0)], want[0]) || !reflect.DeepEqual(*byID[realisticID(119)], want[119]) {
		t.Errorf("Get returned %d papers, want the first and last stored", len(byID))
	}
}

// TestPrune checks which date Prune dates a paper by. The papers were last
// seen on June 2, before every cutoff but the first two, so their dates
// decide (TestPruneKeepsListedPapers is about LastSeen).
func TestPrune(t *testing.T) {
	history := []paper.Paper{
		{ID: "by-day", Day: day(10), Published: day(20)},
		{ID: "by-published", Published: day(11)},
		{ID: "by-first-seen"}, // FirstSeen = seen = June 2, 06:00
		{ID: "late", Day: day(20), Published: day(1)},
	}
	seen := day(2).Add(6 * time.Hour)
	tests := []struct {
		name   string
		cutoff time.Time
		want   []string // dropped
	}{
		{"zero cutoff drops nothing", time.Time{}, nil},
		{"cutoff before everything", day(1), nil},
		{"last seen on the cutoff's day keeps all", day(2), nil},
		{"first seen when no dates", day(3), []string{"by-first-seen"}},
		{"day wins over published", day(11), []string{"by-day", "by-first-seen"}},
		{"published when no day", day(12), []string{"by-day", "by-first-seen", "by-published"}},
		{"cutoff equal to day keeps it", day(20), []string{"by-day", "by-first-seen", "by-published"}},
		{"everything", day(21), []string{"by-day", "by-first-seen", "by-published", "late"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			s := openT(t, path)
			mergeT(t, s, history, seen)
			got, err := s.Prune(tt.cutoff)
			if err != nil {
				t.Fatalf("Prune: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Prune(%v) dropped %q, want %q", tt.cutoff, got, tt.want)
			}
			var kept []string
			for _, p := range history {
				if !slices.Contains(tt.want, p.ID) {
					kept = append(kept, p.ID)
				}
			}
			slices.Sort(kept)
			if got := allIDs(t, s); !slices.Equal(got, kept) || s.Len() != len(kept) {
				t.Errorf("history after Prune = %q (Len %d), want %q", got, s.Len(), kept)
			}
			wantGen := uint64(1)
			if len(tt.want) > 0 {
				wantGen = 2
			}
			if s.Gen() != wantGen {
				t.Errorf("Gen after Prune = %d, want %d", s.Gen(), wantGen)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			again := openT(t, path)
			if got := allIDs(t, again); !slices.Equal(got, kept) || again.Len() != len(kept) {
				t.Errorf("history after reopen = %q (Len %d), want %q", got, again.Len(), kept)
			}
			if err := again.Verify(); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// TestPruneKeepsListedPapers is the retention rule for papers whose dates
// are long past, as a lab page lists them: merged today, they survive a
// Prune at today less the retention, and go once no source has listed them
// for the retention. A paper dated after it was last seen is kept until the
// retention has passed after its date.
func TestPruneKeepsListedPapers(t *testing.T) {
	const retention = 90 * 24 * time.Hour
	old := time.Date(2019, 3, 4, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	mergeT(t, s, []paper.Paper{
		{ID: "listed", Published: old},
		{ID: "delisted", Day: old},
		{ID: "undated"},
		{ID: "future", Day: t0.Add(100 * 24 * time.Hour)},
	}, t0)
	prune := func(now time.Time, want ...string) {
		t.Helper()
		got, err := s.Prune(now.Add(-retention))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Prune at %s = %q, %v; want %q", now.Format(time.DateOnly), got, err, want)
		}
	}
	prune(t0)
	// Sixty days on, the lab page still lists one of its old papers.
	later := t0.Add(60 * 24 * time.Hour)
	mergeT(t, s, []paper.Paper{{ID: "listed"}}, later)
	prune(later)
	// LastSeen is kept to the day: t0's day ends the retention at its
	// midnight, 6 hours before t0 (the undated paper's FirstSeen).
	prune(t0.Add(retention - 6*time.Hour))
	prune(t0.Add(retention+time.Second), "delisted", "undated")
	prune(later.Add(retention - 6*time.Hour))
	prune(t0.Add(100*24*time.Hour+retention+time.Second), "future", "listed")
	if s.Len() != 0 {
		t.Errorf("Len = %d after every paper went, want 0", s.Len())
	}
	if err := s.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestOpenCreates(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"absent file", func(t *testing.T, path string) {}},
		{"another program's temporary file beside it", func(t *testing.T, path string) {
			writeFile(t, path+".new-1", []byte("not ours"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			tt.setup(t, path)
			s := openT(t, path)
			if s.Len() != 0 {
				t.Errorf("Len of a new store = %d, want 0", s.Len())
			}
			mergeT(t, s, []paper.Paper{{ID: "a"}}, t0)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := openT(t, path).Len(); got != 1 {
				t.Errorf("Len after reopen = %d, want 1", got)
			}
			// Only the store and what was there before are left.
			entries, err := os.ReadDir(filepath.Dir(path))
			if err != nil {
				t.Fatalf("read dir: %v", err)
			}
			for _, e := range entries {
				if name := e.Name(); name != "history.db" && name != "history.db.new-1" {
					t.Errorf("Open left %s behind", name)
				}
			}
		})
	}
}

// TestOpenRefusesEmptyFile: a 0-byte file is not taken for a new store
// (bbolt would initialise it) but refused, untouched, saying what to do,
// by a writer and a reader alike.
func TestOpenRefusesEmptyFile(t *testing.T) {
	for _, o := range []Options{{}, {ReadOnly: true}} {
		path := filepath.Join(t.TempDir(), "history.db")
		writeFile(t, path, nil)
		s, err := OpenWith(path, o)
		if err == nil {
			s.Close()
			t.Fatalf("OpenWith(%+v) of an empty file succeeded", o)
		}
		var d *DamagedError
		if !errors.Is(err, ErrEmpty) || !errors.As(err, &d) || d.Path != path {
			t.Errorf("OpenWith(%+v) = %v, want a *DamagedError of ErrEmpty", o, err)
		}
		want := "store " + path + " is empty (0 bytes): not a paperfeed history; if a first start was interrupted, remove it"
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("OpenWith(%+v) error = %q, want it to start %q", o, err, want)
		}
		if fileSize(t, path) != 0 {
			t.Errorf("OpenWith(%+v) wrote into the empty file", o)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	writeFile(t, file, []byte("x"))
	tests := []struct {
		name string
		path string
		want string
	}{
		{"parent is a file", filepath.Join(file, "history.db"), "not a directory"},
		{"missing directory", filepath.Join(dir, "missing", "history.db"), "no such file"},
		{"directory", dir, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path)
			if err == nil {
				t.Fatalf("Open = %v, nil; want an error", s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error = %v, want one containing %q", err, tt.want)
			}
			var damaged *DamagedError
			if errors.As(err, &damaged) || errors.Is(err, ErrForeign) || errors.Is(err, ErrLocked) {
				t.Errorf("Open error = %v, want a plain error, not damaged/foreign/locked", err)
			}
		})
	}
}

func TestOpenLockedInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	mergeT(t, s, []paper.Paper{{ID: "a"}}, t0)
	sum := fileSum(t, path)
	second, err := Open(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open in one process = %v, %v; want ErrLocked", second, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
	if fileSum(t, path) != sum {
		t.Errorf("file changed after the failed Open")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := openT(t, path).Len(); got != 1 {
		t.Errorf("Len after the lock was released = %d, want 1", got)
	}
}

func TestConcurrentReadersSeeWholeStates(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	const batches, size = 10, 20
	papers := realistic(t, 0, batches*size)
	done := make(chan error)
	go func() {
		var err error
		for i := range batches {
			if _, err = s.Merge(papers[i*size:(i+1)*size], t0); err != nil {
				break
			}
		}
		done <- err
	}()
	last := 0
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			finished = true
		default:
		}
		got := allIDs(t, s)
		if len(got)%size != 0 || len(got) < last {
			t.Fatalf("ForEach saw %d papers after %d: a partial or older state", len(got), last)
		}
		if !slices.IsSorted(got) {
			t.Fatalf("ForEach is not in ID order")
		}
		last = len(got)
	}
	if s.Len() != batches*size {
		t.Errorf("Len = %d, want %d", s.Len(), batches*size)
	}
}

// TestMergeNoChangeWritesNothing re-merges 1,000 papers on the day they were
// merged: no transaction, no byte of the file changes. The next day the
// papers are written again (LastSeen moves to that day), still reporting
// nothing changed.
func TestMergeNoChangeWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	papers := realistic(t, 0, 1000)
	if res := mergeT(t, s, papers, t0); res.Added != 1000 {
		t.Fatalf("first Merge added %d, want 1000", res.Added)
	}
	size, tx, gen, sum := fileSize(t, path), txID(t, s), s.Gen(), fileSum(t, path)
	res := mergeT(t, s, papers, t0.Add(17*time.Hour)) // 23:00, the same UTC day
	if res.Added != 0 || res.Updated != 0 || res.Changed != nil {
		t.Errorf("same-day re-merge = %+v, want nothing changed", res)
	}
	if got := fileSize(t, path); got != size {
		t.Errorf("file grew from %d to %d bytes on a re-merge that changed nothing", size, got)
	}
	if got := txID(t, s); got != tx {
		t.Errorf("transaction %d after the re-merge, want %d: it wrote", got, tx)
	}
	if fileSum(t, path) != sum || s.Gen() != gen {
		t.Errorf("file or Gen changed on a re-merge that changed nothing")
	}

	next := t0.Add(20 * time.Hour) // 02:00 the next day
	res = mergeT(t, s, papers, next)
	if res.Added != 0 || res.Updated != 0 || res.Changed != nil {
		t.Errorf("next-day re-merge = %+v, want nothing changed", res)
	}
	if txID(t, s) != tx+1 || s.Gen() != gen+1 {
		t.Errorf("next-day re-merge: transaction %d, Gen %d; want %d, %d", txID(t, s), s.Gen(), tx+1, gen+1)
	}
	got, err := s.Get(papers[0].ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if p := got[papers[0].ID]; !p.LastSeen.Equal(seenDay(next)) || !p.FirstSeen.Equal(t0) {
		t.Errorf("after the next-day re-merge FirstSeen, LastSeen = %v, %v; want %v, %v", p.FirstSeen, p.LastSeen, t0, seenDay(next))
	}

	// A change to one paper writes that paper and reports it alone.
	changed := papers[500]
	changed.Upvotes += 1000
	res = mergeT(t, s, append(slices.Clone(papers), changed), next)
	if res.Updated != 1 || !slices.Equal(ids(res.Changed), []string{changed.ID}) || res.Changed[0].Upvotes != changed.Upvotes {
		t.Errorf("re-merge with one change = %+v, want %s updated", changes{res.Added, res.Updated, ids(res.Changed)}, changed.ID)
	}
	if txID(t, s) != tx+2 {
		t.Errorf("a Merge with one change did not write")
	}
}

func TestGen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	step := func(name string, want uint64) {
		t.Helper()
		if got := s.Gen(); got != want {
			t.Errorf("Gen after %s = %d, want %d", name, got, want)
		}
	}
	step("Open", 0)
	mergeT(t, s, []paper.Paper{{ID: "a", Day: day(1)}, {ID: "b", Day: day(20)}}, t0)
	step("a Merge", 1)
	mergeT(t, s, []paper.Paper{{ID: "a"}}, t0)
	step("a Merge that wrote nothing", 1)
	mergeT(t, s, nil, t0)
	step("an empty Merge", 1)
	if err := s.SaveState(map[string][]byte{"k": []byte("v")}, nil); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	step("SaveState", 1)
	if _, err := s.Prune(day(2)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	step("a Prune that dropped nothing", 1)
	if dropped, err := s.Prune(day(14)); err != nil || !slices.Equal(dropped, []string{"a"}) {
		t.Fatalf("Prune = %q, %v; want [a]", dropped, err)
	}
	step("a Prune", 2)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openT(t, path)
	step("reopen", 2)
}

func TestState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	state := func(s *Store) map[string][]byte {
		t.Helper()
		got, err := s.State()
		if err != nil {
			t.Fatalf("State: %v", err)
		}
		return got
	}
	if got := state(s); len(got) != 0 {
		t.Errorf("State of a new store = %q, want empty", got)
	}
	if err := s.SaveState(map[string][]byte{"topic/a": []byte("1"), "topic/b": []byte("2"), "gen": []byte("0")}, nil); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	// With keys, only those it holds.
	if got, err := s.State("topic/b", "topic", "zzz", "gen"); err != nil || len(got) != 2 || string(got["topic/b"]) != "2" || string(got["gen"]) != "0" {
		t.Errorf("State(topic/b, topic, zzz, gen) = %q, %v; want topic/b and gen", got, err)
	}
	// Deleting a key that is not there is no error; a key both put and
	// deleted is put.
	put := map[string][]byte{"topic/a": []byte("1b"), "topic/c": {}}
	if err := s.SaveState(put, []string{"topic/b", "missing", "topic/c"}); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	put["topic/a"][0] = 'X' // the caller's bytes are not the store's
	want := map[string][]byte{"topic/a": []byte("1b"), "topic/c": {}, "gen": []byte("0")}
	if got := state(s); !reflect.DeepEqual(got, want) {
		t.Errorf("State = %q, want %q", got, want)
	}
	got := state(s)
	got["gen"][0] = 'X'
	if state(s)["gen"][0] != '0' {
		t.Errorf("State returned bytes shared with the store")
	}
	if err := s.SaveState(map[string][]byte{"ok": nil, "": []byte("x")}, nil); err == nil {
		t.Errorf("SaveState with an empty key: err = nil, want an error")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again := openT(t, path)
	if got := state(again); !reflect.DeepEqual(got, want) {
		t.Errorf("State after a failed SaveState and reopen = %q, want %q", got, want)
	}
	if again.Gen() != 0 || again.Len() != 0 {
		t.Errorf("SaveState changed Gen or Len: %d, %d", again.Gen(), again.Len())
	}
}

func TestForEachStopsOnError(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	mergeT(t, s, realistic(t, 0, 50), t0)
	stop := errors.New("enough")
	var seen []string
	err := s.ForEach(func(p *paper.Paper) error {
		seen = append(seen, p.ID)
		if len(seen) == 7 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("ForEach = %v, want fn's error as is", err)
	}
	if len(seen) != 7 || seen[6] != realisticID(6) {
		t.Errorf("ForEach went on after fn's error: saw %d papers", len(seen))
	}
	// A panic in fn is fn's, not damage to the file.
	func() {
		defer func() {
			if r := recover(); r != "fn's own" {
				t.Errorf("recovered %v, want fn's panic", r)
			}
		}()
		err = s.ForEach(func(*paper.Paper) error { panic("fn's own") })
		t.Errorf("ForEach returned %v after fn panicked", err)
	}()
	if got := len(allIDs(t, s)); got != 50 {
		t.Errorf("ForEach after a panic saw %d papers, want 50", got)
	}
}

// TestForEachRecord: the records in ID order, decoded as ForEach decodes
// them, under checksums that change with a paper's content alone.
func TestForEachRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	mergeT(t, s, realistic(t, 0, 50), t0)
	sums := func(t *testing.T, s *Store, decodeAll bool) map[string]uint32 {
		t.Helper()
		out := map[string]uint32{}
		var ids []string
		err := s.ForEachRecord(func(id string, sum uint32, decode func() (*paper.Paper, error)) error {
			ids = append(ids, id)
			out[id] = sum
			if decodeAll {
				p, err := decode()
				if err != nil {
					return err
				}
				if got, err := s.Get(id); err != nil || !reflect.DeepEqual(got[id], p) {
					t.Errorf("ForEachRecord decoded %s as %+v, Get as %+v (%v)", id, p, got[id], err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, allIDs(t, s)) {
			t.Errorf("ForEachRecord walked %d papers out of ID order", len(ids))
		}
		return out
	}
	first := sums(t, s, true)
	if !maps.Equal(sums(t, s, false), first) {
		t.Error("the checksums differ between two walks")
	}
	changed := realisticID(7)
	mergeT(t, s, []paper.Paper{{ID: changed, Upvotes: 999}}, t0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, path)
	after := sums(t, s, true)
	for id, sum := range first {
		if (after[id] != sum) != (id == changed) {
			t.Errorf("paper %s: checksum %08x after the merge, %08x before", id, after[id], sum)
		}
	}

	stop := errors.New("enough")
	n := 0
	if err := s.ForEachRecord(func(string, uint32, func() (*paper.Paper, error)) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	}); err != stop || n != 3 {
		t.Errorf("ForEachRecord = %v after %d papers, want fn's error as is after 3", err, n)
	}
}

func TestGet(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	got, err := s.Get()
	if err != nil || len(got) != 0 || got == nil {
		t.Errorf("Get() on an empty store = %v, %v; want an empty map", got, err)
	}
	mergeT(t, s, []paper.Paper{{ID: "a", Title: "A"}, {ID: "ab", Title: "AB"}, {ID: "c"}}, t0)
	got, err = s.Get("ab", "b", "", "a", "ab", "abc")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if len(got) != 2 || got["a"].Title != "A" || got["ab"].Title != "AB" || got["a"].ID != "a" {
		t.Errorf("Get = %v, want a and ab only", got)
	}
}

// TestPruneFollowsListingDay checks the index when a paper's listing day
// moves: first dated by FirstSeen, then by Published, then by Day.
func TestPruneFollowsListingDay(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	mergeT(t, s, []paper.Paper{{ID: "moving"}, {ID: "fixed", Day: day(15)}}, t0) // FirstSeen June 13
	mergeT(t, s, []paper.Paper{{ID: "moving", Published: day(20)}}, t0)
	if err := s.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got, err := s.Prune(day(14)); err != nil || got != nil {
		t.Errorf("Prune(June 14) = %q, %v; want nothing (listed June 20)", got, err)
	}
	mergeT(t, s, []paper.Paper{{ID: "moving", Day: day(10)}}, t0)
	got, err := s.Prune(day(14))
	if err != nil || !slices.Equal(got, []string{"moving"}) {
		t.Errorf("Prune(June 14) = %q, %v; want [moving] (listed June 10)", got, err)
	}
	if err := s.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if s.Len() != 1 {
		t.Errorf("Len = %d, want 1", s.Len())
	}
}

// TestPruneWithinASecond prunes at cutoffs inside the second of listing days
// that have nanoseconds: the index keys hold whole seconds, the rule holds
// to the nanosecond.
func TestPruneWithinASecond(t *testing.T) {
	at := time.Date(2026, 6, 10, 12, 0, 0, 500, time.UTC)
	pre := time.Date(1969, 7, 20, 20, 17, 0, 500, time.UTC)
	history := []paper.Paper{
		{ID: "a", Day: at},
		{ID: "b", Day: at.Add(100)},
		{ID: "c", Day: at.Add(time.Second)},
		{ID: "old", Published: pre},
	}
	tests := []struct {
		cutoff time.Time
		want   []string
	}{
		{pre, nil},
		{pre.Add(1), []string{"old"}},
		{at.Add(-500), []string{"old"}},
		{at, []string{"old"}},
		{at.Add(1), []string{"a", "old"}},
		{at.Add(101), []string{"a", "b", "old"}},
		{at.Add(time.Second), []string{"a", "b", "old"}},
		{at.Add(time.Second + 1), []string{"a", "b", "c", "old"}},
	}
	// Last seen before every cutoff, so the listing days decide.
	seen := time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		s := openT(t, filepath.Join(t.TempDir(), "history.db"))
		mergeT(t, s, history, seen)
		got, err := s.Prune(tt.cutoff)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Prune(%v) = %q, %v; want %q", tt.cutoff, got, err, tt.want)
		}
	}
}

// TestStateKeyIsABucket: a bucket where a state value should be is damage,
// whether every entry is asked for or that key.
func TestStateKeyIsABucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	realStore(t, path, 10)
	boltFile(t, path, func(tx *bolt.Tx) error {
		_, err := tx.Bucket(bucketState).CreateBucket([]byte("b"))
		return err
	})
	s := openT(t, path)
	defer s.Close()
	for _, keys := range [][]string{nil, {"b"}} {
		if _, err := s.State(keys...); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), `state key "b" is a bucket`) {
			t.Errorf("State(%q) = %v, want ErrDamaged naming the key", keys, err)
		}
	}
	if got, err := s.State("a"); err != nil || len(got) != 0 {
		t.Errorf("State(a) = %q, %v; want nothing, no error", got, err)
	}
}
