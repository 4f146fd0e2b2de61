package site

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
)

// reopen closes s and opens its file again, as the server does between
// refreshes (it holds the history open only while it writes to it).
func reopen(t *testing.T, dir string, s *store.Store) *store.Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openStore(t, dir)
}

// TestLoadReadsOnlyWhenTheHistoryMoved: Load after reopening a history
// this Builder saw last reads nothing; a history another process changed
// meanwhile is read again, its saved state trusted when it was saved at
// that generation and routed again when not.
func TestLoadReadsOnlyWhenTheHistoryMoved(t *testing.T) {
	cfg := config(t, testSpecs)
	t.Run("same generation", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "public")
		s := openStore(t, dir)
		res := seed(t, s, rand.New(rand.NewPCG(11, 12)), 30)
		b := New(out, cfg, discard)
		if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
			t.Fatal(err)
		}
		s = reopen(t, dir, s)
		// A state Load would refuse if it read it (SaveState leaves the
		// generation alone).
		if err := s.SaveState(map[string][]byte{statePrefix + "diffusion": []byte("{not json")}, nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Load(s); err != nil {
			t.Fatal(err)
		}
		got, err := b.Build(s, nil, nil, Status{}, day)
		if err != nil {
			t.Fatal(err)
		}
		if got.Scanned != 0 {
			t.Errorf("Load read the saved state again: %d topics routed, want 0", got.Scanned)
		}
	})
	t.Run("another process merged and built", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "public")
		s := openStore(t, dir)
		res := seed(t, s, rand.New(rand.NewPCG(13, 14)), 30)
		b := New(out, cfg, discard)
		if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
			t.Fatal(err)
		}
		// Another process (paperfeed -once) adds a paper every topic
		// but agents takes, and builds.
		s = reopen(t, dir, s)
		other := New(out, cfg, discard)
		if err := other.Load(s); err != nil {
			t.Fatal(err)
		}
		x := paper.Paper{ID: "2606.90001", Title: "diffusion language model", Day: day.AddDate(0, 0, 1), Upvotes: 99}
		res, err := s.Merge([]paper.Paper{x}, day)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Build(s, res.Changed, nil, Status{}, day); err != nil {
			t.Fatal(err)
		}
		// This Builder reopens the history and merges a paper of its own.
		s = reopen(t, dir, s)
		if err := b.Load(s); err != nil {
			t.Fatal(err)
		}
		y := paper.Paper{ID: "2606.90002", Title: "vision model", Day: day.AddDate(0, 0, 1), Upvotes: 98}
		if res, err = s.Merge([]paper.Paper{y}, day); err != nil {
			t.Fatal(err)
		}
		got, err := b.Build(s, res.Changed, nil, Status{}, day)
		if err != nil {
			t.Fatal(err)
		}
		if got.Scanned != 0 {
			t.Errorf("routed %d topics, want 0: the state the other process saved is that history's", got.Scanned)
		}
		checkFeeds(t, 0, out, s, cfg)
		if ids := feedIDs(t, out, "all"); !slices.Contains(ids, "https://arxiv.org/abs/"+x.ID) {
			t.Errorf("all lost the other process's paper: %v", ids)
		}
	})
	t.Run("another process merged without building", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "public")
		s := openStore(t, dir)
		res := seed(t, s, rand.New(rand.NewPCG(15, 16)), 30)
		b := New(out, cfg, discard)
		if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
			t.Fatal(err)
		}
		s = reopen(t, dir, s)
		if _, err := s.Merge([]paper.Paper{{ID: "2606.90003", Title: "agents", Day: day.AddDate(0, 0, 1), Upvotes: 90}}, day); err != nil {
			t.Fatal(err)
		}
		s = reopen(t, dir, s)
		if err := b.Load(s); err != nil {
			t.Fatal(err)
		}
		got, err := b.Build(s, nil, nil, Status{}, day)
		if err != nil {
			t.Fatal(err)
		}
		if got.Scanned != len(testSpecs) {
			t.Errorf("routed %d topics, want all %d: the saved state missed a merge", got.Scanned, len(testSpecs))
		}
		checkFeeds(t, 0, out, s, cfg)
	})
	t.Run("set config, then load", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "public")
		s := openStore(t, dir)
		res := seed(t, s, rand.New(rand.NewPCG(17, 18)), 30)
		b := New(out, cfg, discard)
		if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
			t.Fatal(err)
		}
		specs := slices.Clone(testSpecs)
		specs[1].Keywords = []string{"vision"}
		edited := config(t, specs)
		b.SetConfig(edited)
		s = reopen(t, dir, s)
		if err := b.Load(s); err != nil {
			t.Fatal(err)
		}
		got, err := b.Build(s, nil, nil, Status{}, day)
		if err != nil {
			t.Fatal(err)
		}
		if got.Scanned != 1 {
			t.Errorf("routed %d topics, want the edited one", got.Scanned)
		}
		checkFeeds(t, 0, out, s, edited)
	})
}

