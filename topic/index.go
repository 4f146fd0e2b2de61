package topic

import (
	"hash/maphash"
	"slices"
)

// Index key classes: which words of a Doc a key is looked up in.
const (
	kText = iota // title and abstract
	kAuthor
	kCategory
	kSource
	kID
	nKey
)

// key is a word a topic needs: a paper the topic takes contains it (or, for
// a prefix key, a word starting with it) in the key's class.
type key struct {
	class  int
	word   string
	prefix bool
}

// maxKeys is the most keys a clause holds: enough to make a clause of
// three ordinary words rare, few enough to keep postings small.
const maxKeys = 3

// clause is one way a topic can match: the paper contains all its keys,
// strongest first.
type clause []key

// posting is a topic under the first key of a clause; also are the ids of
// the clause's other keys, or -1.
type posting struct {
	topic int32
	also  [maxKeys - 1]int32
}

// index maps keys to the topics that need them. Every topic is either in
// fallback or under the keys of a set of clauses of which a paper it takes
// satisfies at least one, so evaluating the topics whose clauses a Doc
// satisfies, plus fallback, finds every topic that takes it.
type index struct {
	exact    [nKey]wordTable // word -> key id
	prefix   [nKey]wordTable // prefix -> key id, on prefixHash
	preMin   [nKey]int       // shortest and longest prefix, in bytes
	preMax   [nKey]int
	preHead  [nKey][]uint64 // bitset of headHash of the first preMin bytes of the prefixes
	preFull  [nKey][]uint64 // bitset of headHash of the prefixes
	post     [][]posting    // by key id
	fallback []uint64       // bitset of topics evaluated always
	info     []termInfo     // by node.tid
}

// termInfo tells what the present keys of a Doc say about a term.
type termInfo struct {
	decide int32          // the key whose presence is the term's result, or -1
	need   [maxKeys]int32 // keys the term cannot match without, or -1
}

// termInfo registers the keys of leaf term n. A term of one word (or
// prefix) searched in a whole class (text, author, category, source) or an
// id holds exactly when its key is present; a phrase, or a word of the
// title or the abstract alone, needs its keys but may miss with them.
// Regexes have no keys.
func (x *index) termInfo(n *node) termInfo {
	t := termInfo{decide: -1, need: [maxKeys]int32{-1, -1, -1}}
	if n == nil || n.kind != nTerm {
		return t
	}
	cl := n.clause()
	for i, k := range cl {
		t.need[i] = x.id(k)
	}
	if n.field == fID || len(n.words) == 1 && n.field != fTitle && n.field != fAbstract {
		t.decide = t.need[0]
	}
	return t
}

func buildIndex(topics []compiled, terms []*node) index {
	var x index
	x.fallback = make([]uint64, (len(topics)+63)/64)
	for i := range topics {
		cls, ok := topics[i].needs()
		if !ok {
			x.fallback[i/64] |= 1 << (i % 64)
			continue
		}
		for _, cl := range cls {
			p := posting{topic: int32(i), also: [maxKeys - 1]int32{-1, -1}}
			for j, k := range cl[1:] {
				p.also[j] = x.id(k)
			}
			a := x.id(cl[0])
			if !slices.Contains(x.post[a], p) {
				x.post[a] = append(x.post[a], p)
			}
		}
	}
	// Every term's words are keys too, so that a Doc's present bits answer
	// most terms without looking at the Doc again (see termInfo).
	x.info = make([]termInfo, len(terms))
	for t, n := range terms {
		x.info[t] = x.termInfo(n)
	}
	// Most words start no prefix key: one bit for the first preMin bytes
	// tells, and one per prefix length tried, where each length would
	// otherwise take a table lookup.
	for c := range nKey {
		if x.prefix[c].n == 0 {
			continue
		}
		x.preHead[c] = make([]uint64, preHeadBits/64)
		x.preFull[c] = make([]uint64, preHeadBits/64)
		for i := range x.prefix[c].slots {
			if e := &x.prefix[c].slots[i]; e.id != 0 {
				w := x.prefix[c].word(e)
				h := headHash(w[:x.preMin[c]]) % preHeadBits
				x.preHead[c][h/64] |= 1 << (h % 64)
				h = headHash(w) % preHeadBits
				x.preFull[c][h/64] |= 1 << (h % 64)
			}
		}
	}
	return x
}

// preHeadBits is the size of index.preHead: many times more bits than a
// class has prefixes, so that few words are let through in vain.
const preHeadBits = 1 << 17

