package topic

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// normalize returns s in NFKC, case-folded, then NFKC again: the form every
// term and every field is compared in.
func normalize(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || 'A' <= s[i] && s[i] <= 'Z' {
			return string(appendNormalize(make([]byte, 0, len(s)), s))
		}
	}
	return s // lower-case ASCII is its own normal form
}

// normalizeSlow is normalize by the book, through the norm and cases
// transformers for the whole text. appendNormalize must give the same bytes;
// the tests check that it does.
func normalizeSlow(s string) string {
	// Invalid UTF-8 would stop NFKC short; U+FFFD is no word rune, so a
	// bad byte separates words.
	s = strings.ToValidUTF8(s, "\uFFFD")
	// Folding can leave text that NFKC composes differently ("ᾞ̈" folds to
	// ι followed by a combining mark, which NFKC makes ϊ), so NFKC runs again
	// to make normalize idempotent.
	return norm.NFKC.String(strings.Map(cherokee, cases.Fold().String(norm.NFKC.String(s))))
}

// appendNormalize appends normalize(s) to dst. Most text is ASCII, and most
// of the rest is runes like ’ or — that normalisation leaves alone, so it
// copies those (lower-casing ASCII by table) and hands only the runs between
// them to normalizeSlow. That is exact because a run is cut only before a
// rune that is a normalisation boundary (it combines with nothing on its
// left, ASCII always) and that NFKC and folding leave as it is, or lower
// (ASCII): NFKC and folding then act on each run on its own, as they would
// on the whole text. A run that needs the slow path takes the rune before it
// along, since a combining mark may compose with it.
func appendNormalize(dst []byte, s string) []byte {
	slow := -1    // start in s of the pending slow run, or -1
	prevIn := 0   // start in s of the last rune copied on the fast path
	prevOut := -1 // its start in dst, or -1 when there is none to take back
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if slow >= 0 {
				dst = append(dst, normalizeSlow(s[slow:i])...)
				slow = -1
			}
			prevIn, prevOut = i, len(dst)
			dst = append(dst, lower[c])
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError && runeInfo(r)&riStable != 0 {
			if slow >= 0 {
				dst = append(dst, normalizeSlow(s[slow:i])...)
				slow = -1
			}
			prevIn, prevOut = i, len(dst)
			dst = append(dst, s[i:i+n]...)
			i += n
			continue
		}
		if slow < 0 {
			slow = i
			if prevOut >= 0 {
				slow, dst = prevIn, dst[:prevOut]
			}
		}
		prevOut = -1
		i += n
	}
	if slow >= 0 {
		dst = append(dst, normalizeSlow(s[slow:])...)
	}
	return dst
}

// lower lower-cases ASCII bytes: NFKC and folding of an ASCII letter.
var lower = func() (t [utf8.RuneSelf]byte) {
	for i := range t {
		t[i] = byte(unicode.ToLower(rune(i)))
	}
	return t
}()

// Rune properties, four bits a rune of the Basic Multilingual Plane, worked
// out the first time a rune is met.
const (
	riKnown  = 1 << iota
	riStable // normalisation copies it as is, and it is a boundary: see appendNormalize
	riWord   // isWordRune
)

var runeInfos [0x10000 / 8]atomic.Uint32

// runeInfo returns the riStable and riWord bits of r (with riKnown).
func runeInfo(r rune) uint32 {
	if r >= 0x10000 {
		if isWordRune(r) {
			return riKnown | riWord
		}
		return riKnown
	}
	w := &runeInfos[r/8]
	shift := uint(r%8) * 4
	if v := w.Load() >> shift & 0xF; v != 0 {
		return v
	}
	v := uint32(riKnown)
	if isWordRune(r) {
		v |= riWord
	}
	s := string(r)
	if r != utf8.RuneError && norm.NFKC.PropertiesString(s).BoundaryBefore() &&
		norm.NFKC.String(s) == s && cases.Fold().String(s) == s && cherokee(r) == r {
		v |= riStable
	}
	w.Or(v << shift)
	return v
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

// asciiWord tells the ASCII bytes that are word runes.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for i := range t {
		t[i] = isWordRune(rune(i))
	}
	return t
}()

// splitWords splits already normalised text into its words: maximal runs of
// word runes. The words are substrings of s.
func splitWords(s string) []string {
	return appendWords(make([]string, 0, len(s)/7+1), s) // English averages 6 bytes a word with its space
}

