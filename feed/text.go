package feed

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// xmlAllowed reports whether r may appear in XML 1.0 text. It also refuses
// the C1 controls (U+007F–U+009F), which XML 1.0 discourages and which only
// ever reach scraped text by mistake.
func xmlAllowed(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0x7F && r <= 0x9F:
		return false
	case r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= unicode.MaxRune:
		return true
	}
	return false
}

// bidiControl reports whether r is a bidirectional embedding, override or
// isolate control (U+202A–U+202E, U+2066–U+2069). Scraped text carries them
// by mistake or to spoof: one reorders the rest of a reader's line, title or
// author name ("Trojan Source"). The marks U+200E and U+200F, which change
// no order beyond their neighbours, are kept.
func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// kept reports whether r stays in cleaned text: allowed in XML and not a
// bidi control.
func kept(r rune) bool { return xmlAllowed(r) && !bidiControl(r) }

// clean returns s as valid UTF-8 (invalid bytes, including encoded unpaired
// surrogates, become U+FFFD) without the characters XML 1.0 forbids. Spaces
// are kept as they are.
func clean(s string) string {
	// strings.Map writes U+FFFD for every invalid byte, and xmlAllowed
	// keeps it.
	return strings.Map(func(r rune) rune {
		if kept(r) {
			return r
		}
		return -1
	}, s)
}

// collapse cleans s like clean and also replaces every run of Unicode white
// space (spaces, newlines, tabs, no-break spaces, U+0085 ...) by one space
// and trims it. Forbidden characters are dropped before runs are measured,
// so "a \x01 b" becomes "a b".
//
// Every title, name and abstract passes here, most of them already clean,
// so collapse copies nothing it can keep: it scans s once, holding the
// stretch s[start:end] it would write unchanged (characters it keeps and
// single ASCII spaces between them), and writes a stretch only when
// something has to change after it. A string that needs no change, or only
// trimming, comes back as s itself or a part of it, with no allocation.
func collapse(s string) string {
	var b strings.Builder
	start, end := 0, 0 // s[start:end] is kept as it is and not yet written
	space := false     // white space came after s[start:end] (or after b when that is empty)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:]) // U+FFFD, n == 1 for an invalid byte
		switch {
		case unicode.IsSpace(r):
			space = true
		case !kept(r):
		case r == utf8.RuneError && n == 1:
			// An invalid byte ends the stretch: U+FFFD stands for it.
			if b.Cap() == 0 {
				b.Grow(len(s) + 2)
			}
			b.WriteString(s[start:end])
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(utf8.RuneError)
			start, end, space = i+n, i+n, false
		case start == end:
			// The first character after nothing or after an invalid byte.
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			start, end, space = i, i+n, false
		case i == end || s[end:i] == " ":
			end, space = i+n, false // the stretch goes on
		default:
			// Something was dropped or changed between the stretch and r.
			if b.Cap() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[start:end])
			if space {
				b.WriteByte(' ')
			}
			start, end, space = i, i+n, false
		}
		i += n
	}
	if b.Len() == 0 {
		return s[start:end]
	}
	b.WriteString(s[start:end])
	return b.String()
}

// cleanURL cleans a URL taken from scraped data: no forbidden characters, no
// surrounding space. It does not judge the URL (see webURL).
func cleanURL(s string) string {
	return strings.TrimSpace(clean(s))
}

// webURL is s cleaned if it is an absolute http or https URL, otherwise "".
// Scraped links with other schemes (javascript:, data:) or none are left out
// of the output rather than written as relative references.
func webURL(s string) string {
	s = cleanURL(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}
