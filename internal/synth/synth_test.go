package synth

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func fixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hf-api-daily-papers-2026-06-12.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDistinctPapers: the papers of Papers, each abstract a text of its own
// with as many words, the same every call.
func TestDistinctPapers(t *testing.T) {
	const n = 2000
	plain, err := Papers(fixture(t), n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DistinctPapers(fixture(t), n)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DistinctPapers(fixture(t), n)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, again) {
		t.Fatal("two calls give different papers")
	}
	seen := map[string]string{}
	for i := range got {
		p, q := got[i], plain[i]
		if p.ID != q.ID || p.Title != q.Title || !p.Day.Equal(q.Day) {
			t.Fatalf("paper %d: %s %q differs from Papers' %s %q beyond its abstract", i, p.ID, p.Title, q.ID, q.Title)
		}
		if a, b := len(strings.Fields(p.Abstract)), len(strings.Fields(q.Abstract)); a < b || a > b+3 {
			t.Errorf("paper %s: %d words, Papers gives %d", p.ID, a, b)
		}
		if other, ok := seen[p.Abstract]; ok {
			t.Fatalf("papers %s and %s have the same abstract", other, p.ID)
		}
		seen[p.Abstract] = p.ID
	}
	if _, err := DistinctPapers([]byte("[]"), 1); err == nil {
		t.Error("a fixture without papers: no error")
	}
}
