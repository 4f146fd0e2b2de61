package topic

// The indexed router evaluates a candidate topic as a program: its nodes
// flattened in prefix order into one array of the Router (code), each leaf
// carrying what the index knows of it (termInfo), so that evaluating a
// topic reads a few consecutive cache lines instead of chasing the
// pointers of its node tree. RoutePlain and Explain keep evaluating the
// nodes; the property tests hold the two to the same answers.

// instr is one step of a program.
type instr struct {
	kind   nodeKind
	pos    bool           // leaf outside every NOT: its match is one of the hit's terms
	end    int32          // the index after this step and its operands
	decide int32          // leaf: termInfo.decide
	need   [maxKeys]int32 // leaf: termInfo.need
	node   *node          // leaf and nNum: evaluated when the keys do not decide
}

// program appends the program of topic c to code and returns its start,
// or -1 when the topic takes every paper (no keywords, exclude or query).
func program(code []instr, c *compiled, info []termInfo) ([]instr, int32) {
	var parts []func()
	emitAll := func(kind nodeKind, ns []*node, pos bool) {
		start := len(code)
		code = append(code, instr{kind: kind})
		for _, n := range ns {
			code = emit(code, n, info, pos)
		}
		code[start].end = int32(len(code))
	}
	if len(c.keywords) == 1 {
		parts = append(parts, func() { code = emit(code, c.keywords[0], info, true) })
	} else if len(c.keywords) > 1 {
		parts = append(parts, func() { emitAll(nOr, c.keywords, true) })
	}
	for _, k := range c.exclude {
		parts = append(parts, func() { emitAll(nNot, []*node{k}, false) })
	}
	if c.query != nil {
		parts = append(parts, func() { code = emit(code, c.query, info, true) })
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
func emit(code []instr, n *node, info []termInfo, pos bool) []instr {
	start := len(code)
	in := instr{kind: n.kind, decide: -1, need: [maxKeys]int32{-1, -1, -1}}
	switch n.kind {
	case nAnd, nOr, nNot:
		code = append(code, in)
		for _, k := range n.kids {
			code = emit(code, k, info, pos && n.kind != nNot)
		}
		code[start].end = int32(len(code))
		return code
	case nNum:
		in.node = n
	default:
		in.node, in.pos = n, pos
		if n.tid > 0 {
			in.decide, in.need = info[n.tid].decide, info[n.tid].need
		}
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
		return in.node.compare(d)
	}
	return in.leaf(d, m)
}

// leaf evaluates a leaf step.
func (in *instr) leaf(d *Doc, m *memo) bool {
	if in.decide >= 0 {
		return m.has(in.decide)
	}
	if !m.has(in.need[0]) || !m.has(in.need[1]) || !m.has(in.need[2]) {
		return false
	}
	return in.node.evalm(d, m)
}

// appendTerms appends to out the terms of the program at code[i] that are
// outside every NOT and match d, each once, in program order: what
// compiled.appendTerms gives, without walking the nodes.
func appendTerms(out []string, code []instr, i int32, d *Doc, m *memo) []string {
	start := len(out)
	for j := i; j < code[i].end; j++ {
		if in := &code[j]; in.pos && in.leaf(d, m) {
			out = addTerm(out, start, in.node.raw)
		}
	}
	return out
}
