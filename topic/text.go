package topic

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// normalize returns s in NFKC, case-folded, then NFKC again: the form every
// term and every field is compared in.
//
// Text that is all ASCII is only lower-cased, which is what the three steps
// do to it (TestNormalizeASCII checks every byte). Nearly all the text of
// real papers is ASCII, and the transformers take twice as long over a
// paper, which the budget of routing a whole history cannot spare.
func normalize(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return normalizeUnicode(s)
		}
	}
	return strings.ToLower(s)
}

// normalizeUnicode is normalize through the norm and cases transformers.
func normalizeUnicode(s string) string {
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
		return asciiWord[r]
	}
	return isWordRuneUnicode(r)
}

func isWordRuneUnicode(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// asciiWord tells the ASCII word runes: a table keeps isWordRune small
// enough to inline into splitWords.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for r := range t {
		t[r] = 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return t
}()

// splitWords splits already normalised text into its words: maximal runs of
// word runes. The words are substrings of s.
func splitWords(s string) []string {
	words := make([]string, 0, len(s)/6+1) // English averages 6 bytes a word with its space
	start := -1
	for i, r := range s {
		switch {
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case start >= 0:
			words = append(words, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}

// Text field classes of a doc.
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

// doc is a paper ready for evaluation: every text field normalised and
// split into words once, however many topics then read it.
type doc struct {
	p      *paper.Paper
	fields [nClass]values
	id     string // lower-cased

	// classes has every word of the paper, with a bit for each class it
	// occurs in: a term of one word is one lookup, and a phrase is looked
	// for in the values only when all its words are there. Scanning the
	// values for every term instead makes routing a history through 100
	// topics take several times as long.
	classes map[string]uint8
	heads   *heads // the words by first byte, for prefixes; made when first needed
}

// newDoc tokenises p. The doc keeps p; do not change p while the doc is used.
func newDoc(p *paper.Paper) *doc {
	d := &doc{p: p, id: strings.ToLower(p.ID)}
	d.add(clTitle, p.Title)
	d.add(clAbstract, p.Abstract)
	for _, s := range p.Authors {
		d.add(clAuthor, s)
	}
	for _, s := range p.Categories {
		d.add(clCategory, s)
	}
	for _, s := range p.AIKeywords {
		d.add(clCategory, s)
	}
	for _, s := range p.Sources {
		d.add(clSource, s)
	}
	n := 0
	for cl := range d.fields {
		for _, ws := range d.fields[cl].words {
			n += len(ws)
		}
	}
	d.classes = make(map[string]uint8, n)
	for cl := range d.fields {
		for _, ws := range d.fields[cl].words {
			for _, w := range ws {
				d.classes[w] |= 1 << cl
			}
		}
	}
	return d
}

// add adds a value of class cl.
func (d *doc) add(cl int, s string) {
	t := normalize(s)
	v := &d.fields[cl]
	v.texts = append(v.texts, t)
	v.words = append(v.words, splitWords(t))
}

// match reports whether words (the last a prefix if prefix) occur
// consecutively in one value of a class in mask (a bit per class).
func (d *doc) match(mask uint8, words []string, prefix bool) bool {
	n := len(words)
	if n == 1 && prefix {
		return d.hasPrefix(mask, words[0])
	}
	whole := words
	if prefix {
		whole = words[:n-1]
	}
	for _, w := range whole {
		if mask &= d.classes[w]; mask == 0 {
			return false
		}
	}
	if n == 1 {
		return true
	}
	for cl := range d.fields {
		if mask&(1<<cl) == 0 {
			continue
		}
		for _, have := range d.fields[cl].words {
			if matchWords(have, words, prefix) {
				return true
			}
		}
	}
	return false
}

// hasPrefix reports whether a word of a class in mask starts with p,
// looking only at the words that start with p's first byte.
func (d *doc) hasPrefix(mask uint8, p string) bool {
	if d.heads == nil {
		d.heads = byFirstByte(d)
	}
	for _, w := range d.heads.words(p[0]) {
		if strings.HasPrefix(w, p) && d.classes[w]&mask != 0 {
			return true
		}
	}
	return false
}

// heads is the words of a doc, each once, grouped by first byte.
type heads struct {
	start [257]int32 // the words starting with byte b are all[start[b]:start[b+1]]
	all   []string
}

func byFirstByte(d *doc) *heads {
	h := &heads{all: make([]string, 0, len(d.classes))}
	for w := range d.classes {
		h.start[int(w[0])+1]++
	}
	for b := 1; b < len(h.start); b++ {
		h.start[b] += h.start[b-1]
	}
	h.all = h.all[:len(d.classes)]
	next := h.start
	for w := range d.classes {
		h.all[next[w[0]]] = w
		next[w[0]]++
	}
	return h
}

func (h *heads) words(b byte) []string { return h.all[h.start[b]:h.start[int(b)+1]] }

// matchWords reports whether words (the last one a prefix if prefix) occur
// consecutively in have.
func matchWords(have, words []string, prefix bool) bool {
	n := len(words)
	last := words[n-1]
outer:
	for i := 0; i+n <= len(have); i++ {
		for k := 0; k < n-1; k++ {
			if have[i+k] != words[k] {
				continue outer
			}
		}
		if w := have[i+n-1]; w == last || prefix && strings.HasPrefix(w, last) {
			return true
		}
	}
	return false
}
