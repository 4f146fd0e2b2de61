package site

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/arxiv"
	"github.com/paperfeed/paperfeed/scrape/listing"
	"github.com/paperfeed/paperfeed/topic"
)

var keepSite = flag.String("keep", "", "write the site built from the fixture histories into this directory too, to check it by hand (the W3C feed validator)")

// hfEntry is the part of a Hugging Face daily_papers element these tests
// need, decoded here rather than by the scraper, whose package does I/O.
type hfEntry struct {
	Paper struct {
		ID                 string    `json:"id"`
		Title              string    `json:"title"`
		Summary            string    `json:"summary"`
		PublishedAt        time.Time `json:"publishedAt"`
		SubmittedOnDailyAt time.Time `json:"submittedOnDailyAt"`
		Upvotes            int       `json:"upvotes"`
	} `json:"paper"`
	NumComments int `json:"numComments"`
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixtureHistories are the papers of the real fixture pages, one batch per
// source as a refresh would merge them: the Hugging Face API answer, two
// arXiv listings (current and pre-2024 layout) and a lab's page.
func fixtureHistories(t *testing.T) map[string][]paper.Paper {
	t.Helper()
	var entries []hfEntry
	if err := json.Unmarshal(readFixture(t, "hf-api-daily-papers-2026-06-12.json"), &entries); err != nil {
		t.Fatal(err)
	}
	out := map[string][]paper.Paper{}
	for _, e := range entries {
		out["huggingface"] = append(out["huggingface"], paper.Paper{
			ID: e.Paper.ID, Title: e.Paper.Title, Abstract: e.Paper.Summary, Hub: true,
			Published: e.Paper.PublishedAt, Day: e.Paper.SubmittedOnDailyAt,
			Upvotes: e.Paper.Upvotes, Comments: e.NumComments, Sources: []string{"huggingface"},
		})
	}
	for name, page := range map[string]string{
		"arxiv-cs.LG": "arxiv-list-cs.LG-new-2025-12-05.html",
		"arxiv-cs":    "arxiv-list-cs-new-2018-07-20-legacy.html",
	} {
		base, _ := url.Parse("https://arxiv.org/list/cs/new")
		l, err := arxiv.Parse(readFixture(t, page), base)
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		for _, p := range l.Papers {
			p.Sources = []string{name}
			out[name] = append(out[name], p)
		}
	}
	base, _ := url.Parse("https://lab.example.org/publications")
	lab, _, err := listing.Parse(readFixture(t, "listing-lab-publications.html"), base, listing.Selectors{
		Item: "article.pub", Title: "h2.pub-title", Abstract: "p.abstract", Authors: ".authors", Date: "time@datetime",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lab {
		p.Sources = []string{"lab"}
		out["lab"] = append(out["lab"], p)
	}
	for name, ps := range out {
		if len(ps) == 0 {
			t.Fatalf("fixture %s gave no paper", name)
		}
	}
	return out
}

// fixtureSpecs are a topic of every paper and one per source.
var fixtureSpecs = []topic.Spec{
	{Slug: "all", Title: "All", Limit: 500},
	{Slug: "huggingface", Title: "Hugging Face", Query: "source:huggingface", Limit: 100},
	{Slug: "arxiv", Title: "arXiv", Query: "source:arxiv-cs.LG OR source:arxiv-cs", Limit: 200},
	{Slug: "lab", Title: "Lab", Query: "source:lab", Limit: 50},
}

// buildFixtures merges the fixture histories into a new store in dir at
// now, as one refresh does, and builds the site into dir/public.
func buildFixtures(t *testing.T, dir, out string, now time.Time) {
	t.Helper()
	s := openStore(t, dir)
	cfg := config(t, fixtureSpecs)
	cfg.Site.Hub = "https://hub.example.org/" // every feed then names it, for the validator too
	b := New(out, cfg, discard)
	if err := b.Load(s); err != nil {
		t.Fatal(err)
	}
	var batch []paper.Paper
	histories := fixtureHistories(t)
	for _, name := range []string{"huggingface", "arxiv-cs.LG", "arxiv-cs", "lab"} {
		batch = append(batch, histories[name]...)
	}
	res, err := s.Merge(batch, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(s, res.Changed, nil, Status{Refreshed: now}, now); err != nil {
		t.Fatal(err)
	}
	// A refresh that finds the same papers again later changes no date.
	later := now.Add(26 * time.Hour)
	res, err = s.Merge(batch, later)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Build(s, res.Changed, nil, Status{Refreshed: now}, later)
	if err != nil {
		t.Fatal(err)
	}
	if got.Written != 0 {
		t.Errorf("a refresh finding the same papers again rewrote %d files", got.Written)
	}
}

type atomDates struct {
	Updated string `xml:"updated"`
	Entries []struct {
		ID      string `xml:"id"`
		Updated string `xml:"updated"`
	} `xml:"entry"`
}

// TestFixtureDatesDistinctAndStable: in the Atom feeds of the real fixture
// histories, where arXiv and the lab page give only days and Hugging Face
// dates every paper of the day at midnight, every entry has its own
// <updated> (the W3C validator warns DuplicateUpdated otherwise), entries
// are in the order of their dates, newest first, and the feeds are the
// same byte for byte when built again from another store, and after a
// refresh that finds the same papers a day later (buildFixtures).
func TestFixtureDatesDistinctAndStable(t *testing.T) {
	now := time.Date(2026, 6, 13, 6, 0, 0, 0, time.UTC)
	first := t.TempDir()
	out := filepath.Join(first, "public")
	if *keepSite != "" {
		out = *keepSite
	}
	buildFixtures(t, first, out, now)
	second := t.TempDir()
	buildFixtures(t, second, filepath.Join(second, "public"), now)

	total := 0
	for _, spec := range fixtureSpecs {
		name := filepath.Join("feeds", spec.Slug+".atom")
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		again, err := os.ReadFile(filepath.Join(second, "public", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, again) {
			t.Errorf("%s differs between two builds of the same papers", name)
		}
		var doc atomDates
		if err := xml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(doc.Entries) < 2 {
			t.Fatalf("%s has %d entries, want several", name, len(doc.Entries))
		}
		total += len(doc.Entries)
		seen := map[string]string{}
		var prev time.Time
		for i, e := range doc.Entries {
			if other, ok := seen[e.Updated]; ok {
				t.Errorf("%s: entries %s and %s share <updated>%s</updated>", name, other, e.ID, e.Updated)
			}
			seen[e.Updated] = e.ID
			d, err := time.Parse(time.RFC3339, e.Updated)
			if err != nil {
				t.Fatalf("%s: entry %s: %v", name, e.ID, err)
			}
			if i > 0 && !d.Before(prev) {
				t.Errorf("%s: entry %d (%s, %s) is not older than the one before it (%s)", name, i, e.ID, e.Updated, prev.Format(time.RFC3339Nano))
			}
			prev = d
		}
		if doc.Updated != doc.Entries[0].Updated {
			t.Errorf("%s: feed updated %s, want its newest entry's %s", name, doc.Updated, doc.Entries[0].Updated)
		}
	}
	if total < 200 {
		t.Errorf("the fixture feeds hold %d entries, want at least 200", total)
	}

	// The daily digests: every day its own <updated>, newest first, the
	// feed dated by its newest day, the same bytes from another store.
	days := 0
	for _, spec := range fixtureSpecs {
		name := filepath.FromSlash(feed.Path(spec.Slug, feed.DailyPrefix+"atom"))
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if again, err := os.ReadFile(filepath.Join(second, "public", name)); err != nil || !bytes.Equal(data, again) {
			t.Errorf("%s differs between two builds of the same papers (%v)", name, err)
		}
		var doc atomDates
		if err := xml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		days += len(doc.Entries)
		var prev time.Time
		for i, e := range doc.Entries {
			d, err := time.Parse(time.RFC3339, e.Updated)
			if err != nil {
				t.Fatalf("%s: entry %s: %v", name, e.ID, err)
			}
			if i > 0 && !d.Before(prev) {
				t.Errorf("%s: day %s (%s) is not older than the one before it", name, e.ID, e.Updated)
			}
			prev = d
		}
		if len(doc.Entries) > 0 && doc.Updated != doc.Entries[0].Updated {
			t.Errorf("%s: feed updated %s, want its newest day's %s", name, doc.Updated, doc.Entries[0].Updated)
		}
	}
	if days < 4 {
		t.Errorf("the fixture digests hold %d days, want several", days)
	}
}
