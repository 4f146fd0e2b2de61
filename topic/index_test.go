package topic

import (
	"fmt"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// TestWordTable checks the open-addressing table the index keeps its words
// in: growth, misses, and words whose hashes collide.
func TestWordTable(t *testing.T) {
	var tab wordTable
	if _, ok := tab.get("none", 1); ok {
		t.Fatal("an empty table found a word")
	}
	const n = 5000
	hash := func(i int) uint64 { return uint64(i % 97) } // many words share a hash
	word := func(i int) string {                         // every tenth word too long to keep in its slot
		if i%10 == 0 {
			return fmt.Sprint("a-word-longer-than-a-slot-", i)
		}
		return fmt.Sprint("w", i)
	}
	for i := range n {
		tab.put(word(i), hash(i), int32(i))
	}
	if tab.n != n || len(tab.slots) < 2*n {
		t.Fatalf("n = %d, %d slots: want %d words at most half full", tab.n, len(tab.slots), n)
	}
	for i := range n {
		if id, ok := tab.get(word(i), hash(i)); !ok || id != int32(i) {
			t.Fatalf("%s: got %d, %v", word(i), id, ok)
		}
	}
	for _, miss := range []struct {
		word string
		hash uint64
	}{{"w1", 2}, {"x1", 1}, {"", 0}, {"w5000", hash(5000)}, {"w10", hash(10)},
		{"a-word-longer-than-a-slot-11", hash(11)}, {"a-word-longer-than-a-slot-1", hash(1)},
		{"a-word-longer-than-a-slot-20"[:19], hash(20)}} {
		if id, ok := tab.get(miss.word, miss.hash); ok {
			t.Errorf("get(%q, %d) = %d, want a miss", miss.word, miss.hash, id)
		}
	}
}

// TestProgramNumbers: number comparisons run inline in programs, or through
// their node when the number does not fit the step; both must answer as the
// nodes do.
func TestProgramNumbers(t *testing.T) {
	queries := []string{"upvotes:>=5", "upvotes:>4999999999", "stars:<5000000000", "comments:=2",
		"comments:<=-1", "-upvotes:>=3000000000", "upvotes:<6 OR stars:>=100"}
	var specs []Spec
	for i, q := range queries {
		specs = append(specs, Spec{Slug: fmt.Sprint("n", i), Query: q})
	}
	r, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.nums) != 3 {
		t.Fatalf("%d comparisons kept as nodes, want the 3 whose number is too big for a step", len(r.nums))
	}
	p := &paper.Paper{ID: "2601.00001", Title: "t", Upvotes: 5, Comments: 2, GitHubStars: 100}
	want := []int{0, 2, 3, 5, 6}
	got := r.Route(p)
	if !hitsEqual(got, r.RoutePlain(p)) {
		t.Fatalf("Route = %v, RoutePlain = %v", got, r.RoutePlain(p))
	}
	var topics []int
	for _, h := range got {
		topics = append(topics, h.Topic)
	}
	if fmt.Sprint(topics) != fmt.Sprint(want) {
		t.Errorf("topics = %v, want %v", topics, want)
	}
}
