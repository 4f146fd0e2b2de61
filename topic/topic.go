package topic

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/paperfeed/paperfeed/paper"
)

// Spec is one topic as configured (the config loader fills it from YAML).
type Spec struct {
	Slug, Title, Description string
	Keywords, Exclude        []string
	Query                    string // optional, in the query language
	MinUpvotes               int
	Limit                    int // used by the feed layer, not by routing
}

// Hit is one topic that takes a paper.
type Hit struct {
	Topic int      // index into the specs given to Compile
	Terms []string // matched keywords and query terms, as written, deduplicated, in config order
}

// Match is one term found in one field of a paper, for Explain.
type Match struct {
	Term  string // the keyword or query term as written
	Field string // title, abstract, author, category, source, id, upvotes, comments, stars
	// Against is true when the match counts against the topic: an exclude
	// keyword, or a query term under NOT.
	Against bool
}

// compiled is one topic ready to evaluate.
type compiled struct {
	keywords []*node
	exclude  []*node
	query    *node // nil without a query
	min      int
}

// Router routes papers into compiled topics. It is immutable and safe for
// concurrent use.
type Router struct {
	topics []compiled
	code   []instr  // the programs of the topics (see prog.go)
	start  []int32  // by topic: where its program starts in code, or -1
	min    []int    // by topic: min_upvotes
	raws   []string // terms as written, numbered for instr.raw
	nums   []*node  // the number comparisons of the programs, for instr.ref
	idx    index
	terms  int       // distinct leaf terms, numbered from 1 in node.tid
	pool   sync.Pool // *scratch
}

// Compile compiles every topic once and indexes them. Errors name the topic
// by slug (Slug is used for nothing else; duplicate slugs are the config
// loader's concern); query errors are a *QueryError.
func Compile(specs []Spec) (*Router, error) {
	r := &Router{topics: make([]compiled, len(specs))}
	for i, s := range specs {
		c, err := compileSpec(s)
		if err != nil {
			return nil, err
		}
		r.topics[i] = c
	}
	terms := numberTerms(r.topics)
	r.terms = len(terms) - 1
	r.idx = buildIndex(r.topics, terms)
	r.start = make([]int32, len(r.topics))
	r.min = make([]int, len(r.topics))
	var raws rawTable
	for i := range r.topics {
		r.code, r.start[i] = program(r.code, &r.topics[i], r.idx.info, &raws, &r.nums)
		r.min[i] = r.topics[i].min
	}
	r.raws = raws.raws
	r.code = slices.Clip(r.code)
	words, keys := (len(specs)+63)/64, (len(r.idx.post)+63)/64
	r.pool.New = func() any {
		s := &scratch{set: make([]uint64, words), present: make([]uint64, keys)}
		s.memo = memo{known: make([]uint8, len(terms)), info: r.idx.info, present: s.present, terms: terms, nums: r.nums}
		return s
	}
	return r, nil
}

func compileSpec(s Spec) (compiled, error) {
	c := compiled{min: s.MinUpvotes}
	kw := func(k, what string) (*node, error) {
		n, qerr := newTerm(fText, k, 0)
		if qerr != nil {
			return nil, fmt.Errorf("topic %q: %s %q has no words (letters or digits)", s.Slug, what, k)
		}
		return n, nil
	}
	for _, k := range s.Keywords {
		n, err := kw(k, "keyword")
		if err != nil {
			return c, err
		}
		c.keywords = append(c.keywords, n)
	}
	for _, k := range s.Exclude {
		n, err := kw(k, "exclude keyword")
		if err != nil {
			return c, err
		}
		c.exclude = append(c.exclude, n)
	}
	if s.Query != "" {
		q, qerr := parseQuery(s.Query)
		if qerr != nil {
			qerr.Slug = s.Slug
			return c, qerr
		}
		c.query = q.root
	}
	return c, nil
}

// Route returns the topics that take p, in spec order, each with its matched
// terms. It evaluates only the topics the index says can match.
func (r *Router) Route(p *paper.Paper) []Hit {
	d := docs.Get().(*Doc)
	d.fill(p)
	hits := r.RouteDoc(d)
	d.p = nil
	docs.Put(d)
	return hits
}

// RouteDoc is Route over a Doc already built.
//
// Many topics share terms, so a term's result is worked out once per Doc
// (scratch.memo), and the Terms of all hits share one array.
func (r *Router) RouteDoc(d *Doc) []Hit {
	s := r.pool.Get().(*scratch)
	r.idx.candidates(d, s)
	m := &s.memo
	tops := s.tops[:0]
	tids := s.tids[:0]
	ends := s.ends[:0]
	for w, bitsw := range s.set {
		for bitsw != 0 {
			b := bits.TrailingZeros64(bitsw)
			bitsw &^= 1 << b
			i := w*64 + b
			if d.p.Upvotes >= r.min[i] && (r.start[i] < 0 || run(r.code, r.start[i], d, m)) {
				tops = append(tops, int32(i))
				if r.start[i] >= 0 {
					tids = appendTerms(tids, r.code, r.start[i], d, m)
				}
				ends = append(ends, len(tids))
			}
		}
	}
	// The hits and their terms are made once, at their size.
	var hits []Hit
	if len(tops) > 0 {
		hits = make([]Hit, len(tops))
	}
	terms := make([]string, len(tids))
	for k, t := range tids {
		terms[k] = r.raws[t]
	}
	start := 0
	for i, end := range ends {
		hits[i].Topic = int(tops[i])
		if end > start {
			hits[i].Terms = terms[start:end:end]
		}
		start = end
	}
	s.tops = tops
	s.tids = tids
	s.ends = ends
	s.done()
	r.pool.Put(s)
	return hits
}

