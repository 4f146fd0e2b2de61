package deliver

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// ellipsis ends a text that was cut.
const ellipsis = "…"

// units is the length of s in UTF-16 code units, the way JavaScript counts
// a string. Slack and Discord count "characters" in one of several ways;
// a string within this count is within all of them, since no character
// takes fewer UTF-16 units than code points.
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cut returns s when it is at most limit units long (see units), else its
// longest prefix that fits with an ellipsis after it, broken at a space
// when one is near the end (within 20 units, or a tenth of a longer limit,
// but at most half of limit) so that a word is not cut in two. A limit below 1
// gives "".
func cut(s string, limit int) string {
	if units(s) <= limit {
		return s
	}
	if limit < 1 {
		return ""
	}
	budget := limit - units(ellipsis)
	n, end := 0, 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if n+w > budget {
			break
		}
		n += w
		end = i + utf8.RuneLen(r)
	}
	head := s[:end]
	if sp := strings.LastIndexByte(head, ' '); sp > 0 && units(head[sp:]) <= max(limit/10, min(20, limit/2)) {
		head = head[:sp]
	}
	return strings.TrimRightFunc(head, unicode.IsSpace) + ellipsis
}

// cutBytes is cut by bytes rather than units, for limits in bytes (ntfy's
// message size).
func cutBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	budget := max - len(ellipsis)
	if budget < 0 {
		return ""
	}
	end := 0
	for i, r := range s {
		if i+utf8.RuneLen(r) > budget {
			break
		}
		end = i + utf8.RuneLen(r)
	}
	return strings.TrimRightFunc(s[:end], unicode.IsSpace) + ellipsis
}

// fit cuts raw so that escape(raw cut) is at most max units long: escaping
// lengthens a text (& becomes &amp;), and cutting the escaped text instead
// could split an escape in two.
func fit(raw string, max int, escape func(string) string) string {
	budget := max
	for {
		c := cut(raw, budget)
		e := escape(c)
		over := units(e) - max
		if over <= 0 {
			return e
		}
		budget -= over
		if budget < 1 {
			return ""
		}
	}
}

// clean makes a scraped text fit for a message: valid UTF-8, no control or
// bidi characters, every run of white space one space, trimmed.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\uFEFF':
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// maxAuthors caps the names a message shows; the rest are "et al.".
const maxAuthors = 10

// authorLine is the cleaned authors joined by commas, the first maxAuthors
// of them followed by "et al." when there are more.
func authorLine(authors []string) string {
	var names []string
	for _, a := range authors {
		if a = clean(a); a != "" {
			names = append(names, a)
		}
	}
	if len(names) > maxAuthors {
		return strings.Join(names[:maxAuthors], ", ") + " et al."
	}
	return strings.Join(names, ", ")
}

// mrkdwn escapes the three characters Slack's mrkdwn gives a meaning to in
// any text: &, < and >.
var mrkdwn = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// slackURL makes a URL safe inside <URL|label>: mrkdwn-escaped, and | (which
// would end it) percent-encoded.
func slackURL(u string) string {
	return mrkdwn(strings.ReplaceAll(u, "|", "%7C"))
}

// discordMarkdown escapes the characters Discord's markdown acts on in
// free text, so that a title with * or _ stays what it says.
var discordMarkdown = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`,
	">", `\>`, "[", `\[`, "]", `\]`, "#", `\#`, "@", "@\u200b",
).Replace

// redactor hides a target's secrets (its URL, which for Slack, Discord and
// ntfy is the credential, the path and query of it, the SMTP user and
// password, the webhook secret) in any text that may reach a log, Status
// or an error.
type redactor struct {
	secrets []string // longest first
}

const redacted = "[redacted]"

func newRedactor(secrets ...string) redactor {
	var r redactor
	for _, s := range secrets {
		if len(s) >= 4 && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

// line is s with every secret replaced, on one line, at most 300
// characters.
func (r redactor) line(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return cut(clean(s), 300)
}
