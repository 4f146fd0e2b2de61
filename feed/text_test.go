package feed

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCollapse(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "Attention Is All You Need", "Attention Is All You Need"},
		{"newlines and tabs", "  Large\n  Language\tModels \r\n", "Large Language Models"},
		{"unicode spaces", "a\u00a0\u2003b\u2028c\u0085d", "a b c d"},
		{"controls removed", "a\x00b\x08c\x1fd\x7fe\u0080f\u009fg", "abcdefg"},
		{"control between spaces", "a \x01 b", "a b"},
		{"nonchars removed", "a\uFFFEb\uFFFFc", "abc"},
		{"invalid utf-8 replaced", "a\xffb", "a\uFFFDb"},
		{"encoded surrogate replaced", "a\xed\xa0\x80b", "a\uFFFD\uFFFD\uFFFDb"},
		{"markup and latex kept", "$x<y$ & <b>", "$x<y$ & <b>"},
		{"astral kept", "🤗 \U0010FFFD", "🤗 \U0010FFFD"},
		{"only junk", "\x00 \n\x01", ""},
		{"already collapsed", "a b c", "a b c"},
		{"leading space", " a", "a"},
		{"trailing space", "a ", "a"},
		{"double space", "a  b", "a b"},
		{"single space", " ", ""},
		{"del", "a\x7fb", "ab"},
		{"vertical tab and form feed are space", "a\vb\fc", "a b c"},
		{"invalid byte between spaces", " a \xff  b\xff\x01c ", "a \uFFFD b\uFFFDc"},
		{"invalid byte first", "\xff a", "\uFFFD a"},
		{"control after space", "a \x01b", "a b"},
		{"bidi embeddings and overrides removed", "a\u202ab\u202bc\u202cd\u202de\u202ef", "abcdef"},
		{"bidi isolates removed", "a\u2066b\u2067c\u2068d\u2069e", "abcde"},
		{"bidi marks kept", "a\u200eb\u200fc", "a\u200eb\u200fc"},
		{"override between spaces", "evil \u202e txt.exe", "evil txt.exe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collapse(tt.in); got != tt.want {
				t.Errorf("collapse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestCollapseKeeps checks that collapse returns a string it need not
// change, or need only trim, without copying it: every title and abstract
// of every feed passes through it.
func TestCollapseKeeps(t *testing.T) {
	for _, s := range []string{"Attention Is All You Need", "  \n Large Language Models\t\n", "$x<y$ & 🤗"} {
		if n := testing.AllocsPerRun(10, func() { collapse(s) }); n != 0 {
			t.Errorf("collapse(%q) allocates %v times, want 0", s, n)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"clean unchanged", "a\tb\nc\rd e", "a\tb\nc\rd e"},
		{"bidi controls removed", "a\u202eb\u2066c", "abc"},
		{"controls removed, spaces kept", "a\x00 \x1b b", "a  b"},
		{"invalid utf-8", "\xc3\x28", "\uFFFD("},
		{"nonchars", "\uFFFE\uFFFF", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// xmlRoundTrip escapes s as XML text inside an element and parses it back
// with encoding/xml, which rejects characters XML forbids.
func xmlRoundTrip(s string) (string, error) {
	var b bytes.Buffer
	b.WriteString("<a>")
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return "", err
	}
	b.WriteString("</a>")
	var v struct {
		Text string `xml:",chardata"`
	}
	err := xml.Unmarshal(b.Bytes(), &v)
	return v.Text, err
}

func FuzzCollapse(f *testing.F) {
	for _, s := range []string{"", "a b", nasty, "\xed\xa0\x80", "x\u2028y", "\r\n\t", "<&>\"'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := collapse(in)
		if !utf8.ValidString(got) {
			t.Fatalf("collapse(%q) = %q: invalid UTF-8", in, got)
		}
		for _, r := range got {
			if !xmlAllowed(r) || (unicode.IsSpace(r) && r != ' ') {
				t.Fatalf("collapse(%q) = %q: holds %U", in, got, r)
			}
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("collapse(%q) = %q: spaces not collapsed", in, got)
		}
		back, err := xmlRoundTrip(got)
		if err != nil || back != got {
			t.Fatalf("collapse(%q) = %q: XML round trip gave %q, %v", in, got, back, err)
		}
		if again := collapse(got); again != got {
			t.Fatalf("collapse is not idempotent: %q then %q", got, again)
		}
	})
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "a\tb", nasty, "\xc3\x28", "\uFFFE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := clean(in)
		if !utf8.ValidString(got) {
			t.Fatalf("clean(%q) = %q: invalid UTF-8", in, got)
		}
		for _, r := range got {
			if !xmlAllowed(r) {
				t.Fatalf("clean(%q) = %q: holds %U", in, got, r)
			}
		}
		if again := clean(got); again != got {
			t.Fatalf("clean is not idempotent: %q then %q", got, again)
		}
		if utf8.ValidString(in) && strings.ContainsFunc(in, func(r rune) bool { return !xmlAllowed(r) }) == (got == in) {
			t.Fatalf("clean(%q) = %q: changed a clean string or kept a forbidden character", in, got)
		}
		back, err := xmlRoundTrip(strings.ReplaceAll(got, "\r", "")) // XML parsers turn CR into LF
		if err != nil || back != strings.ReplaceAll(got, "\r", "") {
			t.Fatalf("clean(%q) = %q: XML round trip gave %q, %v", in, got, back, err)
		}
	})
}

func TestWebURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"https", "https://github.com/a/b", "https://github.com/a/b"},
		{"http with space around", " http://x.test/p?a=1&b=2 \n", "http://x.test/p?a=1&b=2"},
		{"upper-case scheme", "HTTP://UPPER.test/", "HTTP://UPPER.test/"},
		{"javascript", "javascript:alert(1)", ""},
		{"ftp", "ftp://x.test/f", ""},
		{"mailto", "mailto:a@x.test", ""},
		{"data", "data:text/html,hi", ""},
		{"relative", "/papers/1", ""},
		{"no host", "https:///x", ""},
		{"unparsable", "http://[::1", ""},
		{"control char removed", "https://x.test/\x00a", "https://x.test/a"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webURL(tt.in); got != tt.want {
				t.Errorf("webURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