// RoutePlain is Route without the index: it evaluates every topic in turn.
// It is the baseline of the benchmarks and the oracle of the tests.
func (r *Router) RoutePlain(p *paper.Paper) []Hit {
	d := docs.Get().(*Doc)
	d.fill(p)
	var hits []Hit
	for i := range r.topics {
		if r.topics[i].eval(d) {
			hits = append(hits, Hit{Topic: i, Terms: r.topics[i].appendTerms(nil, d)})
		}
	}
	d.p = nil
	docs.Put(d)
	return hits
}

// Explain tells whether topic takes p and lists every term found in p, in
// which field; matches that count against the topic are marked Against. An
// index out of range gives false and no matches.
func (r *Router) Explain(topic int, p *paper.Paper) (ok bool, matches []Match) {
	if topic < 0 || topic >= len(r.topics) {
		return false, nil
	}
	c := &r.topics[topic]
	d := NewDoc(p)
	for _, k := range c.keywords {
		for _, f := range k.fieldsMatched(d) {
			matches = append(matches, Match{Term: k.raw, Field: f})
		}
	}
	for _, k := range c.exclude {
		for _, f := range k.fieldsMatched(d) {
			matches = append(matches, Match{Term: k.raw, Field: f, Against: true})
		}
	}
	if c.query != nil {
		c.query.explain(d, false, &matches)
	}
	if c.min > 0 && p.Upvotes >= c.min {
		matches = append(matches, Match{Term: fmt.Sprintf("min_upvotes %d", c.min), Field: "upvotes"})
	}
	return c.eval(d), matches
}

