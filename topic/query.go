package topic

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// field is what a term searches.
type field uint8

const (
	fText     field = iota // title and abstract, each on its own
	fTitle                 // title:
	fAbstract              // abstract:
	fAuthor                // author:
	fCategory              // category:
	fSource                // source:
	fID                    // id:
	fUpvotes               // upvotes:
	fComments              // comments:
	fStars                 // stars:
)

// fieldNames are the names a query can use, in the order suggestions and
// messages list them.
var fieldNames = []string{"title", "abstract", "author", "category", "source", "id", "upvotes", "comments", "stars"}

// name is the field's name in queries; fText has none and never asks.
func (f field) name() string { return fieldNames[f-1] }

func (f field) numeric() bool { return f >= fUpvotes }

// class is the Doc field class a single-class text field (title,
// abstract, author, category, source) reads.
func (f field) class() int { return int(f-fTitle) + clTitle }

// QueryError is a query that does not parse. Col is the 1-based column, in
// runes, where the problem starts.
type QueryError struct {
	Slug  string
	Query string
	Col   int
	Msg   string
}

// Error is one line, for logs: the topic (when known), the message, the
// column and the query, quoted. Caret draws the column for a terminal.
func (e *QueryError) Error() string {
	msg := fmt.Sprintf("query: %s at column %d in %q", e.Msg, e.Col, e.Query)
	if e.Slug == "" {
		return msg
	}
	return fmt.Sprintf("topic %q: %s", e.Slug, msg)
}

// Caret draws the query and a caret under the column on two lines, each
// indented by two spaces, without a final newline: for a terminal, under
// the one-line Error. Tabs and newlines in the query print as spaces so
// that the caret stays under its rune.
func (e *QueryError) Caret() string {
	q := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, e.Query)
	return fmt.Sprintf("  %s\n  %s^", q, strings.Repeat(" ", max(e.Col-1, 0)))
}

type nodeKind uint8

const (
	nTerm  nodeKind = iota // words, or an id
	nRegex                 // /re/
	nNum                   // upvotes:>=10
	nAnd
	nOr
	nNot
)

type cmpOp uint8

const (
	opEq cmpOp = iota
	opGt
	opGe
	opLt
	opLe
)

var opText = [...]string{opEq: "=", opGt: ">", opGe: ">=", opLt: "<", opLe: "<="}

// node is one node of a compiled query: an operator with its operands, or
// a leaf (a term, a regex, a number comparison).
type node struct {
	kind  nodeKind
	field field
	kids  []*node // nAnd, nOr, nNot

	raw    string   // the term as written, without field and quotes
	words  []string // nTerm outside id:
	id     string   // nTerm in id:, lower-cased, without the trailing *
	prefix bool     // nTerm: the last word (or the id) is a prefix

	src string // nRegex: the pattern as written, slashes unescaped
	re  *regexp.Regexp
	lit string // nRegex: text every match contains, or ""; see requiredLiteral

	op cmpOp // nNum
	n  int   // nNum
}

// Query is a compiled query.
type Query struct{ root *node }

// String prints q in canonical form: explicit AND, OR and NOT, the field
// on every term, normalised words, and parentheses only where needed. It
// parses back to a query with the same String and the same matches.
func (q *Query) String() string {
	var b strings.Builder
	q.root.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	switch n.kind {
	case nAnd, nOr:
		sep := " AND "
		if n.kind == nOr {
			sep = " OR "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			paren := n.kind == nAnd && k.kind == nOr
			if paren {
				b.WriteByte('(')
			}
			k.write(b)
			if paren {
				b.WriteByte(')')
			}
		}
	case nNot:
		b.WriteString("NOT ")
		k := n.kids[0]
		paren := k.kind == nAnd || k.kind == nOr
		if paren {
			b.WriteByte('(')
		}
		k.write(b)
		if paren {
			b.WriteByte(')')
		}
	default:
		if n.field != fText {
			b.WriteString(n.field.name())
			b.WriteByte(':')
		}
		n.writeTerm(b)
	}
}

