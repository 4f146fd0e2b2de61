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
// it accepts prints to a canonical form that is a fixed point and takes the
// same papers, and that Route agrees with Take.
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
		// The query and its String as topics, alone and with a keyword
		// and an exclude.
		r, err := Compile([]Spec{{Slug: "q", Query: s}, {Slug: "s", Query: s1},
			{Slug: "k", Keywords: []string{"filter"}, Exclude: []string{"c"}, Query: s},
			{Slug: "ks", Keywords: []string{"filter"}, Exclude: []string{"c"}, Query: s1}})
		if err != nil {
			t.Fatalf("Compile(%q): %v", s, err)
		}
		for i := range fuzzPapers {
			p := &fuzzPapers[i]
			for _, pair := range [][2]int{{0, 1}, {2, 3}} {
				a, _ := r.Take(pair[0], p)
				b, _ := r.Take(pair[1], p)
				if a != b {
					t.Fatalf("paper %d: topic %d of query %q takes it: %v; of its String %q: %v", i, pair[0], s, a, s1, b)
				}
			}
			checkTake(t, r, p)
		}
	})
}

// FuzzKeyword checks that any word of a text, taken as a keyword, matches
// that text, and that Route agrees with Take.
func FuzzKeyword(f *testing.F) {
	f.Add("Score-matching for ﬁlters", 1)
	f.Add("naïve ＤＩＦＦＵＳＩＯＮ", 0)
	f.Fuzz(func(t *testing.T, text string, i int) {
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
		if len(checkTake(t, r, p)) != 1 {
			t.Fatalf("keyword %q does not match its own text %q", kw, text)
		}
	})
}