// eval reports whether the topic takes the paper, walking its nodes: the
// plain evaluation (RoutePlain, Explain) that the programs are held to.
func (c *compiled) eval(d *Doc) bool {
	if d.p.Upvotes < c.min {
		return false
	}
	if len(c.keywords) > 0 {
		any := false
		for _, k := range c.keywords {
			if k.eval(d) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	for _, k := range c.exclude {
		if k.eval(d) {
			return false
		}
	}
	return c.query == nil || c.query.eval(d)
}

// appendTerms appends to out the matched keywords, then the matched query
// terms not under NOT, as written and deduplicated.
func (c *compiled) appendTerms(out []string, d *Doc) []string {
	start := len(out)
	for _, k := range c.keywords {
		if k.eval(d) {
			out = addTerm(out, start, k.raw)
		}
	}
	if c.query != nil {
		out = c.query.positive(out, start, d)
	}
	return out
}

// addTerm appends t to out unless out[start:] has it.
func addTerm(out []string, start int, t string) []string {
	if slices.Contains(out[start:], t) {
		return out
	}
	return append(out, t)
}

// positive appends to out every text or regex term outside NOT that
// matches d, unless out[start:] has it.
func (n *node) positive(out []string, start int, d *Doc) []string {
	switch n.kind {
	case nAnd, nOr:
		for _, k := range n.kids {
			out = k.positive(out, start, d)
		}
	case nNot, nNum:
	default:
		if n.eval(d) {
			out = addTerm(out, start, n.raw)
		}
	}
	return out
}

func (n *node) explain(d *Doc, against bool, out *[]Match) {
	switch n.kind {
	case nAnd, nOr:
		for _, k := range n.kids {
			k.explain(d, against, out)
		}
	case nNot:
		n.kids[0].explain(d, !against, out)
	default:
		for _, f := range n.fieldsMatched(d) {
			*out = append(*out, Match{Term: n.raw, Field: f, Against: against})
		}
	}
}

// eval reports whether the query node holds for d.
func (n *node) eval(d *Doc) bool { return n.evalm(d, nil) }

// evalm is eval remembering the results of terms in m, unless m is nil.
func (n *node) evalm(d *Doc, m *memo) bool {
	switch n.kind {
	case nAnd:
		for _, k := range n.kids {
			if !k.evalm(d, m) {
				return false
			}
		}
		return true
	case nOr:
		for _, k := range n.kids {
			if k.evalm(d, m) {
				return true
			}
		}
		return false
	case nNot:
		return !n.kids[0].evalm(d, m)
	case nNum:
		return n.compare(d)
	}
	if m == nil || n.tid == 0 {
		return n.leaf(d)
	}
	t := &m.info[n.tid]
	if t.decide >= 0 {
		return m.has(t.decide)
	}
	switch m.known[n.tid] {
	case memoFalse:
		return false
	case memoTrue:
		return true
	}
	ok := m.has(t.need[0]) && m.has(t.need[1]) && m.has(t.need[2]) && n.leaf(d)
	m.known[n.tid] = memoFalse
	if ok {
		m.known[n.tid] = memoTrue
	}
	m.set = append(m.set, n.tid)
	return ok
}

// leaf reports whether a term or regex matches d.
func (n *node) leaf(d *Doc) bool {
	if n.field == fText {
		return n.evalClass(d, clTitle) || n.evalClass(d, clAbstract)
	}
	if n.field == fID {
		if n.kind == nRegex {
			return n.re.MatchString(d.id)
		}
		if n.prefix {
			return strings.HasPrefix(d.id, n.id)
		}
		return d.id == n.id
	}
	return n.evalClass(d, n.field.class())
}

// evalClass reports whether a term or regex matches a value of one field.
func (n *node) evalClass(d *Doc, cl int) bool {
	v := &d.fields[cl]
	if n.kind == nRegex {
		for _, t := range v.texts {
			if (n.lit == "" || strings.Contains(t, n.lit)) && n.re.MatchString(t) {
				return true
			}
		}
		return false
	}
	return d.match(cl, n.words, n.prefix)
}

func (n *node) compare(d *Doc) bool { return compare(d, n.field, n.op, n.n) }

// compare reports whether the number field f of d compares with n by op.
func compare(d *Doc, f field, op cmpOp, n int) bool {
	var v int
	switch f {
	case fUpvotes:
		v = d.p.Upvotes
	case fComments:
		v = d.p.Comments
	case fStars:
		v = d.p.GitHubStars
	}
	switch op {
	case opGt:
		return v > n
	case opGe:
		return v >= n
	case opLt:
		return v < n
	case opLe:
		return v <= n
	}
	return v == n
}

var classNames = [nClass]string{"title", "abstract", "author", "category", "source"}

// fieldsMatched lists the fields of d where a leaf (term, regex, number)
// matches.
func (n *node) fieldsMatched(d *Doc) []string {
	switch n.kind {
	case nNum:
		if n.compare(d) {
			return []string{n.field.name()}
		}
		return nil
	}
	switch n.field {
	case fText:
		var out []string
		for _, cl := range []int{clTitle, clAbstract} {
			if n.evalClass(d, cl) {
				out = append(out, classNames[cl])
			}
		}
		return out
	case fID:
		if n.eval(d) {
			return []string{"id"}
		}
		return nil
	}
	if n.evalClass(d, n.field.class()) {
		return []string{classNames[n.field.class()]}
	}
	return nil
}

// memo holds the results of the terms of a Router for one Doc.
type memo struct {
	known   []uint8    // by node.tid: memoUnknown, memoFalse or memoTrue
	set     []int32    // the tids known, to reset
	info    []termInfo // the Router's, by node.tid
	terms   []*node    // the Router's leaf terms, by node.tid
	nums    []*node    // the Router's number comparisons, by instr.ref
	present []uint64   // the keys the Doc contains (scratch.present)
}

// has reports whether the Doc contains key id; -1 is always there.
func (m *memo) has(id int32) bool {
	return id < 0 || m.present[id/64]&(1<<(id%64)) != 0
}

const (
	memoUnknown = iota
	memoFalse
	memoTrue
)

func (m *memo) reset() {
	for _, t := range m.set {
		m.known[t] = memoUnknown
	}
	m.set = m.set[:0]
}

// termKey identifies a leaf term by what it matches.
type termKey struct {
	kind   nodeKind
	field  field
	text   string // the words joined by spaces, the id, or the regex
	prefix bool
}

// numberTerms gives every term and regex of the topics a tid, the same for
// terms that match the same, and returns one node of each by tid (nil at 0).
func numberTerms(topics []compiled) []*node {
	ids := map[termKey]int32{}
	byID := []*node{nil}
	var walk func(n *node)
	walk = func(n *node) {
		switch n.kind {
		case nAnd, nOr, nNot:
			for _, k := range n.kids {
				walk(k)
			}
			return
		case nNum:
			return
		}
		k := termKey{kind: n.kind, field: n.field, prefix: n.prefix}
		switch {
		case n.kind == nRegex:
			k.text = n.src
		case n.field == fID:
			k.text = n.id
		default:
			k.text = strings.Join(n.words, " ")
		}
		id, ok := ids[k]
		if !ok {
			id = int32(len(byID))
			ids[k] = id
			byID = append(byID, n)
		}
		n.tid = id
	}
	for i := range topics {
		c := &topics[i]
		for _, k := range c.keywords {
			walk(k)
		}
		for _, k := range c.exclude {
			walk(k)
		}
		if c.query != nil {
			walk(c.query)
		}
	}
	return byID
}
