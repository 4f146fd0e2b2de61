package feed

import (
	"bytes"
	"encoding/xml"
	"unicode/utf8"
)

// xmlWriter appends an XML document laid out exactly as encoding/xml's
// Encoder with Indent("", "  ") lays out the same elements: every element on
// its own line, indented two spaces per level, text-only elements closed on
// the same line, attributes in double quotes. It is how Atom and RSS are
// written (see the package comment); the tests hold it to encoding/xml's
// output byte for byte.
type xmlWriter struct {
	buf   []byte
	depth int
	// rss selects the RSS Profile's spelling of "&" and "<" as hexadecimal
	// character references (&#x26; and &#x3C;) in text and attributes.
	rss bool
}

// attr is one attribute of an element.
type attr struct{ name, value string }

// line starts a new line indented for the current depth.
func (w *xmlWriter) line() {
	w.buf = append(w.buf, '\n')
	for range w.depth {
		w.buf = append(w.buf, "  "...)
	}
}

// startTag appends <name attrs...> without a line break before it.
func (w *xmlWriter) startTag(name string, attrs ...attr) {
	w.buf = append(w.buf, '<')
	w.buf = append(w.buf, name...)
	for _, a := range attrs {
		w.buf = append(w.buf, ' ')
		w.buf = append(w.buf, a.name...)
		w.buf = append(w.buf, `="`...)
		w.buf = appendXMLText(w.buf, a.value, w.rss)
		w.buf = append(w.buf, '"')
	}
	w.buf = append(w.buf, '>')
}

// endTag appends </name>.
func (w *xmlWriter) endTag(name string) {
	w.buf = append(w.buf, "</"...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '>')
}

// open starts an element that holds other elements.
func (w *xmlWriter) open(name string, attrs ...attr) {
	w.line()
	w.startTag(name, attrs...)
	w.depth++
}

// close ends the element open opened.
func (w *xmlWriter) close(name string) {
	w.depth--
	w.line()
	w.endTag(name)
}

// text appends an element that holds only the text s.
func (w *xmlWriter) text(name, s string, attrs ...attr) {
	w.line()
	w.startTag(name, attrs...)
	w.buf = appendXMLText(w.buf, s, w.rss)
	w.endTag(name)
}

// textBytes is text for text held in a byte slice.
func (w *xmlWriter) textBytes(name string, s []byte, attrs ...attr) {
	w.line()
	w.startTag(name, attrs...)
	w.buf = appendXMLText(w.buf, s, w.rss)
	w.endTag(name)
}

// The escapes encoding/xml writes, and the RSS Profile's spelling of two.
const (
	escQuot   = "&#34;"
	escApos   = "&#39;"
	escAmp    = "&amp;"
	escLT     = "&lt;"
	escGT     = "&gt;"
	escTab    = "&#x9;"
	escNL     = "&#xA;"
	escCR     = "&#xD;"
	escFFFD   = "\uFFFD"
	escAmpRSS = "&#x26;"
	escLTRSS  = "&#x3C;"
)

// appendXMLText appends s escaped as text or as a double-quoted attribute
// value, the way encoding/xml escapes both: the five markup characters and
// tab, newline and carriage return become references, and invalid UTF-8
// and characters outside XML's range become U+FFFD. With rss, "&" and "<"
// are written &#x26; and &#x3C;.
func appendXMLText[T string | []byte](dst []byte, s T, rss bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		// Skip eight plain bytes at a time: most of a feed is ASCII text.
		for i+8 <= len(s) && xmlPlain8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if xmlPlain[c] {
			i++
			continue
		}
		width := 1
		var esc string
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				esc = escQuot
			case '\'':
				esc = escApos
			case '&':
				esc = escAmp
				if rss {
					esc = escAmpRSS
				}
			case '<':
				esc = escLT
				if rss {
					esc = escLTRSS
				}
			case '>':
				esc = escGT
			case '\t':
				esc = escTab
			case '\n':
				esc = escNL
			case '\r':
				esc = escCR
			default:
				esc = escFFFD
			}
		} else {
			var r rune
			r, width = decodeRune(s, i)
			if isInCharacterRange(r) && (r != utf8.RuneError || width > 1) {
				i += width
				continue
			}
			esc = escFFFD
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i += width
		last = i
	}
	return append(dst, s[last:]...)
}

