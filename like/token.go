package like

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxWord is the longest word kept, in bytes after folding. Longer runs of
// letters are hashes, base64, run-together CJK text or broken markup, and
// would only grow the vocabulary.
const maxWord = 40

// scanner splits a paper's text into its words (see the package comment for
// the rules). It keeps its buffers between texts, so one scanner per
// goroutine tokenises a whole history without allocating per word.
type scanner struct {
	buf    []byte // the word being read, lower-cased
	digits bool   // buf is all digits so far
	letter bool   // buf is all letters so far
	math   bool   // inside $...$, \(...\) or \[...\]
	joined bool   // a kept word precedes in the current phrase
	emit   func(word []byte, joined bool)
}

// scan calls emit with each word of text in order. joined tells whether the
// word follows the previous one in the same phrase, which is when the two
// make a bigram (once stop words are left out, see push). The word's bytes
// are valid only during the call.
func (s *scanner) scan(text string, emit func(word []byte, joined bool)) {
	s.emit = emit
	s.buf, s.math, s.joined = s.buf[:0], false, false
	s.resetWord()
	text = fold(text)
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i = s.ascii(text, i)
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsLetter(r):
			s.buf = utf8.AppendRune(s.buf, unicode.ToLower(r))
			s.digits = false
		case unicode.IsDigit(r):
			s.buf = utf8.AppendRune(s.buf, r)
			s.letter = false
		case r == '’' && len(s.buf) > 0:
			i = s.suffix(text, i+size)
			continue
		default:
			// Other symbols (dashes, quotes, arrows, U+FFFD for a bad
			// byte) separate words; punctuation ends the phrase.
			s.end()
			if endsPhrase(r) {
				s.phrase()
			}
		}
		i += size
	}
	s.phrase()
	s.emit = nil
}

// ascii reads the ASCII byte at text[i] and returns where to go on.
func (s *scanner) ascii(text string, i int) int {
	c := text[i]
	switch {
	case asciiWord[c]:
		if len(s.buf) == 0 && (c == 'h' || c == 'H' || c == 'w' || c == 'W') && isURL(text[i:]) {
			s.phrase()
			return skipURL(text, i)
		}
		// The whole run of ASCII letters and digits at once: nearly all
		// of a paper's text.
		j := i
		for ; j < len(text) && asciiWord[text[j]]; j++ {
			c := text[j]
			if c >= 'A' {
				s.buf = append(s.buf, c|0x20)
				s.digits = false
			} else {
				s.buf = append(s.buf, c)
				s.letter = false
			}
		}
		return j
	case c == '\'':
		if len(s.buf) > 0 {
			return s.suffix(text, i+1)
		}
		s.end()
	case c == '$':
		s.phrase()
		s.math = !s.math
		if i+1 < len(text) && text[i+1] == '$' {
			return i + 2
		}
	case c == '\\':
		return s.command(text, i)
	case c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' ||
		c == '(' || c == ')' || c == '[' || c == ']' || c == '|':
		s.phrase()
	default:
		s.end()
	}
	return i + 1
}

// command skips the LaTeX command at text[i] (a backslash) and returns
// where to go on. A command of letters (\alpha, \mathcal) separates words
// and is dropped; an accent (\"o, \'e) is dropped inside its word, so
// Schr\"odinger reads as schrodinger; \( \) \[ \] open and close math;
// any other escaped character (\%, \&, \\) separates words.
func (s *scanner) command(text string, i int) int {
	j := i + 1
	if j >= len(text) {
		s.end()
		return j
	}
	c := text[j]
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		s.end()
		for j < len(text) && ('a' <= text[j] && text[j] <= 'z' || 'A' <= text[j] && text[j] <= 'Z') {
			j++
		}
		return j
	case strings.IndexByte("'\"^`~=.", c) >= 0:
		return j + 1
	case c == '(' || c == '[':
		s.phrase()
		s.math = true
		return j + 1
	case c == ')' || c == ']':
		s.phrase()
		s.math = false
		return j + 1
	}
	s.end()
	_, size := utf8.DecodeRuneInString(text[j:])
	return j + size
}

// suffix drops the letters after an apostrophe inside a word ("model's",
// "don't") and ends the word; j is the byte after the apostrophe.
func (s *scanner) suffix(text string, j int) int {
	for j < len(text) {
		r, size := utf8.DecodeRuneInString(text[j:])
		if !unicode.IsLetter(r) {
			break
		}
		j += size
	}
	s.end()
	return j
}

// end ends the current word and emits it if it is kept: at least two
// runes, at most maxWord bytes, not only digits; in math only words of
// three or more letters (\text{softmax}, \mathrm{ReLU}) are kept, since
// single letters, indices and numbers there are notation. Stop words are
// emitted too: the dictionaries that read the words know them (see push),
// which saves a lookup per word.
func (s *scanner) end() {
	w := s.buf
	keep := len(w) >= 2 && len(w) <= maxWord && !s.digits && utf8.RuneCount(w) >= 2
	if keep && s.math {
		keep = s.letter && utf8.RuneCount(w) >= 3
	}
	if keep {
		s.emit(w, s.joined)
		s.joined = true
	}
	s.buf = s.buf[:0]
	s.resetWord()
}

// phrase ends the current word and the phrase: no bigram spans a sentence,
// a clause, a parenthesis, a URL or a formula.
func (s *scanner) phrase() {
	s.end()
	s.joined = false
}

func (s *scanner) resetWord() {
	s.digits, s.letter = true, true
}

// asciiWord tells the ASCII letters and digits among all bytes.
var asciiWord = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

// endsPhrase reports whether the non-ASCII rune r ends a phrase, as ASCII
// . , ; : ! ? and brackets do: other punctuation (…, •, ¿) and brackets do;
// dashes, which join compounds ("self–supervised"), and quotes do not.
func endsPhrase(r rune) bool {
	return unicode.In(r, unicode.Po, unicode.Ps, unicode.Pe)
}

// isURL reports whether text starts with a web address: abstracts end with
// "Code is at https://github.com/...", which names no topic.
func isURL(text string) bool {
	for _, p := range [...]string{"http://", "https://", "www."} {
		if len(text) >= len(p) && strings.EqualFold(text[:len(p)], p) {
			return true
		}
	}
	return false
}

// skipURL returns the end of the address at text[i]: the next white space.
// A sentence's full stop or a closing parenthesis right after it goes with
// it, which only loses a phrase break.
func skipURL(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

// fold returns text with accents and compatibility forms folded away
// (NFKD, then the combining marks dropped: "é" is "e", "ﬁ" is "fi"), so a
// word reads the same from a source that writes Unicode and one that writes
// LaTeX accents. ASCII text, nearly all of it, is returned as it is.
func fold(text string) string {
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return text
	}
	text = norm.NFKD.String(strings.ToValidUTF8(text, "\uFFFD"))
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, text)
}
