// Command mkhistory writes a large history and a config of many topics for
// measuring the real binary against the budgets (see README, Development):
//
//	go run ./internal/synth/mkhistory -papers 100000 -topics 100 -out /tmp/budget
//
// writes /tmp/budget/data/paperfeed.db and /tmp/budget/config.yaml, whose
// one source is the Daily Papers API. With -serve 127.0.0.1:PORT it then
// answers that API on a loopback address with the fixture, until killed, so
// that PAPERFEED_HF_URL=http://127.0.0.1:PORT refreshes against it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paperfeed/paperfeed/internal/synth"
	"github.com/paperfeed/paperfeed/store"
)

func main() {
	papers := flag.Int("papers", 100_000, "papers in the history")
	topics := flag.Int("topics", 100, "keyword topics in the config")
	out := flag.String("out", "", "directory to write data/ and config.yaml into (required)")
	serveAddr := flag.String("serve", "", "after writing, answer /api/daily_papers with the fixture on this loopback address until killed")
	bump := flag.Bool("bump", false, "with -serve: change every paper's upvotes in each answer, so each refresh updates the fixture's papers")
	fixture := flag.String("fixture", "testdata/hf-api-daily-papers-2026-06-12.json", "Daily Papers API answer the papers are made from")
	likes := flag.Int("likes", 0, "like-topics in the config besides the keyword topics, three like papers each; the history's papers then have abstracts of their own (synth.DistinctPapers), as a model needs")
	flag.Parse()
	if err := run(*out, *fixture, *papers, *topics, *likes); err != nil {
		fmt.Fprintf(os.Stderr, "mkhistory: %v\n", err)
		os.Exit(1)
	}
	if *serveAddr != "" {
		if err := serve(*serveAddr, *fixture, *bump); err != nil {
			fmt.Fprintf(os.Stderr, "mkhistory: %v\n", err)
			os.Exit(1)
		}
	}
}

// serve answers the Daily Papers API with the fixture on a loopback address;
// with bump, each answer gives every paper new upvotes.
func serve(addr, fixture string, bump bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-serve %s: only loopback addresses", addr)
	}
	data, err := os.ReadFile(fixture)
	if err != nil {
		return err
	}
	var entries []map[string]any
	if err := json.Unmarshal(data, &entries); err != nil {
		return fmt.Errorf("%s: %w", fixture, err)
	}
	var mu sync.Mutex
	round := 0
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/daily_papers", func(w http.ResponseWriter, r *http.Request) {
		body := data
		if bump {
			mu.Lock()
			round++
			for i, e := range entries {
				if p, ok := e["paper"].(map[string]any); ok {
					p["upvotes"] = round*7 + i
				}
			}
			var err error
			body, err = json.Marshal(entries)
			mu.Unlock()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body) //nolint:errcheck // a client that went away
	})
	fmt.Fprintf(os.Stderr, "mkhistory: answering http://%s/api/daily_papers\n", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

func run(out, fixture string, papers, topics, likes int) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	data, err := os.ReadFile(fixture)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "data"), 0o755); err != nil {
		return err
	}
	s, err := store.Open(filepath.Join(out, "data", "paperfeed.db"))
	if err != nil {
		return err
	}
	gen := synth.Papers
	if likes > 0 {
		gen = synth.DistinctPapers
	}
	ps, err := gen(data, papers)
	if err != nil {
		return err
	}
	for i := 0; i < len(ps); i += 10_000 {
		if _, err := s.Merge(ps[i:min(len(ps), i+10_000)], synth.Day); err != nil {
			return err
		}
	}
	if err := s.Close(); err != nil {
		return err
	}
	ts, err := synth.Topics(data, topics)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("sources:\n  - name: hf\n    type: huggingface\n    days: 1\ntopics:\n")
	for _, t := range ts {
		fmt.Fprintf(&b, "  - slug: %s\n    title: %s\n    limit: %d\n    keywords: %s\n", t.Slug, strconv.Quote(t.Title), t.Limit, list(t.Keywords))
		if len(t.Exclude) > 0 {
			fmt.Fprintf(&b, "    exclude: %s\n", list(t.Exclude))
		}
	}
	for i := range likes {
		// Three papers spread over the history, different for each topic.
		var ids []string
		for j := range 3 {
			ids = append(ids, ps[(i*7919+j*33_331)%len(ps)].ID)
		}
		fmt.Fprintf(&b, "  - slug: like%03d\n    title: \"Like %d\"\n    like: %s\n", i, i, list(ids))
	}
	return os.WriteFile(filepath.Join(out, "config.yaml"), []byte(b.String()), 0o644)
}

func list(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