// appendWords appends the words of normalised text s to dst.
func appendWords(dst []string, s string) []string {
	start := -1
	for i := 0; i < len(s); {
		c := s[i]
		var word bool
		n := 1
		if c < utf8.RuneSelf {
			word = asciiWord[c]
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:])
			word = runeInfo(r)&riWord != 0
		}
		if word {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			dst = append(dst, s[start:i])
			start = -1
		}
		i += n
	}
	if start >= 0 {
		dst = append(dst, s[start:])
	}
	return dst
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

// Doc is a paper tokenised once for routing: every text field normalised and
// split into words. Build it with NewDoc and route it with RouteDoc to share
// the work between callers; a Doc is safe for concurrent use.
type Doc struct {
	p      *paper.Paper
	fields [nClass]values
	id     string // lower-cased

	// The word index: every distinct word, where it occurs and in which
	// classes. It is empty (slots is nil, and terms scan the fields) for a
	// paper too large to pack positions in 32 bits.
	slots []int32  // open-addressing hash table of word numbers plus one, 0 when free
	start []int32  // positions of word k are pos[start[k]:start[k+1]]
	pos   []uint32 // class<<28 | value<<16 | word index
	mask  []uint8  // classes word k occurs in, a bit per class
	words []string // distinct words, word k at k
	hash  []uint64 // maphash.String(wordSeed, words[k]), for the Router's lookups

	// Arrays kept for the next fill of a pooled Doc.
	ends   []int
	texts  []string
	all    []string
	vwords [][]string
	ints   []int32
	next   []int32

	headOnce sync.Once
	heads    *wordHeads // see byHead
}

// wordHeads groups the distinct words of a Doc by first byte: the numbers
// of those starting with byte b are order[start[b]:start[b+1]].
type wordHeads struct {
	start [257]int32
	order []int32
}

// byHead groups the distinct words by first byte the first time it is
// called (many papers meet no single-word prefix term at all), for
// prefixes: a word has a prefix only if both start alike, and a group is a
// few words, where sorting all of them for a binary search costs more.
func (d *Doc) byHead() *wordHeads {
	d.headOnce.Do(func() {
		h := &wordHeads{order: make([]int32, len(d.words))}
		for _, w := range d.words {
			h.start[int(w[0])+1]++
		}
		for b := 1; b < len(h.start); b++ {
			h.start[b] += h.start[b-1]
		}
		next := h.start
		for k, w := range d.words {
			h.order[next[w[0]]] = int32(k)
			next[w[0]]++
		}
		d.heads = h
	})
	return d.heads
}

// Limits of a packed position.
const (
	maxValues = 1 << 12
	maxWords  = 1 << 16
)

// textBufs holds the buffers NewDoc normalises into before it makes the
// text one string.
var textBufs = sync.Pool{New: func() any { return new([]byte) }}

// wordSeed seeds the hash of the word index of every Doc.
var wordSeed = maphash.MakeSeed()

// NewDoc tokenises p. The Doc keeps p; do not change p while the Doc is used.
//
// It normalises every field value into one buffer, makes that one string,
// and splits it into one array of words that the values slice: a Doc costs
// a few allocations whatever the paper's length.
func NewDoc(p *paper.Paper) *Doc {
	d := new(Doc)
	d.fill(p)
	return d
}

// docs holds Docs that Route and RoutePlain fill, use and give back, so
// that routing a paper allocates little more than the text of its Doc.
var docs = sync.Pool{New: func() any { return new(Doc) }}

// fill tokenises p into d, reusing the arrays d has.
func (d *Doc) fill(p *paper.Paper) {
	d.p, d.id = p, strings.ToLower(p.ID)
	d.headOnce, d.heads = sync.Once{}, nil
	// Values in class order: title, abstract, authors, categories and AI
	// keywords, sources.
	counts := [nClass]int{1, 1, len(p.Authors), len(p.Categories) + len(p.AIKeywords), len(p.Sources)}
	nv := 0
	for _, c := range counts {
		nv += c
	}
	ends := resize(d.ends, 2*nv) // end of each value in the text, then in the words
	bp := textBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	v := 0
	add := func(s string) {
		buf = appendNormalize(buf, s)
		ends[v] = len(buf)
		v++
	}
	add(p.Title)
	add(p.Abstract)
	for _, s := range p.Authors {
		add(s)
	}
	for _, s := range p.Categories {
		add(s)
	}
	for _, s := range p.AIKeywords {
		add(s)
	}
	for _, s := range p.Sources {
		add(s)
	}
	text := string(buf)
	*bp = buf
	textBufs.Put(bp)

	texts := resize(d.texts, nv)
	all := slices.Grow(d.all[:0], len(text)/7+nv) // English averages 6 bytes a word with its space
	prev := 0
	for v := range nv {
		texts[v] = text[prev:ends[v]]
		prev = ends[v]
		all = appendWords(all, texts[v])
		ends[nv+v] = len(all)
	}
	words := resize(d.vwords, nv)
	prev = 0
	for v := range nv {
		words[v] = all[prev:ends[nv+v]:ends[nv+v]]
		prev = ends[nv+v]
	}
	v = 0
	for cl, c := range counts {
		d.fields[cl] = values{texts: texts[v : v+c : v+c], words: words[v : v+c : v+c]}
		v += c
	}
	d.ends, d.texts, d.all, d.vwords = ends, texts, all, words
	d.buildIndex(all)
}

