package store

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paperfeed/paperfeed/paper"
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

func TestMerge(t *testing.T) {
	t1 := t0.Add(24 * time.Hour)
	// with returns stored() changed by f, as the history should hold it
	// after the first merge at t0.
	with := func(f func(p *paper.Paper)) paper.Paper {
		p := stored()
		p.FirstSeen, p.LastSeen = t0, t0
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
		res     MergeResult
	}{
		{
			name: "new paper is added with first and last seen now",
			in:   []paper.Paper{scraped(func(p *paper.Paper) { p.Sources = []string{"hf", "arxiv", "hf", ""} })},
			want: []paper.Paper{with(func(p *paper.Paper) {
				p.Sources = []string{"arxiv", "hf"}
				p.FirstSeen, p.LastSeen = t1, t1
			})},
			res: MergeResult{Added: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "identical re-scrape changes nothing but last seen",
			history: []paper.Paper{stored()},
			in:      []paper.Paper{stored()},
			want:    []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = t1 })},
			res:     MergeResult{},
		},
		{
			name:    "counters take the newest value",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.Upvotes, p.Comments, p.GitHubStars = 7, 2, 4
			})},
			want: []paper.Paper{with(func(p *paper.Paper) {
				p.Upvotes, p.Comments, p.GitHubStars = 7, 2, 4
				p.LastSeen = t1
			})},
			res: MergeResult{Updated: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "zero counters mean not known and keep the stored ones",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.Upvotes, p.Comments, p.GitHubStars = 0, 0, 0
			})},
			want: []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = t1 })},
		},
		{
			name:    "empty fields never erase stored ones",
			history: []paper.Paper{stored()},
			in:      []paper.Paper{{ID: "2606.00467"}},
			want:    []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = t1 })},
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
				p.LastSeen = t1
			})},
			res: MergeResult{Updated: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "known dates never change",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.Day, p.Published = day(13), day(2)
			})},
			want: []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = t1 })},
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
				p.LastSeen = t1
			})},
			res: MergeResult{Updated: 1, Changed: []string{"2606.00467"}},
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
				p.LastSeen = t1
			})},
			res: MergeResult{Updated: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "scrapers' first and last seen are ignored",
			history: []paper.Paper{stored()},
			in: []paper.Paper{scraped(func(p *paper.Paper) {
				p.FirstSeen, p.LastSeen = day(1), day(2)
			})},
			want: []paper.Paper{with(func(p *paper.Paper) { p.LastSeen = t1 })},
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
				p.FirstSeen, p.LastSeen = t1, t1
			})},
			res: MergeResult{Added: 1, Changed: []string{"2606.00467"}},
		},
		{
			name:    "mixed batch reports added and changed ids sorted",
			history: []paper.Paper{{ID: "b", Title: "B"}, {ID: "d", Title: "D"}},
			in:      []paper.Paper{{ID: "e", Title: "E"}, {ID: "d", Title: "D2"}, {ID: "b", Title: "B"}, {ID: "a", Title: "A"}},
			want: []paper.Paper{
				{ID: "a", Title: "A", FirstSeen: t1, LastSeen: t1},
				{ID: "b", Title: "B", FirstSeen: t0, LastSeen: t1},
				{ID: "d", Title: "D2", FirstSeen: t0, LastSeen: t1},
				{ID: "e", Title: "E", FirstSeen: t1, LastSeen: t1},
			},
			res: MergeResult{Added: 2, Updated: 1, Changed: []string{"a", "d", "e"}},
		},
		{
			name:    "empty batch does nothing",
			history: []paper.Paper{{ID: "b", Title: "B"}},
			in:      nil,
			want:    []paper.Paper{{ID: "b", Title: "B", FirstSeen: t0, LastSeen: t0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			s := openT(t, path)
			if len(tt.history) > 0 {
				mergeT(t, s, tt.history, t0)
			}
			res := mergeT(t, s, tt.in, t1)
			if !reflect.DeepEqual(res, tt.res) {
				t.Errorf("Merge result = %+v, want %+v", res, tt.res)
			}
			if got := values(s.Papers()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Papers after Merge:\n got %+v\nwant %+v", got, tt.want)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			again := openT(t, path)
			if got := values(again.Papers()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Papers after reopen:\n got %+v\nwant %+v", got, tt.want)
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
	got := s.Papers()[0]
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

func TestMergeKeepsReturnedPapersStable(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	mergeT(t, s, []paper.Paper{{ID: "a", Upvotes: 1}}, t0)
	before := s.Papers()
	old, oldValue := before[0], *before[0]
	mergeT(t, s, []paper.Paper{{ID: "a", Upvotes: 2, Sources: []string{"hf"}}, {ID: "0"}}, t0.Add(time.Hour))
	if len(before) != 1 || before[0] != old || before[0].Upvotes != 1 || !before[0].LastSeen.Equal(t0) {
		t.Errorf("slice returned before a Merge changed to %+v, want the old paper", values(before))
	}
	if !reflect.DeepEqual(*old, oldValue) {
		t.Errorf("paper returned before a Merge changed to %+v, want %+v", *old, oldValue)
	}
	mid := s.Papers()
	midValues := values(mid)
	if len(mid) != 2 || mid[1] == old || mid[1].Upvotes != 2 {
		t.Errorf("Papers after Merge = %+v, want a new paper a with Upvotes 2", midValues)
	}
	if got := s.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}
	// Prune drops "a" (first seen at t0) and must leave mid alone too.
	dropped, err := s.Prune(t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if !slices.Equal(dropped, []string{"a"}) || s.Len() != 1 {
		t.Errorf("Prune dropped %q leaving %d papers, want [a] leaving 1", dropped, s.Len())
	}
	if got := values(mid); !reflect.DeepEqual(got, midValues) {
		t.Errorf("slice returned before a Prune changed to %+v, want %+v", got, midValues)
	}
}

func TestSameContentCoversEveryField(t *testing.T) {
	base := fullPaper()
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			other := base
			v := reflect.ValueOf(&other).Elem().Field(i)
			switch x := v.Interface().(type) {
			case string:
				v.SetString(x + "!")
			case int:
				v.SetInt(int64(x) + 1)
			case []string:
				v.Set(reflect.ValueOf(append(slices.Clone(x), "extra")))
			case time.Time:
				v.Set(reflect.ValueOf(x.Add(time.Nanosecond)))
			default:
				t.Fatalf("field %s has type %T: teach sameContent and this test about it", f.Name, x)
			}
			want := f.Name == "LastSeen"
			if got := sameContent(&base, &other); got != want {
				t.Errorf("sameContent with %s changed = %v, want %v", f.Name, got, want)
			}
		})
	}
}

func TestMergeRejectsEmptyID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	mergeT(t, s, []paper.Paper{{ID: "a"}}, t0)
	_, err := s.Merge([]paper.Paper{{ID: "b"}, {Title: "No id"}}, t0)
	if err == nil || !strings.Contains(err.Error(), "empty id") {
		t.Fatalf("Merge with an empty id: err = %v, want an empty id error", err)
	}
	if got := ids(s.Papers()); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Papers after failed Merge = %q, want [a]", got)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := ids(openT(t, path).Papers()); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Papers after reopen = %q, want [a]", got)
	}
}

