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
	exact    [nKey]map[string]int32 // word -> key id
	prefix   [nKey]map[string]int32 // prefix -> key id
	preMin   [nKey]int              // shortest and longest prefix, in bytes
	preMax   [nKey]int
	preHead  [nKey][]uint64 // bitset of hashes of the first preMin bytes of prefixes
	post     [][]posting    // by key id
	fallback []uint64       // bitset of topics evaluated always
}

func buildIndex(topics []compiled) index {
	var x index
	for c := range nKey {
		x.exact[c] = map[string]int32{}
		x.prefix[c] = map[string]int32{}
	}
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
	// Most words start no prefix key: one bit tells, where trying every
	// prefix length would take a map lookup each.
	for c := range nKey {
		if len(x.prefix[c]) == 0 {
			continue
		}
		x.preHead[c] = make([]uint64, preHeadBits/64)
		for p := range x.prefix[c] {
			h := preHash(p[:x.preMin[c]])
			x.preHead[c][h/64] |= 1 << (h % 64)
		}
	}
	return x
}

// preHeadBits is the size of index.preHead: a few times more bits than a
// class has distinct prefix heads, so that few words are let through in
// vain.
const preHeadBits = 1 << 17

func preHash(s string) uint64 { return maphash.String(wordSeed, s) % preHeadBits }

// id returns the id of k, adding it.
func (x *index) id(k key) int32 {
	m := x.exact[k.class]
	if k.prefix {
		m = x.prefix[k.class]
	}
	if id, ok := m[k.word]; ok {
		return id
	}
	id := int32(len(x.post))
	m[k.word] = id
	x.post = append(x.post, nil)
	if k.prefix {
		n := len(k.word)
		if x.preMin[k.class] == 0 || n < x.preMin[k.class] {
			x.preMin[k.class] = n
		}
		x.preMax[k.class] = max(x.preMax[k.class], n)
	}
	return id
}

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
	ends    []int    // end of each hit's terms
}

// classKeys maps Doc classes to index key classes.
var classKeys = [nClass]int{clTitle: kText, clAbstract: kText, clAuthor: kAuthor, clCategory: kCategory, clSource: kSource}

// candidates sets in s.set the topics that may take d.
func (x *index) candidates(d *Doc, s *scratch) {
	copy(s.set, x.fallback)
	s.ids = s.ids[:0]
	mark := func(id int32) {
		if s.present[id/64]&(1<<(id%64)) == 0 {
			s.present[id/64] |= 1 << (id % 64)
			s.ids = append(s.ids, id)
		}
	}
	lookup := func(c int, w string) {
		if id, ok := x.exact[c][w]; ok {
			mark(id)
		}
		n := x.preMin[c]
		if n == 0 || n > len(w) {
			return
		}
		if h := preHash(w[:n]); x.preHead[c][h/64]&(1<<(h%64)) == 0 {
			return
		}
		for ; n <= x.preMax[c] && n <= len(w); n++ {
			if id, ok := x.prefix[c][w[:n]]; ok {
				mark(id)
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
					lookup(c, w)
				}
			}
		}
	} else {
		for cl := range nClass {
			for _, ws := range d.fields[cl].words {
				for _, w := range ws {
					lookup(classKeys[cl], w)
				}
			}
		}
	}
	if d.id != "" {
		lookup(kID, d.id)
	}
	has := func(id int32) bool { return id < 0 || s.present[id/64]&(1<<(id%64)) != 0 }
	for _, id := range s.ids {
		for _, p := range x.post[id] {
			if has(p.also[0]) && has(p.also[1]) {
				s.set[p.topic/64] |= 1 << (p.topic % 64)
			}
		}
	}
	for _, id := range s.ids {
		s.present[id/64] = 0
	}
}
