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
	for i := range n {
		tab.put(fmt.Sprint("w", i), hash(i), int32(i))
	}
	if tab.n != n || len(tab.slots) < 2*n {
		t.Fatalf("n = %d, %d slots: want %d words at most half full", tab.n, len(tab.slots), n)
	}
	for i := range n {
		if id, ok := tab.get(fmt.Sprint("w", i), hash(i)); !ok || id != int32(i) {
			t.Fatalf("w%d: got %d, %v", i, id, ok)
		}
	}
	for _, miss := range []struct {
		word string
		hash uint64
	}{{"w1", 2}, {"x1", 1}, {"", 0}, {"w5000", hash(5000)}} {
		if id, ok := tab.get(miss.word, miss.hash); ok {
			t.Errorf("get(%q, %d) = %d, want a miss", miss.word, miss.hash, id)
		}
	}
}