// TestStateOfAnEarlierReleaseRoutesAgain: a topic state saved by the
// release before item dates had a time of day (no "v", members keyed by
// their day's midnight) is not trusted: every topic is routed again, and
// the feeds are in the order of today's dates.
func TestStateOfAnEarlierReleaseRoutesAgain(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	cfg := config(t, testSpecs)
	res := seed(t, s, rand.New(rand.NewPCG(19, 20)), 40)
	if _, err := New(out, cfg, discard).Build(s, res.Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	state, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	put := map[string][]byte{}
	for k, v := range state {
		if !strings.HasPrefix(k, statePrefix) {
			continue
		}
		var old map[string]any
		if err := json.Unmarshal(v, &old); err != nil {
			t.Fatal(err)
		}
		delete(old, "v")
		for _, m := range old["members"].([]any) {
			m := m.(map[string]any)
			d, err := time.Parse(time.RFC3339Nano, m["Date"].(string))
			if err != nil {
				t.Fatal(err)
			}
			m["Date"] = d.Truncate(24 * time.Hour).Format(time.RFC3339Nano)
		}
		if put[k], err = json.Marshal(old); err != nil {
			t.Fatal(err)
		}
	}
	if len(put) != len(testSpecs) {
		t.Fatalf("found %d topic states, want %d", len(put), len(testSpecs))
	}
	if err := s.SaveState(put, nil); err != nil {
		t.Fatal(err)
	}
	b := New(out, cfg, discard)
	if err := b.Load(s); err != nil {
		t.Fatal(err)
	}
	more := []paper.Paper{randomPaper(rand.New(rand.NewPCG(21, 22)), 500)}
	res, err = s.Merge(more, day)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Build(s, res.Changed, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if got.Scanned != len(testSpecs) {
		t.Errorf("routed %d topics, want all %d", got.Scanned, len(testSpecs))
	}
	checkFeeds(t, 0, out, s, cfg)
}

// TestOtherStateKeysKept: keys of the state bucket that are not the site's
// (the program keeps "app/..." there) survive builds, topics removed from
// the config, and saves.
func TestOtherStateKeysKept(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	if err := s.SaveState(map[string][]byte{"app/status": []byte(`{"x":1}`), "topicx": []byte("y")}, nil); err != nil {
		t.Fatal(err)
	}
	res := seed(t, s, rand.New(rand.NewPCG(23, 24)), 20)
	b := New(out, config(t, testSpecs), discard)
	if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	b.SetConfig(config(t, testSpecs[:1]))
	if _, err := b.Build(s, nil, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	state, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(state["app/status"], []byte(`{"x":1}`)) || !bytes.Equal(state["topicx"], []byte("y")) {
		t.Errorf("keys not the site's changed: app/status %q, topicx %q", state["app/status"], state["topicx"])
	}
	if _, ok := state[statePrefix+"agents"]; ok {
		t.Error("the removed topic's state is still saved")
	}
	if _, err := os.Stat(filepath.Join(out, "feeds", "all.atom")); err != nil {
		t.Error(err)
	}
}