// xmlPlain marks the bytes appendXMLText copies as they are without a
// closer look: printable ASCII other than the five markup characters.
var xmlPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"'&<>` {
		t[c] = false
	}
	return t
}()

// decodeRune decodes the rune that starts at s[i], like utf8.DecodeRune.
func decodeRune[T string | []byte](s T, i int) (rune, int) {
	var b [utf8.UTFMax]byte
	n := copy(b[:], s[i:])
	return utf8.DecodeRune(b[:n])
}

// isInCharacterRange is encoding/xml's test for a character XML allows.
func isInCharacterRange(r rune) bool {
	return r == 0x09 ||
		r == 0x0A ||
		r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// cdata appends an element holding s as a CDATA section, as encoding/xml
// writes a ",cdata" field: nothing for an empty s, and a "]]>" inside s
// split across two sections. With rss, "&amp;" and "&lt;" inside s are
// respelled &#x26; and &#x3C; (see RSS).
func (w *xmlWriter) cdata(name string, s []byte) {
	w.line()
	w.startTag(name)
	if len(s) > 0 {
		w.buf = append(w.buf, "<![CDATA["...)
		for {
			i := bytes.Index(s, cdataEnd)
			if i < 0 {
				break
			}
			w.buf = w.appendCDATAText(w.buf, s[:i])
			w.buf = append(w.buf, "]]]]><![CDATA[>"...)
			s = s[i+3:]
		}
		w.buf = w.appendCDATAText(w.buf, s)
		w.buf = append(w.buf, "]]>"...)
	}
	w.endTag(name)
}

var cdataEnd = []byte("]]>")

// appendCDATAText appends s as it stands, but for the RSS respelling.
func (w *xmlWriter) appendCDATAText(dst, s []byte) []byte {
	if !w.rss {
		return append(dst, s...)
	}
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			continue
		}
		rest := s[i:]
		switch {
		case len(rest) >= len(escAmp) && string(rest[:len(escAmp)]) == escAmp:
			dst = append(dst, s[last:i]...)
			dst = append(dst, escAmpRSS...)
			i += len(escAmp) - 1
			last = i + 1
		case len(rest) >= len(escLT) && string(rest[:len(escLT)]) == escLT:
			dst = append(dst, s[last:i]...)
			dst = append(dst, escLTRSS...)
			i += len(escLT) - 1
			last = i + 1
		}
	}
	return append(dst, s[last:]...)
}

// xmlHeader is the declaration every XML document starts with.
const xmlHeader = xml.Header

// Eight bytes in a word, for the scans that look at eight at a time.
const (
	ones8 = 0x0101010101010101
	high8 = 0x8080808080808080
	low7  = 0x7f7f7f7f7f7f7f7f
)

// hasByte8 has the high bit of some byte set if one of the eight bytes in x
// is c, and only then or when a lower byte is c (so "none" is exact).
func hasByte8(x uint64, c byte) uint64 {
	y := x ^ uint64(c)*ones8
	return (y - ones8) &^ y & high8
}

// xmlPlain8 reports whether all eight bytes in x are xmlPlain: ASCII, none
// below 0x20, none one of the five markup characters. (A false "no" is
// harmless: the byte loop then looks at them one by one.)
func xmlPlain8(x uint64) bool {
	bad := x | (x-0x20*ones8)&^x | hasByte8(x, '"') | hasByte8(x, '\'') |
		hasByte8(x, '&') | hasByte8(x, '<') | hasByte8(x, '>')
	return bad&high8 == 0
}
