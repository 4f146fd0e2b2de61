package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape"
	"github.com/paperfeed/paperfeed/store"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchApp opens an App on a fresh directory against hfURL.
func benchApp(b *testing.B, hfURL string, cfg *Config) *App {
	b.Helper()
	dir := b.TempDir()
	e, err := parseEnv(map[string]string{
		"PAPERFEED_HF_URL": hfURL, "PAPERFEED_OUT_DIR": filepath.Join(dir, "public"),
		"PAPERFEED_DATA_DIR": filepath.Join(dir, "data"), "PAPERFEED_RETENTION": "0",
	})
	if err != nil {
		b.Fatal(err)
	}
	opt := scrape.Options{}
	fastScrape(&opt)
	a, err := newApp(e, cfg, opt, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	return a
}

func defaultCfg(b *testing.B) *Config {
	cfg, err := ParseConfig(defaultConfigName, defaultConfig)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func benchRefresh(b *testing.B, a *App) {
	b.Helper()
	b.ReportAllocs()
	cpu := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkRefreshFixture is a refresh of the real Daily Papers answer (three
// days asked for, through Colly against a local server) with the default
// config: "first" into an empty history, "steady" when nothing changed.
func BenchmarkRefreshFixture(b *testing.B) {
	hf := newHFServer(b, serveJSON(fixture(b)))
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		cfg := defaultCfg(b)
		for b.Loop() {
			b.StopTimer()
			a := benchApp(b, hf.URL, cfg)
			b.StartTimer()
			if _, err := a.Refresh(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("steady", func(b *testing.B) {
		a := benchApp(b, hf.URL, defaultCfg(b))
		if _, err := a.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
		benchRefresh(b, a)
	})
}

// BenchmarkRefreshHistory is the refresh of issue "Paper history": 100,000
// papers in the history and 100 topics; each refresh scrapes the real
// fixture with changed upvotes, so its 30 papers are merged, re-routed and
// their feeds re-rendered, compared and written.
func BenchmarkRefreshHistory(b *testing.B) {
	const papers, topics = 100_000, 100
	fix := fixture(b)
	var entries []map[string]any
	if err := json.Unmarshal(fix, &entries); err != nil {
		b.Fatal(err)
	}
	round := 0
	hf := newHFServer(b, func(w http.ResponseWriter, r *http.Request) {
		round++
		for i, e := range entries {
			e["paper"].(map[string]any)["upvotes"] = round*7 + i
		}
		data, _ := json.Marshal(entries)
		w.Write(data)
	})
	cfg := defaultCfg(b)
	cfg.Sources[0].Days = 1
	cfg.Topics = generatedTopics(b, topics)
	a := benchApp(b, hf.URL, cfg)
	fillHistory(b, a.store, papers)
	start, cpu := time.Now(), cpuTime(b)
	if _, err := a.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("first refresh (routes all %d papers): %s wall, %s CPU", a.store.Len(), time.Since(start).Round(time.Millisecond), (cpuTime(b) - cpu).Round(time.Millisecond))
	benchRefresh(b, a)
}

// generatedTopics makes n topics of 1-4 keywords drawn from the words of
// real abstracts, some of them phrases or prefixes, some with an exclude.
func generatedTopics(b *testing.B, n int) []TopicConfig {
	var entries []struct {
		Paper struct {
			Summary string `json:"summary"`
		} `json:"paper"`
	}
	if err := json.Unmarshal(fixture(b), &entries); err != nil {
		b.Fatal(err)
	}
	var words []string
	for _, e := range entries {
		for _, w := range strings.FieldsFunc(strings.ToLower(e.Paper.Summary), func(r rune) bool { return !('a' <= r && r <= 'z') }) {
			if len(w) > 4 {
				words = append(words, w)
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func() string { return words[rng.IntN(len(words))] }
	out := make([]TopicConfig, n)
	for i := range out {
		t := TopicConfig{Slug: fmt.Sprintf("t%03d", i), Title: fmt.Sprintf("Topic %d", i), Limit: 100}
		for range 1 + rng.IntN(4) {
			switch rng.IntN(4) {
			case 0:
				t.Keywords = append(t.Keywords, pick()+" "+pick())
			case 1:
				t.Keywords = append(t.Keywords, pick()[:4]+"*")
			default:
				t.Keywords = append(t.Keywords, pick())
			}
		}
		if rng.IntN(4) == 0 {
			t.Exclude = []string{pick()}
		}
		out[i] = t
	}
	return out
}

// fillHistory merges n papers made from the fixture's into the store, spread
// over 90 days.
func fillHistory(b *testing.B, s *store.Store, n int) {
	var entries []struct {
		Paper struct {
			Title   string `json:"title"`
			Summary string `json:"summary"`
			Authors []struct {
				Name string `json:"name"`
			} `json:"authors"`
		} `json:"paper"`
	}
	if err := json.Unmarshal(fixture(b), &entries); err != nil {
		b.Fatal(err)
	}
	day := time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC)
	batch := make([]paper.Paper, 0, 10_000)
	for i := range n {
		e := entries[i%len(entries)].Paper
		p := paper.Paper{
			ID:       fmt.Sprintf("25%02d.%05d", 1+i/90_000%12, i%90_000),
			Title:    e.Title,
			Abstract: e.Summary,
			Day:      day.AddDate(0, 0, -(i % 90)),
			Upvotes:  i % 50,
			Sources:  []string{"hf"},
		}
		for _, a := range e.Authors {
			p.Authors = append(p.Authors, a.Name)
		}
		batch = append(batch, p)
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := s.Merge(batch, day); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}