// resize returns s with length n, reallocated when too small; the elements
// are left as they were.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// buildIndex indexes all, the words of every value in class order.
func (d *Doc) buildIndex(all []string) {
	d.slots, d.start = nil, nil
	d.pos, d.mask, d.words, d.hash = d.pos[:0], d.mask[:0], d.words[:0], d.hash[:0]
	for cl := range d.fields {
		if len(d.fields[cl].words) > maxValues {
			return
		}
		for _, ws := range d.fields[cl].words {
			if len(ws) > maxWords {
				return
			}
		}
	}
	total := len(all)
	size := 8
	for size < 2*total {
		size *= 2
	}
	ints := resize(d.ints, size+2*total+1)
	d.ints = ints
	clear(ints[:size])
	d.slots, ints = ints[:size:size], ints[size:]
	ids, ints := ints[:total:total], ints[total:] // word number of all[i]
	count := ints[: 0 : total+1]                  // becomes start
	d.mask = slices.Grow(d.mask[:0], total)
	d.words = slices.Grow(d.words[:0], total)
	d.hash = slices.Grow(d.hash[:0], total)
	m := uint64(size - 1)
	i := 0
	for cl := range d.fields {
		for _, ws := range d.fields[cl].words {
			for _, w := range ws {
				full := maphash.String(wordSeed, w)
				h := full & m
				var k int32
				for {
					if e := d.slots[h]; e == 0 {
						k = int32(len(d.words))
						d.slots[h] = k + 1
						count = append(count, 0)
						d.mask = append(d.mask, 0)
						d.words = append(d.words, w)
						d.hash = append(d.hash, full)
						break
					} else if d.words[e-1] == w {
						k = e - 1
						break
					}
					h = (h + 1) & m
				}
				ids[i] = k
				i++
				count[k]++
				d.mask[k] |= 1 << cl
			}
		}
	}
	// Turn the counts into starts, shifted by one, and fill pos with start
	// as the cursor: start[k] ends at the start of word k+1, as it should.
	n := len(count)
	d.start = count[:n+1]
	sum := int32(0)
	for k := range n {
		c := d.start[k]
		d.start[k] = sum
		sum += c
	}
	d.start[n] = sum
	d.pos = resize(d.pos, total)
	next := resize(d.next, n) // fill cursors
	d.next = next
	copy(next, d.start[:n])
	i = 0
	for cl := range d.fields {
		for v, ws := range d.fields[cl].words {
			for j := range ws {
				k := ids[i]
				i++
				d.pos[next[k]] = uint32(cl)<<28 | uint32(v)<<16 | uint32(j)
				next[k]++
			}
		}
	}
}

// indexed reports whether d has a word index.
func (d *Doc) indexed() bool { return d.slots != nil }

// lookup returns the number of word w in d.
func (d *Doc) lookup(w string) (int32, bool) {
	m := uint64(len(d.slots) - 1)
	h := maphash.String(wordSeed, w) & m
	for {
		e := d.slots[h]
		if e == 0 {
			return 0, false
		}
		if d.words[e-1] == w {
			return e - 1, true
		}
		h = (h + 1) & m
	}
}

// match reports whether words (the last a prefix if prefix) occur
// consecutively in one value of class cl.
func (d *Doc) match(cl int, words []string, prefix bool) bool {
	if !d.indexed() {
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
		h := d.byHead()
		for _, k := range h.order[h.start[p[0]]:h.start[int(p[0])+1]] {
			if d.mask[k]&(1<<cl) != 0 && strings.HasPrefix(d.words[k], p) {
				return true
			}
		}
		return false
	}
	k, ok := d.lookup(words[0])
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
