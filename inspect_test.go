package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/store"
)

// filledEnv runs -once against the fixture and returns the environment.
func filledEnv(t *testing.T) map[string]string {
	t.Helper()
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("-once: exit code %d: %s", code, stderr)
	}
	return env
}

func runArgs(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, env, &stdout, &stderr, hooks{scrape: fastScrape})
	return code, stdout.String(), stderr.String()
}

func TestCheck(t *testing.T) {
	env := filledEnv(t)
	code, out, stderr := runArgs(env, "-check")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "config OK: 1 sources, 8 topics; history: 30 papers") {
		t.Errorf("summary line: %q", strings.SplitN(out, "\n", 2)[0])
	}
	// The all topic takes every paper; the counts of the others match the
	// feeds -once wrote.
	if !regexp.MustCompile(`(?m)^\s*all\s+30\s+30\s*$`).MatchString(out) {
		t.Errorf("no line 'all 30 30' in:\n%s", out)
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	n := len(parseAtom(t, files["feeds/diffusion.atom"]).Entries)
	if !regexp.MustCompile(`(?m)^\s*diffusion\s+` + strconv.Itoa(n) + `\s+` + strconv.Itoa(n) + `\s*$`).MatchString(out) {
		t.Errorf("no line 'diffusion %d %d' in:\n%s", n, n, out)
	}
}

func TestExplain(t *testing.T) {
	env := filledEnv(t)
	code, out, stderr := runArgs(env, "-explain", "diffusion")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	feed := parseAtom(t, files["feeds/diffusion.atom"])
	if !strings.Contains(out, "topic diffusion takes "+strconv.Itoa(len(feed.Entries))+" of 30 papers") {
		t.Errorf("summary: %q", strings.SplitN(out, "\n", 2)[0])
	}
	// Every paper of the feed is explained, with at least one keyword and
	// its field.
	for _, e := range feed.Entries {
		id := strings.TrimPrefix(e.ID, "https://arxiv.org/abs/")
		i := strings.Index(out, id)
		if i < 0 {
			t.Errorf("paper %s of the feed is not explained", id)
			continue
		}
		block := out[i:]
		if j := strings.Index(block, "\n\n"); j > 0 {
			block = block[:j]
		}
		if !regexp.MustCompile(`(?m)^    .+ in (title|abstract)$`).MatchString(block) {
			t.Errorf("paper %s: no 'term in field' line:\n%s", id, block)
		}
	}
}

func TestInspectErrors(t *testing.T) {
	env := filledEnv(t)
	code, _, stderr := runArgs(env, "-explain", "nope")
	if code != 1 || !strings.Contains(stderr, `-explain: no topic "nope" (topics: all, diffusion,`) {
		t.Errorf("unknown slug: got %d %q", code, stderr)
	}
}

// TestInspectFreshDataDir: before the first refresh there is no history;
// -check and -explain validate the config, say so and succeed, creating
// nothing.
func TestInspectFreshDataDir(t *testing.T) {
	env := testEnv(t, "http://127.0.0.1:1") // never asked: inspecting scrapes nothing
	dir := env["PAPERFEED_DATA_DIR"]
	want := "config OK: 1 sources, 8 topics\nno history yet in " + dir + ": the first refresh (paperfeed or paperfeed -once) writes it\n"
	for _, mkdir := range []bool{false, true} {
		if mkdir {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, args := range [][]string{{"-check"}, {"-explain", "diffusion"}} {
			code, out, stderr := runArgs(env, args...)
			if code != 0 || out != want {
				t.Errorf("%s (data directory exists: %v): exit code %d, stdout %q, stderr %q; want 0, %q", args, mkdir, code, out, stderr, want)
			}
		}
		if mkdir {
			if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
				t.Errorf("data directory after inspecting = %v, %v; want it empty", entries, err)
			}
		} else if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("inspecting created the data directory: %v", err)
		}
	}
	// The slug is still checked.
	if code, _, stderr := runArgs(env, "-explain", "nope"); code != 1 || !strings.Contains(stderr, `no topic "nope"`) {
		t.Errorf("unknown slug on a fresh directory: got %d %q", code, stderr)
	}
}

// holdHistory opens the history of env for writing, as a refresh does, and
// returns the store; the test closes it.
func holdHistory(t *testing.T, env map[string]string) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(env["PAPERFEED_DATA_DIR"], storeFile))
	if err != nil {
		t.Fatalf("open the history: %v", err)
	}
	return s
}

// TestInspectWaitsForARefresh: a refresh holds the history while it writes;
// -check waits for it to let go (here after about 100ms), then reads it.
func TestInspectWaitsForARefresh(t *testing.T) {
	env := filledEnv(t)
	for _, args := range [][]string{{"-check"}, {"-explain", "diffusion"}} {
		w := holdHistory(t, env)
		type result struct {
			code        int
			out, stderr string
			released    bool
		}
		var released atomic.Bool
		done := make(chan result, 1)
		go func() {
			code, out, stderr := runArgs(env, args...)
			done <- result{code, out, stderr, released.Load()}
		}()
		// The refresh takes a while; what is checked below does not
		// depend on how long.
		time.Sleep(100 * time.Millisecond)
		released.Store(true)
		if err := w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		r := <-done
		if !r.released {
			t.Errorf("%s returned while a refresh held the history: %d %q", args, r.code, r.stderr)
		}
		if r.code != 0 || !strings.Contains(r.out, "30 papers") {
			t.Errorf("%s after waiting: exit code %d, stdout %q, stderr %q", args, r.code, r.out, r.stderr)
		}
	}
}

// TestInspectGivesUp: a history held longer than the wait is a clear error,
// after the wait.
func TestInspectGivesUp(t *testing.T) {
	env := filledEnv(t)
	defer func(d time.Duration) { inspectWait = d }(inspectWait)
	inspectWait = 300 * time.Millisecond
	w := holdHistory(t, env)
	defer func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	for _, args := range [][]string{{"-check"}, {"-explain", "diffusion"}} {
		start := time.Now()
		code, _, stderr := runArgs(env, args...)
		took := time.Since(start)
		want := "a running paperfeed is writing the history in " + env["PAPERFEED_DATA_DIR"] + " and did not let go within 300ms; retry in a moment"
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("%s on a held history: exit code %d, stderr %q; want 1 and %q", args, code, stderr, want)
		}
		// bbolt tries the lock every 50ms.
		if took < 200*time.Millisecond {
			t.Errorf("%s gave up after %v, before its wait of %v", args, took, inspectWait)
		}
	}
}
