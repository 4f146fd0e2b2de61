package publish

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/internal/synth"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/site"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

// siteFixture is the real Daily Papers answer the synthetic history is
// made from.
const siteFixture = "../testdata/hf-api-daily-papers-2026-06-12.json"

// realSite is a site written by the site package from a store, as a
// refresh writes it.
type realSite struct {
	dir     string
	store   *store.Store
	builder *site.Builder
	papers  []paper.Paper
}

func newRealSite(t *testing.T, topics, papers int) *realSite {
	t.Helper()
	fix, err := os.ReadFile(siteFixture)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := synth.Topics(fix, topics)
	if err != nil {
		t.Fatal(err)
	}
	var specs []topic.Spec
	for _, tt := range ts {
		specs = append(specs, topic.Spec{Slug: tt.Slug, Title: tt.Title, Keywords: tt.Keywords, Exclude: tt.Exclude, Limit: tt.Limit})
	}
	router, err := topic.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := synth.Papers(fix, papers)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "paperfeed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &realSite{dir: t.TempDir(), store: st, papers: ps}
	cfg := site.Config{Site: feed.Site{BaseURL: "https://feeds.example.org", Title: "paperfeed"}, Specs: specs, Router: router}
	s.builder = site.New(s.dir, cfg, slog.New(slog.DiscardHandler))
	if err := s.builder.Load(st); err != nil {
		t.Fatal(err)
	}
	s.merge(t, ps)
	return s
}

// merge merges papers into the history and builds the site.
func (s *realSite) merge(t *testing.T, papers []paper.Paper) {
	t.Helper()
	res, err := s.store.Merge(papers, synth.Day)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.builder.Build(s.store, res.Changed, nil, feed.Status{Refreshed: synth.Day}, synth.Day.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// hashes maps each file of dir to the hash of its bytes.
func hashes(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		out[name] = [32]byte(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// changedObjects counts the objects whose source files differ between two
// states of a site: a feed counts once for its file or its .gz copy.
func changedObjects(before, after map[string][32]byte) int {
	objects := map[string]bool{}
	for name, h := range after {
		if b, ok := before[name]; !ok || b != h {
			objects[strings.TrimSuffix(name, gzExt)] = true
		}
	}
	return len(objects)
}

// TestCostOfARefresh publishes a 100-topic site built by the site package,
// in both modes, then publishes it unchanged, then after a refresh that
// brings new papers, and reports the requests and bytes of each (go test
// -v -run Cost). It takes some seconds, most of them building the site;
// -short builds a smaller one.
func TestCostOfARefresh(t *testing.T) {
	topics, papers, arrived := 100, 2000, 40
	if testing.Short() {
		topics, papers, arrived = 10, 200, 5
	}
	e := newEnv(t)
	s := newRealSite(t, topics, papers)
	modes := []bool{false, true}
	pubs := map[bool]*Publisher{}
	for _, gz := range modes {
		p, err := New(Config{
			URL: fmt.Sprintf("s3://%s/gzip-%t", testBucket, gz), Endpoint: e.gw.Endpoint, Region: "us-east-1",
			AccessKey: e.gw.Access, SecretKey: e.gw.Secret, PathStyle: true, GzipEncoding: gz, CacheControl: testCache,
		})
		if err != nil {
			t.Fatal(err)
		}
		pubs[gz] = p
	}
	siteBytes := func(gz bool) int64 {
		var n int64
		for _, w := range expected(t, s.dir, gz) {
			n += int64(len(w.data))
		}
		return n
	}
	for _, gz := range modes {
		start := time.Now()
		first := publish(t, pubs[gz], s.dir)
		t.Logf("gzip=%t: first publish: %d objects, %d bytes, requests %+v, %s",
			gz, first.Uploaded, first.UploadedBytes, first.Requests, time.Since(start).Round(time.Millisecond))
		if want := siteBytes(gz); first.UploadedBytes != want {
			t.Errorf("gzip=%t: first publish uploaded %d bytes; the site is %d", gz, first.UploadedBytes, want)
		}
		start = time.Now()
		same := publish(t, pubs[gz], s.dir)
		t.Logf("gzip=%t: unchanged refresh: requests %+v, %d bytes, %s",
			gz, same.Requests, same.UploadedBytes, time.Since(start).Round(time.Millisecond))
		if same.Requests != (Requests{List: 1, Get: 1}) || same.UploadedBytes != 0 {
			t.Errorf("gzip=%t: unchanged refresh: %+v; want one list, one get, nothing uploaded", gz, same)
		}
	}

	// A refresh that brings papers the history did not have.
	fix, err := os.ReadFile(siteFixture)
	if err != nil {
		t.Fatal(err)
	}
	more, err := synth.Papers(fix, papers+arrived)
	if err != nil {
		t.Fatal(err)
	}
	before := hashes(t, s.dir)
	s.merge(t, more[papers:])
	want := changedObjects(before, hashes(t, s.dir))
	if want == 0 {
		t.Fatal("the refresh changed no file")
	}
	for _, gz := range modes {
		start := time.Now()
		changed := publish(t, pubs[gz], s.dir)
		t.Logf("gzip=%t: changed refresh (%d new papers): %d of %d objects uploaded, %d bytes, requests %+v, %s",
			gz, arrived, changed.Uploaded, changed.Uploaded+changed.Unchanged, changed.UploadedBytes, changed.Requests, time.Since(start).Round(time.Millisecond))
		if changed.Uploaded != want || changed.Requests.Put != want+1 || changed.Requests.List != 1 {
			t.Errorf("gzip=%t: changed refresh: %+v; want %d objects put and the manifest", gz, changed, want)
		}
	}
}