// headHash hashes a prefix for index.preHead: FNV-1a, which a lookup
// extends a byte at a time to try every length of a word.
func headHash(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// id returns the id of k, adding it.
func (x *index) id(k key) int32 {
	if !k.prefix {
		h := maphash.String(wordSeed, k.word)
		if id, ok := x.exact[k.class].get(k.word, h); ok {
			return id
		}
		id := int32(len(x.post))
		x.exact[k.class].put(k.word, h, id)
		x.post = append(x.post, nil)
		return id
	}
	h := prefixHash(headHash(k.word))
	if id, ok := x.prefix[k.class].get(k.word, h); ok {
		return id
	}
	id := int32(len(x.post))
	x.prefix[k.class].put(k.word, h, id)
	x.post = append(x.post, nil)
	n := len(k.word)
	if x.preMin[k.class] == 0 || n < x.preMin[k.class] {
		x.preMin[k.class] = n
	}
	x.preMax[k.class] = max(x.preMax[k.class], n)
	return id
}

// prefixHash makes the headHash of a prefix its hash in index.prefix,
// folding the high bits into the low ones that pick a slot.
func prefixHash(h uint64) uint64 { return h ^ h>>29 }

// needs returns the clauses of a topic, or false when it has none and must
// be evaluated for every paper. The keywords (any of them) and the query
// must both hold, so they combine as an AND.
func (c *compiled) needs() ([]clause, bool) {
	var parts [][]clause
	if len(c.keywords) > 0 {
		var any []clause
		for _, k := range c.keywords {
			cls, _ := k.needs()
			any = append(any, cls...)
		}
		parts = append(parts, any)
	}
	if c.query != nil {
		if cls, ok := c.query.needs(); ok {
			parts = append(parts, cls)
		}
	}
	return and(parts)
}

// needs returns clauses of which a Doc satisfies at least one whenever n
// holds, or false when there are none (NOT, numbers, regexes).
func (n *node) needs() ([]clause, bool) {
	switch n.kind {
	case nTerm:
		return []clause{n.clause()}, true
	case nAnd:
		var parts [][]clause
		for _, k := range n.kids {
			if cls, ok := k.needs(); ok {
				parts = append(parts, cls)
			}
		}
		return and(parts)
	case nOr:
		var all []clause
		for _, k := range n.kids {
			cls, ok := k.needs()
			if !ok {
				return nil, false
			}
			all = append(all, cls...)
		}
		return all, true
	}
	return nil, false
}

// and combines the clause sets of operands that must all hold: the most
// selective set, each of its clauses narrowed by the keys of other operands
// that have a single clause, up to maxKeys keys.
func and(parts [][]clause) ([]clause, bool) {
	if len(parts) == 0 {
		return nil, false
	}
	best := 0
	for i := range parts {
		if better(parts[i], parts[best]) {
			best = i
		}
	}
	var extra []key
	for i, p := range parts {
		if i != best && len(p) == 1 {
			extra = append(extra, p[0]...)
		}
	}
	if len(extra) == 0 {
		return parts[best], true
	}
	sortKeys(extra)
	out := make([]clause, len(parts[best]))
	for i, cl := range parts[best] {
		cl = slices.Clone(cl)
		for _, k := range extra {
			if len(cl) < maxKeys && !slices.Contains(cl, k) {
				cl = append(cl, k)
			}
		}
		sortKeys(cl)
		out[i] = cl
	}
	return out, true
}

// sortKeys orders keys strongest first.
func sortKeys(ks []key) {
	slices.SortStableFunc(ks, func(a, b key) int { return strength(b) - strength(a) })
}

// better reports whether clause set a is likely to find fewer topics than
// b: fewer clauses, or as many with a stronger weakest clause.
func better(a, b []clause) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return weakest(a) > weakest(b)
}

// weakest scores the weakest clause of a set: each key of a clause makes it
// far rarer, and longer words rarer still.
func weakest(cls []clause) int {
	w := -1
	for _, cl := range cls {
		n := 0
		for _, k := range cl {
			n += 100 + strength(k)
		}
		if w < 0 || n < w {
			w = n
		}
	}
	return w
}

// strength guesses how rare a key is: short words are frequent, and a
// prefix counts half its length.
func strength(k key) int {
	if k.prefix {
		return len(k.word) / 2
	}
	return len(k.word)
}

// clause picks the keys of a term: its longest whole words, then its
// prefix, up to maxKeys.
func (n *node) clause() clause {
	var c int
	switch n.field {
	case fText, fTitle, fAbstract:
		c = kText
	case fAuthor:
		c = kAuthor
	case fCategory:
		c = kCategory
	case fSource:
		c = kSource
	case fID:
		return clause{{class: kID, word: n.id, prefix: n.prefix}}
	}
	whole := n.words
	if n.prefix {
		whole = whole[:len(whole)-1]
	}
	var cl clause
	for _, w := range whole {
		if k := (key{class: c, word: w}); !slices.Contains(cl, k) {
			cl = append(cl, k)
		}
	}
	if n.prefix {
		cl = append(cl, key{class: c, word: n.words[len(n.words)-1], prefix: true})
	}
	sortKeys(cl)
	return cl[:min(len(cl), maxKeys)]
}

// scratch is the per-call memory of RouteDoc.
type scratch struct {
	set     []uint64 // candidate topics
	present []uint64 // key ids the Doc contains
	ids     []int32  // the ids set in present
	memo    memo     // term results for the Doc
	ends    []int    // end of each hit's terms in tids
	tids    []int32  // the terms of the hits, by number in Router.raws
	tops    []int32  // the topics of the hits
}