func TestMergeWriteErrorsChangeNothing(t *testing.T) {
	tests := []struct {
		name  string
		batch []paper.Paper
		want  string
	}{
		{"key too large for bbolt", []paper.Paper{{ID: "b"}, {ID: strings.Repeat("x", bolt.MaxKeySize+1)}}, "key too large"},
		{"record too large", []paper.Paper{{ID: "b"}, {ID: "c", Abstract: strings.Repeat("a", maxBody+1)}}, "exceeds the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			s := openT(t, path)
			mergeT(t, s, []paper.Paper{{ID: "a"}}, t0)
			if _, err := s.Merge(tt.batch, t0); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Merge: err = %v, want one containing %q", err, tt.want)
			}
			if got := ids(s.Papers()); !slices.Equal(got, []string{"a"}) {
				t.Errorf("Papers after failed Merge = %q, want [a]", got)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := ids(openT(t, path).Papers()); !slices.Equal(got, []string{"a"}) {
				t.Errorf("Papers after reopen = %q, want [a]", got)
			}
		})
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
	if got := ids(s.Papers()); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Papers after Close = %q, want [a]", got)
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	first := realistic(t, 0, 120)
	mergeT(t, s, first[:70], t0)
	mergeT(t, s, first[50:], t0.Add(time.Hour))
	want := s.Papers()
	if len(want) != 120 {
		t.Fatalf("Len after two merges = %d, want 120", len(want))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again := openT(t, path)
	if got := again.Papers(); !reflect.DeepEqual(got, want) {
		t.Errorf("reopened store holds %d papers that differ from the %d written", len(got), len(want))
	}
	if !slices.IsSorted(ids(again.Papers())) {
		t.Errorf("Papers after reopen are not sorted by ID")
	}
}

func TestPrune(t *testing.T) {
	history := []paper.Paper{
		{ID: "by-day", Day: day(10), Published: day(20)},
		{ID: "by-published", Published: day(11)},
		{ID: "by-first-seen"}, // FirstSeen = t0 = June 13
		{ID: "late", Day: day(20), Published: day(1)},
	}
	tests := []struct {
		name   string
		cutoff time.Time
		want   []string // dropped
	}{
		{"zero cutoff drops nothing", time.Time{}, nil},
		{"cutoff before everything", day(1), nil},
		{"day wins over published", day(11), []string{"by-day"}},
		{"published when no day", day(12), []string{"by-day", "by-published"}},
		{"first seen when no dates", day(14), []string{"by-day", "by-first-seen", "by-published"}},
		{"cutoff equal to day keeps it", day(20), []string{"by-day", "by-first-seen", "by-published"}},
		{"everything", day(21), []string{"by-day", "by-first-seen", "by-published", "late"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			s := openT(t, path)
			mergeT(t, s, history, t0)
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
			if got := ids(s.Papers()); !slices.Equal(got, kept) {
				t.Errorf("Papers after Prune = %q, want %q", got, kept)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := ids(openT(t, path).Papers()); !slices.Equal(got, kept) {
				t.Errorf("Papers after reopen = %q, want %q", got, kept)
			}
		})
	}
}

func TestOpenCreates(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"absent file", func(t *testing.T, path string) {}},
		{"empty file", func(t *testing.T, path string) { writeFile(t, path, nil) }},
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
		})
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
		got := s.Papers()
		if len(got)%size != 0 || len(got) < last {
			t.Fatalf("Papers returned %d papers after %d: a partial or older state", len(got), last)
		}
		if !slices.IsSortedFunc(got, func(a, b *paper.Paper) int { return strings.Compare(a.ID, b.ID) }) {
			t.Fatalf("Papers returned an unsorted slice")
		}
		last = len(got)
	}
	if s.Len() != batches*size {
		t.Errorf("Len = %d, want %d", s.Len(), batches*size)
	}
}
