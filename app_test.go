package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
)

// TestFeedOrderMatchesCompare checks the precomputed-key sort of the history
// against feed.Compare, the order every feed promises, on papers with equal
// days, equal upvotes, missing days and no dates at all.
func TestFeedOrderMatchesCompare(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for round := range 50 {
		papers := make([]paper.Paper, 1+rng.IntN(200))
		for i := range papers {
			p := &papers[i]
			p.ID = fmt.Sprintf("2606.%05d", rng.IntN(100000))
			switch rng.IntN(5) {
			case 0: // no Day: Published decides
				p.Published = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
			case 1: // no dates at all
			default:
				p.Day = base.AddDate(0, 0, rng.IntN(5)).Add(time.Duration(rng.IntN(3)) * time.Nanosecond)
			}
			p.Upvotes = rng.IntN(4)
		}
		slices.SortFunc(papers, func(a, b paper.Paper) int { return strings.Compare(a.ID, b.ID) })
		papers = slices.CompactFunc(papers, func(a, b paper.Paper) bool { return a.ID == b.ID })

		want := make([]string, len(papers))
		sorted := slices.Clone(papers)
		slices.SortFunc(sorted, func(a, b paper.Paper) int { return feed.Compare(&a, &b) })
		for i := range sorted {
			want[i] = sorted[i].ID
		}
		var got []string
		ptrs := make([]*paper.Paper, len(papers))
		for i := range papers {
			ptrs[i] = &papers[i]
		}
		for _, i := range feedOrder(ptrs) {
			got = append(got, ptrs[i].ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d:\ngot  %v\nwant %v", round, got, want)
		}
	}
}

// TestCompileRefusesUnknownSourceType: ParseConfig rejects unknown types, and
// a config built another way still cannot skip a source silently.
func TestCompileRefusesUnknownSourceType(t *testing.T) {
	a := &App{}
	_, err := a.compile(&Config{Sources: []SourceConfig{{Name: "x", Type: "gopher"}}, Topics: []TopicConfig{{Slug: "all", Limit: 1}}})
	if err == nil || !strings.Contains(err.Error(), `source x: unknown type "gopher"`) {
		t.Errorf("got %v, want an error naming the source and type", err)
	}
}
