package topic

import (
	"math/rand/v2"
	"reflect"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"

	"github.com/paperfeed/paperfeed/paper"
)

// normalizeCases are texts where normalisation does more than lower-case:
// each is checked with the fast path of appendNormalize against
// normalizeSlow, alone and inside ASCII and Latin-1 text.
var normalizeCases = []string{
	"", "abc", "ABC def-GHI", "naïve", "nai\u0308ve", "e\u0301", "E\u0301\u0323", "é\u0323",
	"ﬁlter", "ＤＩＦＦＵＳＩＯＮ", "\u13ca\u13f0", "\uab9a\u13f8", "ᾞ̈", "ΣΊΣΥΦΟΣ ς", "ǰ ẞ ß",
	"K Å", "İstanbul", "x\u0308", "a\xffb", "\xff\xfe", "\xe2\x80", "a\u0301\u0301\u0301", "한국어 \u1100\u1161\u11a8",
	"’quoted’ — dash", "½ ² ㎏", "\U0001d400\U0001d7d8", "a\u200db", "\ufffd", "Ä\u0304", "\u0344", "\u0f73",
	"a" + strings.Repeat("\u0301", 40) + "b",
}

func TestAppendNormalizeMatchesSlow(t *testing.T) {
	check := func(t *testing.T, s string) {
		t.Helper()
		got, want := string(appendNormalize(nil, s)), normalizeSlow(s)
		if got != want {
			t.Fatalf("appendNormalize(%q) = %q, normalizeSlow = %q", s, got, want)
		}
		if n := normalize(s); n != want {
			t.Fatalf("normalize(%q) = %q, normalizeSlow = %q", s, n, want)
		}
		if got, want := splitWords(got), slowWords(want); !slices.Equal(got, want) {
			t.Fatalf("splitWords(%q) = %q, want %q", s, got, want)
		}
	}
	for _, c := range normalizeCases {
		t.Run("case", func(t *testing.T) {
			for _, s := range []string{c, "x" + c, c + "y", "Ab " + c + " Cd", "é" + c + "é", c + c} {
				check(t, s)
			}
		})
	}
	// Random texts over alphabets that stress different paths.
	alphabets := map[string][]rune{
		"ascii":   []rune("aZ09 -.,:;()'\"*/\t\n"),
		"latin1":  []rune("aeAEéÉüÜßÿøØ ½²µªº×÷¿"),
		"marks":   []rune("aeiouAE\u0300\u0301\u0308\u0323\u0327\u0345 ιΙ"),
		"mixed":   []rune("aZ ﬁＡＢ’—“”…ΣσςΆ\u13a0\uab70ǅǈİıKÅ한\u1100\u1161\u11a8\U0001d400\u0301"),
		"invalid": nil, // random bytes
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for name, al := range alphabets {
		t.Run(name, func(t *testing.T) {
			for range 3000 {
				n := rng.IntN(12)
				var b strings.Builder
				for range n {
					if al == nil {
						b.WriteByte(byte(rng.IntN(256)))
					} else {
						b.WriteRune(al[rng.IntN(len(al))])
					}
				}
				check(t, b.String())
			}
		})
	}
}

// slowWords is splitWords by the book, rune by rune with isWordRune.
func slowWords(s string) []string {
	var words []string
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			words = append(words, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}

// FuzzNormalize checks that the fast path of normalisation gives the same
// text and words as the norm and cases transformers.
func FuzzNormalize(f *testing.F) {
	for _, s := range normalizeCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := string(appendNormalize(nil, s)), normalizeSlow(s)
		if got != want {
			t.Fatalf("appendNormalize(%q) = %q, normalizeSlow = %q", s, got, want)
		}
		if got, want := splitWords(got), slowWords(want); !slices.Equal(got, want) {
			t.Fatalf("splitWords(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestNormalizedHasNoUpper checks what requiredLiteral relies on: no rune
// normalises to text with upper-case ASCII, a Kelvin sign or a long s.
func TestNormalizedHasNoUpper(t *testing.T) {
	if testing.Short() {
		t.Skip("every rune")
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if utf16.IsSurrogate(r) {
			continue
		}
		s := normalizeSlow(string(r))
		if i := strings.IndexFunc(s, func(c rune) bool { return 'A' <= c && c <= 'Z' || c == 'K' || c == 'ſ' }); i >= 0 {
			t.Errorf("normalize(%U) = %q: has %q", r, s, s[i:])
		}
	}
}

func TestRequiredLiteral(t *testing.T) {
	tests := []struct {
		name, re, want string
	}{
		{"word", `transformer\w*`, "transformer"},
		{"upper", `LoRA`, "lora"},
		{"longest of concat", `ab\d+cdef`, "cdef"},
		{"plus", `(?:abc)+x`, "abc"},
		{"repeat", `(?:abcd){2,3}`, "abcd"},
		{"optional", `(?:abcd)?x`, "x"},
		{"star", `(?:abcd)*`, ""},
		{"alternation", `abc|abd`, "ab"},
		{"class", `[ab]`, ""},
		{"non-ASCII splits", `abcéxy`, "abc"},
		{"Kelvin sign folds to k", "\u212Aab", "kab"},
		{"case-sensitive", `(?-i)Ab`, "Ab"},
		{"digits and punctuation", `v\d\.2-x`, ".2-x"},
		{"boundary", `\bgan\b`, "gan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, err := syntax.Parse("(?i)"+tt.re, syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			if got := requiredLiteral(re); got != tt.want {
				t.Errorf("requiredLiteral(%q) = %q, want %q", tt.re, got, tt.want)
			}
		})
	}
}

// TestRequiredLiteralHolds checks on random patterns and texts that a
// normalised text a regex term matches contains its literal.
func TestRequiredLiteralHolds(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	pieces := []string{"a", "B", "k", "S", "\u212A", "ſ", "é", "ab", "(?:ab)+", "(?:ba)?", "[ks]", "\\d", ".", "|", "x*", "\\b", "(?-i:A)"}
	alphabet := []rune("abkKsSſéÉ1 -AB\u212A")
	matched := 0
	for range 3000 {
		var p strings.Builder
		for range 1 + rng.IntN(5) {
			p.WriteString(pick(rng, pieces))
		}
		q, err := ParseQuery("/" + strings.ReplaceAll(p.String(), "/", "\\/") + "/")
		if err != nil {
			continue
		}
		n := q.root
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		text := normalize(b.String())
		if n.re.MatchString(text) {
			matched++
			if !strings.Contains(text, n.lit) {
				t.Fatalf("/%s/ matches %q, which lacks its literal %q", n.src, text, n.lit)
			}
		}
	}
	if matched < 300 {
		t.Errorf("only %d matches: the cases are too weak", matched)
	}
}

// TestDocReuse fills one Doc with papers of every size in turn: each fill
// must give the Doc NewDoc gives, whatever the Doc held before, and Route
// (which reuses Docs) must agree with RouteDoc on a fresh one.
func TestDocReuse(t *testing.T) {
	c := testRealCorpus(t)
	r, err := Compile(benchSpecs(c, "realistic", 500))
	if err != nil {
		t.Fatal(err)
	}
	ps := append([]*paper.Paper{}, c.docs...)
	huge := *ps[0]
	huge.Abstract = strings.Repeat(huge.Abstract+" ", 400) // past maxWords: no word index
	ps = append(ps, &huge, ps[0], &paper.Paper{ID: "x"}, ps[1])
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(ps)-4, func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	d := new(Doc)
	for _, p := range ps {
		d.fill(p)
		want := NewDoc(p)
		if !reflect.DeepEqual(d.fields, want.fields) || d.id != want.id || d.indexed() != want.indexed() ||
			!slices.Equal(d.words, want.words) || !slices.Equal(d.mask, want.mask) || !slices.Equal(d.hash, want.hash) ||
			!slices.Equal(d.pos, want.pos) || !slices.Equal(d.start, want.start) || !slices.Equal(d.slots, want.slots) {
			t.Fatalf("paper %s: a refilled Doc differs from NewDoc's", p.ID)
		}
		if got, want := r.Route(p), r.RouteDoc(want); !hitsEqual(got, want) {
			t.Fatalf("paper %s:\nRoute    %v\nRouteDoc %v", p.ID, got, want)
		}
	}
	if NewDoc(&huge).indexed() {
		t.Fatal("the huge paper was indexed; the test no longer covers a Doc without index")
	}
}
