package store

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paperfeed/paperfeed/paper"
)

// fixtureFile is a real Hugging Face daily papers API answer (30 papers).
const fixtureFile = "../testdata/hf-api-daily-papers-2026-06-12.json" // the module's real capture

var (
	fixtureOnce   sync.Once
	fixtureCache  []paper.Paper
	fixtureErr    error
	t0            = time.Date(2026, 6, 13, 6, 0, 0, 0, time.UTC)
	errNoFixtures = fmt.Errorf("fixture %s holds no papers", fixtureFile)
)

// fixturePapers returns the fixture's papers, decoded only as far as the
// store needs (the scrape package owns the real decoding).
func fixturePapers(tb testing.TB) []paper.Paper {
	tb.Helper()
	fixtureOnce.Do(func() {
		data, err := os.ReadFile(fixtureFile)
		if err != nil {
			fixtureErr = err
			return
		}
		var items []struct {
			Paper struct {
				ID      string `json:"id"`
				Authors []struct {
					Name string `json:"name"`
				} `json:"authors"`
				PublishedAt time.Time `json:"publishedAt"`
				Day         time.Time `json:"submittedOnDailyAt"`
				Title       string    `json:"title"`
				Summary     string    `json:"summary"`
				Upvotes     int       `json:"upvotes"`
				AISummary   string    `json:"ai_summary"`
				AIKeywords  []string  `json:"ai_keywords"`
				GitHubRepo  string    `json:"githubRepo"`
				GitHubStars int       `json:"githubStars"`
				ProjectPage string    `json:"projectPage"`
			} `json:"paper"`
			Thumbnail    string `json:"thumbnail"`
			NumComments  int    `json:"numComments"`
			Organization *struct {
				Fullname string `json:"fullname"`
			} `json:"organization"`
		}
		if err := json.Unmarshal(data, &items); err != nil {
			fixtureErr = fmt.Errorf("decode %s: %w", fixtureFile, err)
			return
		}
		for _, it := range items {
			p := paper.Paper{
				ID:          it.Paper.ID,
				Title:       it.Paper.Title,
				Abstract:    it.Paper.Summary,
				Published:   it.Paper.PublishedAt.UTC(),
				Day:         it.Paper.Day.UTC(),
				Upvotes:     it.Paper.Upvotes,
				Comments:    it.NumComments,
				Thumbnail:   it.Thumbnail,
				GitHubRepo:  it.Paper.GitHubRepo,
				GitHubStars: it.Paper.GitHubStars,
				ProjectPage: it.Paper.ProjectPage,
				AISummary:   it.Paper.AISummary,
				AIKeywords:  it.Paper.AIKeywords,
				Sources:     []string{"huggingface"},
			}
			for _, a := range it.Paper.Authors {
				p.Authors = append(p.Authors, a.Name)
			}
			if it.Organization != nil {
				p.Organization = it.Organization.Fullname
			}
			fixtureCache = append(fixtureCache, p)
		}
		if len(fixtureCache) == 0 {
			fixtureErr = errNoFixtures
		}
	})
	if fixtureErr != nil {
		tb.Fatalf("load fixtures: %v", fixtureErr)
	}
	return fixtureCache
}

// realistic returns n distinct papers with real text: paper i reuses fixture
// paper i%30 under a new ID ("26MM.NNNNN", ascending with i), listing day and
// counters. Titles are about 80 characters, abstracts about 1.5 KB.
func realistic(tb testing.TB, from, n int) []paper.Paper {
	tb.Helper()
	fx := fixturePapers(tb)
	out := make([]paper.Paper, n)
	for k := range out {
		i := from + k
		p := fx[i%len(fx)]
		p.ID = realisticID(i)
		p.Title = fmt.Sprintf("%s, part %d", p.Title, i)
		p.Day = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/50)
		p.Published = p.Day.AddDate(0, 0, -2)
		p.Upvotes = i % 97
		p.Categories = []string{"cs.LG", "cs.CL"}
		out[k] = p
	}
	return out
}

func realisticID(i int) string {
	return fmt.Sprintf("26%02d.%05d", 1+i/90000, i%90000)
}

// openT opens a store at path and closes it when the test ends.
func openT(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatalf("Open(%s): %v", filepath.Base(path), err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func mergeT(tb testing.TB, s *Store, papers []paper.Paper, now time.Time) MergeResult {
	tb.Helper()
	res, err := s.Merge(papers, now)
	if err != nil {
		tb.Fatalf("Merge: %v", err)
	}
	return res
}

func fileSum(tb testing.TB, path string) [32]byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", filepath.Base(path), err)
	}
	return sha256.Sum256(data)
}

// ids returns the IDs of papers, nil for none.
func ids(papers []*paper.Paper) []string {
	var out []string
	for _, p := range papers {
		out = append(out, p.ID)
	}
	return out
}

// all returns every paper in the history, in ID order, nil for none.
func all(tb testing.TB, s *Store) []paper.Paper {
	tb.Helper()
	var out []paper.Paper
	if err := s.ForEach(func(p *paper.Paper) error {
		out = append(out, *p)
		return nil
	}); err != nil {
		tb.Fatalf("ForEach: %v", err)
	}
	return out
}

// allIDs returns the IDs of every paper in the history, in ID order.
func allIDs(tb testing.TB, s *Store) []string {
	tb.Helper()
	var out []string
	for _, p := range all(tb, s) {
		out = append(out, p.ID)
	}
	return out
}

// txID returns the ID of the last transaction committed to s's file.
func txID(tb testing.TB, s *Store) int {
	tb.Helper()
	var id int
	if err := s.db.View(func(tx *bolt.Tx) error {
		id = tx.ID()
		return nil
	}); err != nil {
		tb.Fatalf("view: %v", err)
	}
	return id
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	info, err := os.Stat(path)
	if err != nil {
		tb.Fatalf("stat: %v", err)
	}
	return info.Size()
}