// writeTerm prints a leaf without its field.
func (n *node) writeTerm(b *strings.Builder) {
	switch n.kind {
	case nNum:
		b.WriteString(opText[n.op])
		b.WriteString(strconv.Itoa(n.n))
	case nRegex:
		b.WriteByte('/')
		for i := 0; i < len(n.src); i++ {
			c := n.src[i]
			switch {
			case c == '\\' && i+1 < len(n.src):
				b.WriteByte(c)
				i++
				b.WriteByte(n.src[i])
			case c == '/':
				b.WriteString(`\/`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('/')
	default:
		if n.field == fID {
			s := n.id
			if n.prefix {
				s += "*"
			}
			if bareSafe(s) {
				b.WriteString(s)
			} else {
				b.WriteByte('"')
				b.WriteString(s)
				b.WriteByte('"')
			}
			return
		}
		s := strings.Join(n.words, " ")
		if n.prefix {
			s += "*"
		}
		if len(n.words) == 1 {
			b.WriteString(s)
			return
		}
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
	}
}

// bareSafe reports whether s lexes back as one bare word.
func bareSafe(s string) bool {
	if s == "" || s[0] == '-' || s[0] == '/' || s == "AND" || s == "OR" || s == "NOT" {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' || r == ':' {
			return false
		}
	}
	return true
}

// Token kinds.
type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tAnd
	tOr
	tNot
	tMinus
	tField
	tWord
	tPhrase
	tRegex
)

type token struct {
	kind tokKind
	text string // word, phrase or regex text; field name
	col  int    // 1-based, in runes
	f    field  // tField
}

// lex splits a query into tokens.
func lex(q string) ([]token, *QueryError) {
	var toks []token
	col := 1
	i := 0
	for i < len(q) {
		r, size := utf8.DecodeRuneInString(q[i:])
		start := col
		switch {
		case unicode.IsSpace(r):
			i += size
			col++
		case r == '(':
			toks = append(toks, token{kind: tLParen, col: start})
			i++
			col++
		case r == ')':
			toks = append(toks, token{kind: tRParen, col: start})
			i++
			col++
		case r == '-':
			toks = append(toks, token{kind: tMinus, col: start})
			i++
			col++
		case r == '"':
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				return nil, &QueryError{Col: start, Msg: "unterminated quote: expected a closing \""}
			}
			text := q[i+1 : i+1+end]
			toks = append(toks, token{kind: tPhrase, text: text, col: start})
			col += utf8.RuneCountInString(text) + 2
			i += end + 2
		case r == '/':
			var src strings.Builder
			j := i + 1
			closed := false
			for j < len(q) {
				c := q[j]
				if c == '\\' {
					if j+1 >= len(q) {
						break
					}
					if q[j+1] == '/' {
						src.WriteByte('/')
					} else {
						src.WriteByte('\\')
						src.WriteByte(q[j+1])
					}
					j += 2
					continue
				}
				if c == '/' {
					closed = true
					break
				}
				src.WriteByte(c)
				j++
			}
			if !closed {
				return nil, &QueryError{Col: start, Msg: "unterminated regex: expected a closing /"}
			}
			toks = append(toks, token{kind: tRegex, text: src.String(), col: start})
			col += utf8.RuneCountInString(q[i : j+1])
			i = j + 1
		default:
			j := i
			for j < len(q) {
				r, size := utf8.DecodeRuneInString(q[j:])
				if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' {
					break
				}
				j += size
			}
			word := q[i:j]
			if name, ok := fieldPrefix(word); ok {
				f, err := lookupField(name)
				if err != nil {
					err.Col = start
					return nil, err
				}
				toks = append(toks, token{kind: tField, text: name, f: f, col: start})
				n := len(name) + 1
				i += n
				col += n
				continue
			}
			k := tWord
			switch word {
			case "AND":
				k = tAnd
			case "OR":
				k = tOr
			case "NOT":
				k = tNot
			}
			toks = append(toks, token{kind: k, text: word, col: start})
			col += utf8.RuneCountInString(word)
			i = j
		}
	}
	toks = append(toks, token{kind: tEOF, col: col})
	return toks, nil
}

// fieldPrefix returns the name before the first colon of a bare word when
// that name is all ASCII letters.
func fieldPrefix(word string) (string, bool) {
	c := strings.IndexByte(word, ':')
	if c <= 0 {
		return "", false
	}
	for i := 0; i < c; i++ {
		b := word[i] | 0x20
		if b < 'a' || b > 'z' {
			return "", false
		}
	}
	return word[:c], true
}

