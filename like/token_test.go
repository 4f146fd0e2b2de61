package like

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
)

// phrases tokenises text as a Builder does and writes the words kept, with
// " | " where a phrase ends (where no bigram spans).
func phrases(text string) string {
	dict := withStopWords(nil)
	var words []string
	var toks []int32
	var s scanner
	s.scan(text, func(w []byte, joined bool) {
		t, ok := dict[string(w)]
		if !ok {
			t = int32(len(words))
			dict[string(w)] = t
			words = append(words, string(w))
		}
		toks = push(toks, t, joined)
	})
	var out []string
	for _, t := range toks {
		if t < 0 {
			out = append(out, "|")
		} else {
			out = append(out, words[t])
		}
	}
	return strings.Join(out, " ")
}

func TestScan(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"plain", "Large Language Models reason", "large language models reason"},
		{"stop words are left out but join", "the state of the art", "state art"},
		{"punctuation ends phrases", "graphs, trees; and forests. Then (loops) [x] end: yes! maybe? sure|fine",
			"graphs | trees | forests | loops | end | yes | maybe | sure | fine"},
		{"hyphen and slash join", "self-supervised encoder/decoder", "self supervised encoder decoder"},
		{"short words and numbers", "a 3D U-Net on 100 images in 2018 with GPT-4 x2", "3d net images gpt x2"},
		{"possessive and contraction", "the model's loss doesn't matter", "model loss doesn matter"},
		{"typographic apostrophe", "Bayes’ rule and Fisher’s test", "bayes rule fisher test"},
		{"inline math", "a $\\mathcal{O}(n^2)$ bound", "bound"},
		{"math keeps long words", "with $\\text{softmax}(x_i)$ attention", "| softmax | attention"},
		{"display math", "left $$ E = mc^2 $$ right", "left | right"},
		{"paren math", "left \\( \\alpha + beta \\) right \\[ x \\] end", "left | beta | right | end"},
		{"commands dropped, braces kept", "\\textbf{Deep} \\emph{learning} works", "deep learning works"},
		{"latex accent joins", "Schr\\\"odinger and Erd\\'os", "schrodinger erdos"},
		{"unicode accent folds", "Schrödinger café naïve", "schrodinger cafe naive"},
		{"ligature folds", "ﬁne-tuning", "fine tuning"},
		{"escaped characters separate", "50\\% of cats\\&dogs", "cats dogs"},
		{"url dropped", "Code: https://github.com/a/b-c and www.example.org/x. Fine", "code | fine"},
		{"url case-insensitive", "see HTTPS://Example.com today", "see | today"},
		{"unicode punctuation", "first… second • third – fourth", "first | second | third fourth"},
		{"unicode letters", "Ελληνικά и кириллица", "ελληνικα кириллица"},
		{"too long word", strings.Repeat("a", 41) + " ok " + strings.Repeat("b", 40), "ok " + strings.Repeat("b", 40)},
		{"invalid utf-8 separates", "good\xffbad", "good bad"},
		{"unbalanced dollar", "costs $5 and many words", "costs | many words"},
		{"trailing backslash", "end\\", "end"},
		{"empty", "", ""},
		{"only stop words", "the of and which", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.TrimPrefix(phrases(tt.text), "| ")
			want := strings.TrimPrefix(tt.want, "| ")
			if got != want {
				t.Errorf("phrases(%q)\n got %q\nwant %q", tt.text, got, want)
			}
		})
	}
}

// TestScanTitleAbstract checks that no bigram spans a title and its
// abstract, and that the scanner's state does not leak from one text into
// the next (math left open in the title).
func TestScanTitleAbstract(t *testing.T) {
	p := paper.Paper{ID: "a", Title: "title with $open math", Abstract: "ab cd ef"}
	c, err := Fit([]paper.Paper{p}, Options{MinDF: 1, MaxDF: 1})
	if err != nil {
		t.Fatal(err)
	}
	var terms []string
	for i := range c.Vocab().Len() {
		terms = append(terms, c.Vocab().Term(uint32(i)))
	}
	got := strings.Join(terms, ",")
	// "ab" would be dropped in math (fewer than three letters), "open math"
	// is inside it and kept, "math ab" would span the two texts.
	want := "ab,ab cd,cd,cd ef,ef,math,open,open math,title"
	if got != want {
		t.Errorf("terms %s, want %s", got, want)
	}
}

// FuzzScan looks for crashes and checks what every emitted word is: at
// least two runes of lower-case letters and digits, at most maxWord bytes,
// not only digits, valid UTF-8.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"Large Language Models (LLMs) are $\\mathcal{O}(n)$; see https://x.y.",
		"Schr\\\"odinger \\( a \\) \\[ b \\] $$c$$ \\",
		"ﬁne naïve Ελληνικά ’s don't \xff\xfe",
		"$", "\\", "'", "’", "http://", "www.", "\\\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var s scanner
		first := true
		s.scan(text, func(w []byte, joined bool) {
			if first && joined {
				t.Errorf("first word %q is joined to nothing", w)
			}
			first = false
			if !utf8.Valid(w) {
				t.Fatalf("word %q is not valid UTF-8", w)
			}
			if len(w) > maxWord || utf8.RuneCount(w) < 2 {
				t.Errorf("word %q: %d bytes, %d runes", w, len(w), utf8.RuneCount(w))
			}
			digits := true
			for _, r := range string(w) {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Errorf("word %q has %q", w, r)
				}
				if unicode.IsUpper(r) {
					t.Errorf("word %q has upper-case %q", w, r)
				}
				digits = digits && unicode.IsDigit(r)
			}
			if digits {
				t.Errorf("word %q is only digits", w)
			}
		})
	})
}
