package topic

import (
	"fmt"
	"testing"
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
