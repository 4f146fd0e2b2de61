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

// clean returns s as valid UTF-8 (invalid bytes, including encoded unpaired
// surrogates, become U+FFFD) without the characters XML 1.0 forbids. Spaces
// are kept as they are.
func clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // range yields RuneError for every invalid byte
		if xmlAllowed(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isClean reports whether clean(s) == s, without allocating.
func isClean(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if !xmlAllowed(r) {
			return false
		}
	}
	return true
}

// collapse cleans s like clean and also replaces every run of Unicode white
// space (spaces, newlines, tabs, no-break spaces ...) by one space and trims
// it. Forbidden characters are dropped before runs are measured, so
// "a \x01 b" becomes "a b".
func collapse(s string) string {
	if isCollapsedASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
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

// isCollapsedASCII reports whether s is printable ASCII that collapse would
// return unchanged: the common case, answered without allocating. It says
// false for any non-ASCII byte and leaves such strings to the full pass.
func isCollapsedASCII(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' {
		return false // a leading space is not collapsed
	}
	// Eight bytes at a time: any byte below 0x20 or from 0x7F up fails, and
	// so does a space after a space, in the word or across words.
	space := false
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if (x|(x-0x20*ones8)&^x|(x+ones8))&high8 != 0 {
			return false
		}
		// The high bit of every byte that is a space, exactly.
		y := x ^ ' '*ones8
		spaces := ^((y&low7 + low7) | y | low7)
		prev := uint64(0)
		if space {
			prev = 0x80
		}
		if spaces&(spaces<<8|prev) != 0 {
			return false
		}
		space = spaces>>56 != 0
	}
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			if space {
				return false
			}
			space = true
		case c < 0x20 || c >= 0x7F:
			return false
		default:
			space = false
		}
	}
	return !space || s == ""
}

// cleanURL cleans a URL taken from scraped data: no forbidden characters, no
// surrounding space. It does not judge the URL; html/template drops unsafe
// schemes where URLs reach HTML.
func cleanURL(s string) string {
	return strings.TrimSpace(clean(s))
}

// appendCollapse appends collapse(s) to dst.
func appendCollapse(dst []byte, s string) []byte {
	if isCollapsedASCII(s) {
		return append(dst, s...)
	}
	start := len(dst)
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
		case !xmlAllowed(r):
		default:
			if space && len(dst) > start {
				dst = append(dst, ' ')
			}
			space = false
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// webURL is s cleaned if it is an absolute http or https URL, otherwise "".
// Scraped links with other schemes (javascript:, data:) or none are left out
// of the output rather than written as relative references.
func webURL(s string) string {
	s = cleanURL(s)
	if plainWebURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// plainWebURL reports, without allocating, whether s is "http://" or
// "https://", a host, and a path made only of letters, digits and "-._~/".
// url.Parse accepts every such URL with a host (the tests check this), so
// webURL can skip it for the URLs feeds are made of.
func plainWebURL(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return false
		}
	}
	host := true
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		case c == '/':
			if host && i == 0 {
				return false // no host
			}
			host = false
		default:
			return false
		}
	}
	return len(rest) > 0
}
