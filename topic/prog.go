package topic

import "slices"

// The indexed router evaluates a candidate topic as a program: its nodes
// flattened in prefix order into one array of the Router (code), each leaf
// carrying what the index knows of it (termInfo), so that evaluating a
// topic reads a few consecutive cache lines instead of chasing the
// pointers of its node tree. RoutePlain and Explain keep evaluating the
// nodes; the property tests hold the two to the same answers.

// instr is one step of a program, 20 bytes: most topics fit in two cache
// lines.
type instr struct {
	kind   nodeKind
	pos    bool  // leaf outside every NOT: its match is one of the hit's terms
	end    int32 // the index after this step and its operands
	raw    int32 // leaf: the term as written, by number in Router.raws
	decide int32 // leaf: termInfo.decide
	ref    int32 // leaf: its node.tid (memo.terms); nNum: its number in memo.nums, or -1
	// when raw holds the number and decide the field<<8 | the comparison
}

// program appends the program of topic c to code and returns its start,
// or -1 when the topic takes every paper (no keywords, exclude or query).
func program(code []instr, c *compiled, info []termInfo, raws *rawTable, nums *[]*node) ([]instr, int32) {
	var parts []func()
	emitAll := func(kind nodeKind, ns []*node, pos bool) {
		start := len(code)
		code = append(code, instr{kind: kind})
		for _, n := range ns {
			code = emit(code, n, info, raws, nums, pos)
		}
		code[start].end = int32(len(code))
	}
	if len(c.keywords) == 1 {
		parts = append(parts, func() { code = emit(code, c.keywords[0], info, raws, nums, true) })
	} else if len(c.keywords) > 1 {
		parts = append(parts, func() { emitAll(nOr, c.keywords, true) })
	}
	for _, k := range c.exclude {
		parts = append(parts, func() { emitAll(nNot, []*node{k}, false) })
	}
	if c.query != nil {
		parts = append(parts, func() { code = emit(code, c.query, info, raws, nums, true) })
	}
	start := int32(len(code))
	switch len(parts) {
	case 0:
		return code, -1
	case 1:
		parts[0]()
	default:
		code = append(code, instr{kind: nAnd})
		for _, p := range parts {
			p()
		}
		code[start].end = int32(len(code))
	}
	return code, start
}

// emit appends the program of node n; pos is false under a NOT.
func emit(code []instr, n *node, info []termInfo, raws *rawTable, nums *[]*node, pos bool) []instr {
	start := len(code)
	in := instr{kind: n.kind, decide: -1}
	switch n.kind {
	case nAnd, nOr, nNot:
		code = append(code, in)
		for _, k := range n.kids {
			code = emit(code, k, info, raws, nums, pos && n.kind != nNot)
		}
		code[start].end = int32(len(code))
		return code
	case nNum:
		if int(int32(n.n)) == n.n { // the usual case: compared without the node
			in.ref, in.raw, in.decide = -1, int32(n.n), int32(n.field)<<8|int32(n.op)
		} else {
			in.ref = int32(len(*nums))
			*nums = append(*nums, n)
		}
	default:
		in.pos, in.raw, in.ref = pos, raws.id(n.raw), n.tid
		in.decide = info[n.tid].decide
	}
	in.end = int32(start + 1)
	return append(code, in)
}

// run evaluates the program at code[i] on the Doc whose keys and term
// results m holds.
func run(code []instr, i int32, d *Doc, m *memo) bool {
	in := &code[i]
	switch in.kind {
	case nAnd:
		for j := i + 1; j < in.end; j = code[j].end {
			if !run(code, j, d, m) {
				return false
			}
		}
		return true
	case nOr:
		for j := i + 1; j < in.end; j = code[j].end {
			if run(code, j, d, m) {
				return true
			}
		}
		return false
	case nNot:
		return !run(code, i+1, d, m)
	case nNum:
		if in.ref < 0 {
			return compare(d, field(in.decide>>8), cmpOp(in.decide&0xff), int(in.raw))
		}
		return m.nums[in.ref].compare(d)
	}
	return in.leaf(d, m)
}

// leaf evaluates a leaf step.
func (in *instr) leaf(d *Doc, m *memo) bool {
	if in.decide >= 0 {
		return m.has(in.decide)
	}
	// A term already worked out for this Doc costs one byte read, and one
	// whose words are missing its termInfo: only the rest read its node,
	// which is far away in memory.
	switch m.known[in.ref] {
	case memoFalse:
		return false
	case memoTrue:
		return true
	}
	if t := &m.info[in.ref]; !m.has(t.need[0]) || !m.has(t.need[1]) || !m.has(t.need[2]) {
		return false
	}
	return m.terms[in.ref].evalm(d, m)
}

// appendTerms appends to out the terms of the program at code[i] that are
// outside every NOT and match d, each once, in program order, as numbers in
// Router.raws: what compiled.appendTerms gives, without walking the nodes.
func appendTerms(out []int32, code []instr, i int32, d *Doc, m *memo) []int32 {
	start := len(out)
	for j := i; j < code[i].end; j++ {
		if in := &code[j]; in.pos && in.leaf(d, m) && !slices.Contains(out[start:], in.raw) {
			out = append(out, in.raw)
		}
	}
	return out
}

// rawTable numbers the terms as written, the same number for the same text.
type rawTable struct {
	ids  map[string]int32
	raws []string
}

func (t *rawTable) id(raw string) int32 {
	id, ok := t.ids[raw]
	if !ok {
		if t.ids == nil {
			t.ids = map[string]int32{}
		}
		id = int32(len(t.raws))
		t.ids[raw] = id
		t.raws = append(t.raws, raw)
	}
	return id
}
