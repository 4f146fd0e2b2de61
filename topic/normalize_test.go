package topic

import (
	"math/rand/v2"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lower-case ASCII", "abc def", "abc def"},
		{"upper-case ASCII", "ABC def-GHI", "abc def-ghi"},
		{"NFC stays", "naïve", "naïve"},
		{"NFD composes", "nai\u0308ve", "naïve"},
		{"ligature", "ﬁlter", "filter"},
		{"full-width", "ＤＩＦＦＵＳＩＯＮ", "diffusion"},
		{"sharp s folds", "STRAẞE ß", "strasse ss"},
		{"final sigma folds", "ΣΊΣΥΦΟΣ ς", "σίσυφοσ σ"},
		{"Kelvin sign", "\u212A", "k"},
		{"Cherokee folds to upper case", "\uab9a\u13f8", "\u13ca\u13f0"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"compatibility digits", "½ ²", "1⁄2 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalize(tt.in); got != tt.want {
				t.Errorf("normalize(%+q) = %+q, want %+q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeASCII checks what normalize's shortcut for ASCII text
// relies on: NFKC, folding and NFKC again turn each ASCII byte into its
// lower case. They act on ASCII text byte by byte (no ASCII byte combines
// with another), so that holds for every ASCII text.
func TestNormalizeASCII(t *testing.T) {
	all := make([]byte, utf8.RuneSelf)
	for b := range all {
		all[b] = byte(b)
		s := string(rune(b))
		if got, want := normalizeUnicode(s), strings.ToLower(s); got != want {
			t.Errorf("byte %#x: transformers give %+q, lower case is %+q", b, got, want)
		}
	}
	if got, want := normalizeUnicode(string(all)), strings.ToLower(string(all)); got != want {
		t.Errorf("all of ASCII: transformers give %+q, lower case is %+q", got, want)
	}
}

// normalizeCases are texts where normalisation does more than lower-case.
var normalizeCases = []string{
	"", "abc", "ABC def-GHI", "naïve", "nai\u0308ve", "e\u0301", "E\u0301\u0323", "é\u0323",
	"ﬁlter", "ＤＩＦＦＵＳＩＯＮ", "\u13ca\u13f0", "\uab9a\u13f8", "ᾞ̈", "ΣΊΣΥΦΟΣ ς", "ǰ ẞ ß",
	"K Å", "İstanbul", "x\u0308", "a\xffb", "\xff\xfe", "\xe2\x80", "a\u0301\u0301\u0301", "한국어 \u1100\u1161\u11a8",
	"’quoted’ — dash", "½ ² ㎏", "\U0001d400\U0001d7d8", "a\u200db", "\ufffd", "Ä\u0304", "\u0344", "\u0f73",
	"a" + strings.Repeat("\u0301", 40) + "b",
}

// FuzzNormalize checks the invariants of normalisation: it is idempotent,
// gives valid UTF-8, and its words are runs of word runes that cover every
// word rune of the text.
func FuzzNormalize(f *testing.F) {
	for _, s := range normalizeCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkNormalize(t, s) })
}

func checkNormalize(t *testing.T, s string) {
	t.Helper()
	n := normalize(s)
	if again := normalize(n); again != n {
		t.Fatalf("normalize(%+q) = %+q, then %+q: not idempotent", s, n, again)
	}
	if !utf8.ValidString(n) {
		t.Fatalf("normalize(%+q) = %+q: not valid UTF-8", s, n)
	}
	words := splitWords(n)
	if got, want := strings.Join(words, ""), strings.Map(func(r rune) rune {
		if isWordRune(r) {
			return r
		}
		return -1
	}, n); got != want {
		t.Fatalf("splitWords(%+q) = %+q: its words are not the word runes %+q", n, words, want)
	}
	for _, w := range words {
		if w == "" {
			t.Fatalf("splitWords(%+q) = %+q: an empty word", n, words)
		}
	}
}

func TestNormalizeInvariants(t *testing.T) {
	for _, c := range normalizeCases {
		for _, s := range []string{c, "x" + c, c + "y", "Ab " + c + " Cd", "é" + c + "é", c + c} {
			checkNormalize(t, s)
		}
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
				var b strings.Builder
				for range rng.IntN(12) {
					if al == nil {
						b.WriteByte(byte(rng.IntN(256)))
					} else {
						b.WriteRune(al[rng.IntN(len(al))])
					}
				}
				checkNormalize(t, b.String())
			}
		})
	}
	if slices.Contains(splitWords(normalize("a\xffb")), "a\ufffdb") {
		t.Error("U+FFFD joins words")
	}
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
		s := normalize(string(r))
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
