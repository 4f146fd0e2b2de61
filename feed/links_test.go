package feed

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// TestLinksWhereThePaperIs: every format and the index link an item where
// the paper really is (paper.PageURL); the item HTML links to Hugging Face
// and shows its counts only for a paper Hugging Face lists (0 upvotes
// included), never for one that only an arXiv listing or a lab page gave.
func TestLinksWhereThePaperIs(t *testing.T) {
	lab := "https://lab.example.org/publications/fast-robots"
	tests := []struct {
		name     string
		p        paper.Paper
		link     string
		want     []string // in the item HTML
		dontWant []string
	}{
		{"on Hugging Face", paper.Paper{ID: "2606.00001", Hub: true, Upvotes: 5, Comments: 1},
			"https://huggingface.co/papers/2606.00001",
			[]string{`<a href="https://arxiv.org/abs/2606.00001">arXiv</a>`, `<a href="https://huggingface.co/papers/2606.00001">Hugging Face</a>`, "<p>5 upvotes · 1 comments</p>"},
			[]string{"Source"}},
		{"on Hugging Face with no upvotes yet", paper.Paper{ID: "2606.00002", Hub: true},
			"https://huggingface.co/papers/2606.00002",
			[]string{`<a href="https://huggingface.co/papers/2606.00002">Hugging Face</a>`, "<p>0 upvotes · 0 comments</p>"},
			nil},
		{"arXiv listing only", paper.Paper{ID: "2606.00003", Categories: []string{"cs.LG"}, Sources: []string{"arxiv-cs.LG"}},
			"https://arxiv.org/abs/2606.00003",
			[]string{`<a href="https://arxiv.org/abs/2606.00003">arXiv</a> · <a href="https://arxiv.org/pdf/2606.00003">PDF</a></p>`},
			[]string{"huggingface.co", "Hugging Face", "upvotes", "comments", "Source"}},
		{"arXiv listing with counts from nowhere", paper.Paper{ID: "2606.00004", Upvotes: 7},
			"https://arxiv.org/abs/2606.00004",
			nil,
			[]string{"huggingface.co", "upvotes"}},
		{"lab page", paper.Paper{ID: paper.LinkID(lab), Link: lab, Sources: []string{"lab"}},
			lab,
			[]string{`<a href="` + lab + `">Source</a>`},
			[]string{"huggingface.co", "Hugging Face", "arxiv.org", "upvotes", "comments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Title, tt.p.Day = "A paper", refreshed
			tp := Topic{Slug: "l", Items: []Item{{Paper: tt.p}}}
			pa, pr, pj := renderAll(t, testSite, tp)
			if len(pa.Entries[0].Links) != 1 || pa.Entries[0].Links[0].Href != tt.link {
				t.Errorf("atom links = %+v, want one to %s", pa.Entries[0].Links, tt.link)
			}
			if got := pr.Channel.Items[0].Link; len(got) != 1 || got[0] != tt.link {
				t.Errorf("rss links = %q, want %s", got, tt.link)
			}
			if got := pj.Items[0].URL; got != tt.link {
				t.Errorf("json url = %q, want %s", got, tt.link)
			}
			content := pa.Entries[0].Content.Text
			for _, w := range tt.want {
				if !strings.Contains(content, w) {
					t.Errorf("item HTML lacks %q:\n%s", w, content)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(content, w) {
					t.Errorf("item HTML holds %q:\n%s", w, content)
				}
			}
			idx, err := Index(testSite, []Topic{tp}, Status{})
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`<li><a href="%s">A paper</a>`, tt.link); !strings.Contains(string(idx), want) {
				t.Errorf("index.html lacks %q:\n%s", want, idx)
			}
		})
	}
}

// TestTimeOfDay holds the time of day that Date gives a day-only date to
// its rule: below 24 hours and to the millisecond, the same for an ID
// every time, later for a later arXiv submission of a month, and distinct
// for the ids a day's listing holds.
func TestTimeOfDay(t *testing.T) {
	tests := []struct {
		id   string
		want time.Duration
	}{
		// n × 864 ms plus (YY×12+MM) mod 864 ms
		{"2606.00000", 318 * time.Millisecond},
		{"2606.00001", (864 + 318) * time.Millisecond},
		{"2605.00001", (864 + 317) * time.Millisecond},
		{"2606.13681", (13681*864 + 318) * time.Millisecond},
		{"2612.99999", (99999*864 + (26*12+12)%864) * time.Millisecond},
		{"9912.99999", (99999*864 + (99*12+12)%864) * time.Millisecond},
		{"0704.0001", (864 + 7*12 + 4) * time.Millisecond},
		// FNV-1a of the ID modulo a day's milliseconds: these values are
		// part of every published feed and must never change.
		{"hep-th/9901001", 69288918 * time.Millisecond},
		{"url-0123456789abcdef0123", 13269029 * time.Millisecond},
		// Not new-style: each takes the hash, never a number of its own.
		{"2606.000", timeOfDayHash("2606.000")},
		{"2606.000001", timeOfDayHash("2606.000001")},
		{"2606-00001", timeOfDayHash("2606-00001")},
		{"26a6.00001", timeOfDayHash("26a6.00001")},
		{"2606.0000x", timeOfDayHash("2606.0000x")},
		{"2606.", timeOfDayHash("2606.")},
		{"", timeOfDayHash("")},
	}
	for _, tt := range tests {
		if got := timeOfDay(tt.id); got != tt.want {
			t.Errorf("timeOfDay(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
	// Every month of a century, and old-style and link ids, stay within
	// the day.
	for yy := range 100 {
		for mm := 1; mm <= 12; mm++ {
			for _, n := range []string{"00000", "99999", "9999"} {
				id := fmt.Sprintf("%02d%02d.%s", yy, mm, n)
				if d := timeOfDay(id); d < 0 || d >= 24*time.Hour || d%time.Millisecond != 0 {
					t.Fatalf("timeOfDay(%s) = %v, want whole milliseconds below 24h", id, d)
				}
			}
		}
	}
	// A day's ids: a month's numbers in order, two months' same numbers,
	// old-style and link ids; none shares an instant, and within a month a
	// later number is later in the day.
	seen := map[time.Duration]string{}
	check := func(id string) time.Duration {
		d := timeOfDay(id)
		if d < 0 || d >= 24*time.Hour || d%time.Millisecond != 0 {
			t.Fatalf("timeOfDay(%s) = %v, want whole milliseconds below 24h", id, d)
		}
		if other, ok := seen[d]; ok {
			t.Fatalf("%s and %s share the time of day %v", id, other, d)
		}
		seen[d] = id
		return d
	}
	for _, month := range []string{"2605", "2606"} {
		prev := time.Duration(-1)
		for n := 0; n < 100000; n += 7 {
			d := check(fmt.Sprintf("%s.%05d", month, n))
			if d <= prev {
				t.Fatalf("%s.%05d is not later in the day than the number before it", month, n)
			}
			prev = d
		}
	}
	for _, id := range []string{"hep-th/9901001", "math.GT/0309136", paper.LinkID("https://lab.example.org/a"), paper.LinkID("https://lab.example.org/b")} {
		check(id)
		if timeOfDay(id) != timeOfDay(id) {
			t.Errorf("timeOfDay(%s) changes", id)
		}
	}
}

// timeOfDayHash is the time of day of an id that is not a new-style arXiv
// id, computed here on its own from the definition: FNV-1a modulo a day.
func timeOfDayHash(id string) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64()%uint64(24*time.Hour/time.Millisecond)) * time.Millisecond
}
