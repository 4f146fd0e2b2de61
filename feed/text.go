package feed

import (
	"net/url"
	"strings"
	"unicode"
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

// clean returns s as valid UTF-8 (invalid bytes, including encoded unpaired
// surrogates, become U+FFFD) without the characters XML 1.0 forbids. Spaces
// are kept as they are.
func clean(s string) string {
	// strings.Map writes U+FFFD for every invalid byte, and xmlAllowed
	// keeps it.
	return strings.Map(func(r rune) rune {
		if xmlAllowed(r) {
			return r
		}
		return -1
	}, s)
}

// collapse cleans s like clean and also replaces every run of Unicode white
// space (spaces, newlines, tabs, no-break spaces, U+0085 ...) by one space
// and trims it. Forbidden characters are dropped before runs are measured,
// so "a \x01 b" becomes "a b".
func collapse(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s { // range yields U+FFFD for every invalid byte
		switch {
		case unicode.IsSpace(r):
			space = true
		case !xmlAllowed(r):
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		}
	}
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