// classKeys maps Doc classes to index key classes.
var classKeys = [nClass]int{clTitle: kText, clAbstract: kText, clAuthor: kAuthor, clCategory: kCategory, clSource: kSource}

// candidates sets in s.set the topics that may take d, and in s.present
// the keys d contains; s.done clears them.
func (x *index) candidates(d *Doc, s *scratch) {
	copy(s.set, x.fallback)
	s.ids = s.ids[:0]
	mark := func(id int32) {
		if s.present[id/64]&(1<<(id%64)) == 0 {
			s.present[id/64] |= 1 << (id % 64)
			s.ids = append(s.ids, id)
		}
	}
	lookup := func(c int, w string, h uint64) {
		if id, ok := x.exact[c].get(w, h); ok {
			mark(id)
		}
		lo := x.preMin[c]
		if lo == 0 || lo > len(w) {
			return
		}
		f := uint64(fnvOffset)
		for n := 0; n < lo; n++ {
			f = (f ^ uint64(w[n])) * fnvPrime
		}
		if b := f % preHeadBits; x.preHead[c][b/64]&(1<<(b%64)) == 0 {
			return // no prefix starts like w
		}
		full := x.preFull[c]
		for n := lo - 1; n < len(w) && n < x.preMax[c]; n++ {
			if n >= lo {
				f = (f ^ uint64(w[n])) * fnvPrime
			}
			if b := f % preHeadBits; full[b/64]&(1<<(b%64)) != 0 {
				if id, ok := x.prefix[c].get(w[:n+1], prefixHash(f)); ok {
					mark(id)
				}
			}
		}
	}
	if d.indexed() {
		for k, w := range d.words {
			m := d.mask[k]
			var done uint8
			for cl := range nClass {
				c := classKeys[cl]
				if m&(1<<cl) != 0 && done&(1<<c) == 0 {
					done |= 1 << c
					lookup(c, w, d.hash[k])
				}
			}
		}
	} else {
		for cl := range nClass {
			for _, ws := range d.fields[cl].words {
				for _, w := range ws {
					lookup(classKeys[cl], w, maphash.String(wordSeed, w))
				}
			}
		}
	}
	if d.id != "" {
		lookup(kID, d.id, maphash.String(wordSeed, d.id))
	}
	has := func(id int32) bool { return id < 0 || s.present[id/64]&(1<<(id%64)) != 0 }
	for _, id := range s.ids {
		for _, p := range x.post[id] {
			if has(p.also[0]) && has(p.also[1]) {
				s.set[p.topic/64] |= 1 << (p.topic % 64)
			}
		}
	}
}

// done readies s for the next Doc: it clears the present keys and the
// memo.
func (s *scratch) done() {
	for _, id := range s.ids {
		s.present[id/64] = 0
	}
	s.ids = s.ids[:0]
	s.memo.reset()
}

// wordTable maps words to key ids. It is an open-addressing table on the
// words' hashes, so that the hashes a Doc computes once for its own word
// index serve every lookup of the Router too. A slot holds a word of up to
// inlineWord bytes itself, so that checking a found word reads no other
// memory; longer words are kept aside.
type wordTable struct {
	slots []wordSlot // a power of two, at most half full
	n     int
	long  map[int32]string // by id: words longer than inlineWord
}

const inlineWord = 19

type wordSlot struct {
	hash uint64
	id   int32 // key id plus one; 0 when free
	n    uint8 // length of the word, or inlineWord+1 when it is in long
	b    [inlineWord]byte
}

// word returns the word of slot e.
func (t *wordTable) word(e *wordSlot) string {
	if e.n > inlineWord {
		return t.long[e.id-1]
	}
	return string(e.b[:e.n])
}

// get returns the id of w, whose hash is h.
func (t *wordTable) get(w string, h uint64) (int32, bool) {
	if t.n == 0 {
		return 0, false
	}
	m := uint64(len(t.slots) - 1)
	for i := h & m; ; i = (i + 1) & m {
		e := &t.slots[i]
		if e.id == 0 {
			return 0, false
		}
		if e.hash != h {
			continue
		}
		if len(w) <= inlineWord {
			if int(e.n) == len(w) && string(e.b[:e.n]) == w {
				return e.id - 1, true
			}
		} else if e.n > inlineWord && t.long[e.id-1] == w {
			return e.id - 1, true
		}
	}
}

// put adds w, whose hash is h and which t does not have, as id.
func (t *wordTable) put(w string, h uint64, id int32) {
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		t.slots = make([]wordSlot, max(16, 2*len(old)))
		t.n = 0
		for i := range old {
			if e := &old[i]; e.id != 0 {
				t.put(t.word(e), e.hash, e.id-1)
			}
		}
	}
	m := uint64(len(t.slots) - 1)
	i := h & m
	for t.slots[i].id != 0 {
		i = (i + 1) & m
	}
	e := wordSlot{hash: h, id: id + 1}
	if len(w) <= inlineWord {
		e.n = uint8(copy(e.b[:], w))
	} else {
		e.n = inlineWord + 1
		if t.long == nil {
			t.long = map[int32]string{}
		}
		t.long[id] = w
	}
	t.slots[i] = e
	t.n++
}
