package topic

import (
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

var fuzzPapers = []paper.Paper{
	samplePaper,
	{},
	{ID: "2601.00001", Title: "ＡＢＣ ﬁlter naïve", Abstract: "a-b c", Authors: []string{"a b", "c"}, Categories: []string{"cs.RO"}, Upvotes: 3},
}

// FuzzParseQuery checks that the parser never panics and that every query
// it accepts prints to a canonical form that is a fixed point and matches
// the same papers.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"diffusion AND (guidance OR sampler*) -video",
		`author:"Yann LeCun" OR author:hinton`,
		`title:"large language model*" upvotes:>=5`,
		"category:cs.RO OR robot*",
		`title:/x\/y\\/ id:2507.* NOT (a b)`,
		"upvotes:>-1 comments:=0 stars:<3",
		`id:"a b" title:(-x OR "y z")`,
		"titel:x", "(a", "a)", `"a`, "/a", "a AND", "", "ＤＩＦＦＵＳＩＯＮ", "x\u0308 ǰ ẞ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			if _, ok := err.(*QueryError); !ok {
				t.Fatalf("ParseQuery(%q) error %T, want *QueryError", s, err)
			}
			return
		}
		s1 := q.String()
		q2, err := ParseQuery(s1)
		if err != nil {
			t.Fatalf("ParseQuery(%q).String() = %q does not parse: %v", s, s1, err)
		}
		if s2 := q2.String(); s2 != s1 {
			t.Fatalf("String of %q = %q, then %q: not a fixed point", s, s1, s2)
		}
		// The index and the programs must agree with the nodes: the
		// query and its String as topics, with a keyword and an exclude.
		r, err := Compile([]Spec{{Slug: "q", Query: s}, {Slug: "s", Query: s1},
			{Slug: "k", Keywords: []string{"filter"}, Exclude: []string{"c"}, Query: s}})
		if err != nil {
			t.Fatalf("Compile(%q): %v", s, err)
		}
		for i := range fuzzPapers {
			d := NewDoc(&fuzzPapers[i])
			if a, b := q.root.eval(d), q2.root.eval(d); a != b {
				t.Fatalf("query %q = %v, its String %q = %v on paper %d", s, a, s1, b, i)
			}
			if got, want := r.Route(&fuzzPapers[i]), r.RoutePlain(&fuzzPapers[i]); !hitsEqual(got, want) {
				t.Fatalf("query %q, paper %d: Route = %v, RoutePlain = %v", s, i, got, want)
			}
		}
	})
}

// FuzzKeyword checks that any word of a text, taken as a keyword, matches
// that text, and that Route agrees with RoutePlain.
func FuzzKeyword(f *testing.F) {
	f.Add("Score-matching for ﬁlters", 1)
	f.Add("naïve ＤＩＦＦＵＳＩＯＮ", 0)
	f.Fuzz(func(t *testing.T, text string, i int) {
		if got, want := normalize(text), normalizeSlow(text); got != want {
			t.Fatalf("normalize(%q) = %q, normalizeSlow = %q", text, got, want)
		}
		words := splitWords(normalize(text))
		if len(words) == 0 {
			return
		}
		if i < 0 {
			i = -i
		}
		kw := words[i%len(words)]
		r, err := Compile([]Spec{{Slug: "f", Keywords: []string{kw}}})
		if err != nil {
			t.Fatalf("keyword %q from %q: %v", kw, text, err)
		}
		p := &paper.Paper{Abstract: text}
		got, want := r.Route(p), r.RoutePlain(p)
		if !hitsEqual(got, want) {
			t.Fatalf("Route = %v, RoutePlain = %v", got, want)
		}
		if len(got) != 1 {
			t.Fatalf("keyword %q does not match its own text %q", kw, text)
		}
	})
}
