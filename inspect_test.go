package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/scrape"
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

	e, err := parseEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(e)
	if err != nil {
		t.Fatal(err)
	}
	running, err := newApp(e, cfg, scrape.Options{}, newLogger(e, &bytes.Buffer{}), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()
	code, _, stderr = runArgs(env, "-check")
	if code != 1 || !strings.Contains(stderr, "a running paperfeed holds the history") {
		t.Errorf("locked history: got %d %q", code, stderr)
	}
}
