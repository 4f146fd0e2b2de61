package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/internal/synth"
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
	if err := a.withStore(func(s *store.Store) error { fillHistory(b, s, papers); return nil }); err != nil {
		b.Fatal(err)
	}
	start, cpu := time.Now(), cpuTime(b)
	st, err := a.Refresh(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("first refresh (routes all %d papers): %s wall, %s CPU", st.Papers, time.Since(start).Round(time.Millisecond), (cpuTime(b) - cpu).Round(time.Millisecond))
	benchRefresh(b, a)
}

// generatedTopics makes n topics of keywords drawn from real abstracts
// (synth.Topics).
func generatedTopics(b *testing.B, n int) []TopicConfig {
	ts, err := synth.Topics(fixture(b), n)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]TopicConfig, n)
	for i, t := range ts {
		out[i] = TopicConfig{Slug: t.Slug, Title: t.Title, Keywords: t.Keywords, Exclude: t.Exclude, Limit: t.Limit}
	}
	return out
}

// fillHistory merges n papers made from the fixture's into the store, spread
// over 90 days (synth.Papers).
func fillHistory(b *testing.B, s *store.Store, n int) {
	papers, err := synth.Papers(fixture(b), n)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i += 10_000 {
		if _, err := s.Merge(papers[i:min(n, i+10_000)], synth.Day); err != nil {
			b.Fatal(err)
		}
	}
}
