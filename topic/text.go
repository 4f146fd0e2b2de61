package topic

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// normalize returns s in NFKC, case-folded, then NFKC again: the form every
// term and every field is compared in.
func normalize(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// NFKC is the identity on ASCII and folding is lower-casing, so
		// the common case skips both transformers.
		return strings.ToLower(s)
	}
	// Invalid UTF-8 would stop NFKC short; U+FFFD is no word rune, so a
	// bad byte separates words.
	s = strings.ToValidUTF8(s, "\uFFFD")
	// Folding can leave text that NFKC composes differently ("ᾞ̈" folds to
	// ι followed by a combining mark, which NFKC makes ϊ), so NFKC runs again
	// to make normalize idempotent.
	return norm.NFKC.String(strings.Map(cherokee, cases.Fold().String(norm.NFKC.String(s))))
}

// cherokee maps Cherokee letters to upper case, which is their case-folded
// form in Unicode's CaseFolding.txt. The cases package swaps the two cases
// of Cherokee instead, so folding is not idempotent there without this.
func cherokee(r rune) rune {
	if 0xAB70 <= r && r <= 0xABBF || 0x13F8 <= r && r <= 0x13FD {
		return unicode.ToUpper(r)
	}
	return r
}

// isWordRune reports whether r belongs to a word: letters, digits and
// non-spacing combining marks (so a mark NFKC cannot compose still stays in
// its word).
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// splitWords splits already normalised text into its words: maximal runs of
// word runes. The words are substrings of s.
func splitWords(s string) []string {
	words := make([]string, 0, len(s)/7+1) // English averages 6 bytes a word with its space
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			words = append(words, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}

// Text field classes of a Doc.
const (
	clTitle = iota
	clAbstract
	clAuthor
	clCategory
	clSource
	nClass
)

// values holds the values of one field of a paper (one per author, per
// category...), normalised and split into words.
type values struct {
	texts []string
	words [][]string
}

func (v *values) add(s string) {
	n := normalize(s)
	v.texts = append(v.texts, n)
	v.words = append(v.words, splitWords(n))
}

// Doc is a paper tokenised once for routing: every text field normalised and
// split into words. Build it with NewDoc and route it with RouteDoc to share
// the work between callers; a Doc is safe for concurrent use.
type Doc struct {
	p      *paper.Paper
	fields [nClass]values
	id     string // lower-cased

	// The word index: every distinct word, where it occurs and in which
	// classes. It is nil (and terms scan the fields) for a paper too large
	// to pack positions in 32 bits.
	ids   map[string]int32 // word -> distinct word number
	start []int32          // positions of word k are pos[start[k]:start[k+1]]
	pos   []uint32         // class<<28 | value<<16 | word index
	mask  []uint8          // classes word k occurs in, a bit per class
	words []string         // distinct words, word k at k

	sortOnce sync.Once
	sorted   []string // distinct words sorted, for prefixes; see prefixes
}

// prefixes returns the distinct words sorted, sorting them the first time:
// many papers meet no single-word prefix term at all.
func (d *Doc) prefixes() []string {
	d.sortOnce.Do(func() {
		d.sorted = slices.Clone(d.words)
		slices.Sort(d.sorted)
	})
	return d.sorted
}

// Limits of a packed position.
const (
	maxValues = 1 << 12
	maxWords  = 1 << 16
)

// NewDoc tokenises p. The Doc keeps p; do not change p while the Doc is used.
func NewDoc(p *paper.Paper) *Doc {
	d := &Doc{p: p, id: strings.ToLower(p.ID)}
	d.fields[clTitle].add(p.Title)
	d.fields[clAbstract].add(p.Abstract)
	for _, a := range p.Authors {
		d.fields[clAuthor].add(a)
	}
	for _, c := range p.Categories {
		d.fields[clCategory].add(c)
	}
	for _, c := range p.AIKeywords {
		d.fields[clCategory].add(c)
	}
	for _, s := range p.Sources {
		d.fields[clSource].add(s)
	}
	d.buildIndex()
	return d
}

func (d *Doc) buildIndex() {
	total := 0
	for cl := range d.fields {
		if len(d.fields[cl].words) > maxValues {
			return
		}
		for _, ws := range d.fields[cl].words {
			if len(ws) > maxWords {
				return
			}
			total += len(ws)
		}
	}
	d.ids = make(map[string]int32, total)
	count := make([]int32, 0, total)
	d.mask = make([]uint8, 0, total)
	d.words = make([]string, 0, total)
	for cl := range d.fields {
		for _, ws := range d.fields[cl].words {
			for _, w := range ws {
				k, ok := d.ids[w]
				if !ok {
					k = int32(len(count))
					d.ids[w] = k
					count = append(count, 0)
					d.mask = append(d.mask, 0)
					d.words = append(d.words, w)
				}
				count[k]++
				d.mask[k] |= 1 << cl
			}
		}
	}
	d.start = make([]int32, len(count)+1)
	for k, c := range count {
		d.start[k+1] = d.start[k] + c
	}
	d.pos = make([]uint32, total)
	next := count // reused as the fill cursor
	copy(next, d.start[:len(count)])
	for cl := range d.fields {
		for v, ws := range d.fields[cl].words {
			for i, w := range ws {
				k := d.ids[w]
				d.pos[next[k]] = uint32(cl)<<28 | uint32(v)<<16 | uint32(i)
				next[k]++
			}
		}
	}
}

// match reports whether words (the last a prefix if prefix) occur
// consecutively in one value of class cl.
func (d *Doc) match(cl int, words []string, prefix bool) bool {
	if d.ids == nil {
		for _, have := range d.fields[cl].words {
			if matchWords(have, words, prefix) {
				return true
			}
		}
		return false
	}
	n := len(words)
	if n == 1 && prefix {
		p := words[0]
		sorted := d.prefixes()
		i, _ := slices.BinarySearch(sorted, p)
		for ; i < len(sorted) && strings.HasPrefix(sorted[i], p); i++ {
			if d.mask[d.ids[sorted[i]]]&(1<<cl) != 0 {
				return true
			}
		}
		return false
	}
	k, ok := d.ids[words[0]]
	if !ok || d.mask[k]&(1<<cl) == 0 {
		return false
	}
	last := words[n-1]
	vals := d.fields[cl].words
next:
	for _, ps := range d.pos[d.start[k]:d.start[k+1]] {
		if int(ps>>28) != cl {
			continue
		}
		have := vals[ps>>16&(maxValues-1)]
		i := int(ps & (maxWords - 1))
		if i+n > len(have) {
			continue
		}
		for j := 1; j < n-1; j++ {
			if have[i+j] != words[j] {
				continue next
			}
		}
		if n == 1 {
			return true
		}
		if w := have[i+n-1]; w == last || prefix && strings.HasPrefix(w, last) {
			return true
		}
	}
	return false
}

// matchWords reports whether words (the last one a prefix if prefix) occur
// consecutively in have.
func matchWords(have, words []string, prefix bool) bool {
	n := len(words)
	if n == 0 || len(have) < n {
		return false
	}
	last := words[n-1]
outer:
	for i := 0; i+n <= len(have); i++ {
		if have[i] != words[0] && n > 1 {
			continue
		}
		for k := 0; k < n-1; k++ {
			if have[i+k] != words[k] {
				continue outer
			}
		}
		w := have[i+n-1]
		if w == last || prefix && strings.HasPrefix(w, last) {
			return true
		}
	}
	return false
}