func lookupField(name string) (field, *QueryError) {
	lower := strings.ToLower(name)
	for i, n := range fieldNames {
		if n == lower {
			return field(i + 1), nil
		}
	}
	best, bestD := "", 3
	for _, n := range fieldNames {
		if d := editDistance(lower, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return 0, &QueryError{Msg: fmt.Sprintf("unknown field %q (did you mean %s?)", name, best)}
	}
	return 0, &QueryError{Msg: fmt.Sprintf("unknown field %q (expected one of %s)", name, strings.Join(fieldNames, ", "))}
}

// editDistance is the Levenshtein distance between two ASCII strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ParseQuery compiles one query. Its errors are *QueryError without a Slug.
func ParseQuery(q string) (*Query, error) {
	query, qerr := parseQuery(q)
	if qerr != nil {
		return nil, qerr
	}
	return query, nil
}

func parseQuery(q string) (*Query, *QueryError) {
	toks, qerr := lex(q)
	if qerr != nil {
		qerr.Query = q
		return nil, qerr
	}
	p := &parser{toks: toks}
	root, qerr := p.parse()
	if qerr != nil {
		qerr.Query = q
		return nil, qerr
	}
	return &Query{root: root}, nil
}

type parser struct {
	toks  []token
	pos   int
	field field // the field a group applies to its terms
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func startsUnary(k tokKind) bool {
	switch k {
	case tNot, tMinus, tLParen, tField, tWord, tPhrase, tRegex:
		return true
	}
	return false
}

func (p *parser) parse() (*node, *QueryError) {
	if p.peek().kind == tEOF {
		return nil, &QueryError{Col: 1, Msg: "empty query"}
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tRParen {
		return nil, &QueryError{Col: t.col, Msg: `unbalanced parenthesis: unexpected ")"`}
	}
	return n, nil
}

// operandErr is the error for a token where a term was due.
func operandErr(t token, after string) *QueryError {
	switch {
	case t.kind == tRParen && after == "":
		return &QueryError{Col: t.col, Msg: `unbalanced parenthesis: unexpected ")"`}
	case after != "":
		return &QueryError{Col: t.col, Msg: "expected a term after " + after}
	}
	// Only AND and OR are left: the start of the query and "(" have
	// their own checks for the end and for ")".
	return &QueryError{Col: t.col, Msg: "expected a term before " + t.text}
}

func (p *parser) or() (*node, *QueryError) {
	first, err := p.and("")
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for p.peek().kind == tOr {
		p.next()
		k, err := p.and("OR")
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	return join(nOr, kids), nil
}

// and parses a run of unaries joined by AND or juxtaposition; after names
// the operator before it, for the error when no term follows.
func (p *parser) and(after string) (*node, *QueryError) {
	if !startsUnary(p.peek().kind) {
		return nil, operandErr(p.peek(), after)
	}
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		t := p.peek()
		if t.kind == tAnd {
			p.next()
			if !startsUnary(p.peek().kind) {
				return nil, operandErr(p.peek(), "AND")
			}
		} else if !startsUnary(t.kind) {
			break
		}
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	return join(nAnd, kids), nil
}

// join builds an n-ary node, splicing in children of the same kind.
func join(kind nodeKind, kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	var flat []*node
	for _, k := range kids {
		if k.kind == kind {
			flat = append(flat, k.kids...)
		} else {
			flat = append(flat, k)
		}
	}
	return &node{kind: kind, kids: flat}
}

func (p *parser) unary() (*node, *QueryError) {
	t := p.peek()
	if t.kind != tNot && t.kind != tMinus {
		return p.primary()
	}
	p.next()
	if !startsUnary(p.peek().kind) {
		op := "NOT"
		if t.kind == tMinus {
			op = "-"
		}
		return nil, operandErr(p.peek(), op)
	}
	k, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &node{kind: nNot, kids: []*node{k}}, nil
}

func (p *parser) primary() (*node, *QueryError) {
	t := p.next()
	switch t.kind {
	case tLParen:
		if p.peek().kind == tRParen {
			return nil, &QueryError{Col: p.peek().col, Msg: "expected a term inside parentheses"}
		}
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, &QueryError{Col: t.col, Msg: `unbalanced parenthesis: expected a closing ")"`}
		}
		p.next()
		return n, nil
	case tField:
		if t.f.numeric() {
			return p.number(t)
		}
		if !startsUnary(p.peek().kind) {
			return nil, operandErr(p.peek(), t.text+":")
		}
		saved := p.field
		p.field = t.f
		n, err := p.unary()
		p.field = saved
		return n, err
	case tRegex:
		return newRegex(p.field, t)
	default: // tWord, tPhrase
		return newTerm(p.field, t.text, t.col)
	}
}

// number parses the comparison after a numeric field.
func (p *parser) number(f token) (*node, *QueryError) {
	bad := &QueryError{Col: f.col, Msg: fmt.Sprintf("bad number comparison: expected %s: then >, >=, <, <= or = and a whole number, like %s:>=10", f.text, f.text)}
	t := p.peek()
	if t.kind != tWord {
		return nil, bad
	}
	p.next()
	s := t.text
	op := opEq
	for _, o := range []cmpOp{opGe, opLe, opGt, opLt, opEq} {
		if strings.HasPrefix(s, opText[o]) {
			op = o
			s = s[len(opText[o]):]
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' {
		return nil, bad
	}
	return &node{kind: nNum, field: f.f, op: op, n: n, raw: f.text + ":" + t.text}, nil
}

func newRegex(f field, t token) (*node, *QueryError) {
	re, err := regexp.Compile("(?i)" + t.text)
	if err != nil {
		msg := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			msg = se.Code.String() + ": `" + se.Expr + "`"
		}
		return nil, &QueryError{Col: t.col, Msg: "bad regex: " + msg}
	}
	raw := (&node{kind: nRegex, src: t.text}).termString()
	n := &node{kind: nRegex, field: f, src: t.text, re: re, raw: raw}
	if sre, err := syntax.Parse("(?i)"+t.text, syntax.Perl); err == nil {
		n.lit = requiredLiteral(sre)
	}
	return n, nil
}

// requiredLiteral returns ASCII text that every match of re contains, or
// "". A regex term is matched against normalised text, which holds no
// upper-case ASCII, no Kelvin sign and no long s (the only other runes that
// fold to ASCII letters): there, a case-insensitive ASCII literal can only
// match as its lower case, so a text without that lower case cannot match
// and evalClass skips the regex. Most field values lack the literal, and
// skipping them makes the regexes of realistic topics cost little instead
// of a third of routing (see BenchmarkRoute). The tests check the claim
// about normalised text.
func requiredLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		best, run := "", []byte(nil)
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf {
				run = run[:0]
				continue
			}
			if re.Flags&syntax.FoldCase != 0 {
				r = unicode.ToLower(r)
			}
			run = append(run, byte(r))
			if len(run) > len(best) {
				best = string(run)
			}
		}
		return best
	case syntax.OpConcat:
		best := ""
		for _, sub := range re.Sub {
			if l := requiredLiteral(sub); len(l) > len(best) {
				best = l
			}
		}
		return best
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	}
	return ""
}

func (n *node) termString() string {
	var b strings.Builder
	n.writeTerm(&b)
	return b.String()
}

// newTerm compiles a word, phrase or id term written as text at col.
func newTerm(f field, text string, col int) (*node, *QueryError) {
	if f == fID {
		id := strings.ToLower(text)
		prefix := strings.HasSuffix(id, "*")
		if prefix {
			id = id[:len(id)-1]
		}
		if id == "" {
			return nil, &QueryError{Col: col, Msg: "expected an arXiv id after id:"}
		}
		return &node{kind: nTerm, field: f, id: id, prefix: prefix, raw: text}, nil
	}
	norm := normalize(text)
	words := splitWords(norm)
	if len(words) == 0 {
		return nil, &QueryError{Col: col, Msg: fmt.Sprintf("expected a term with letters or digits, got %q", text)}
	}
	return &node{kind: nTerm, field: f, words: words, prefix: strings.HasSuffix(norm, "*"), raw: text}, nil
}
