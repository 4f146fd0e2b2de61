package deliver

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var digestDay = time.Date(2026, 6, 13, 8, 0, 0, 0, time.UTC)

// huge is a paper over every limit: a title of 2,000 characters with
// mrkdwn and markdown in it, 500 authors, a 60 KB abstract with emoji and
// CJK text (two UTF-16 units and three bytes a character).
func huge(i int) *paper.Paper {
	p := testPaper(i)
	p.Title = strings.Repeat("Diffusion <models> & *agents* for 😀 planning ", 45)
	p.Abstract = strings.Repeat("We show that 拡散 models & agents <plan> well 🚀. ", 1200)
	p.Authors = nil
	for j := range 500 {
		p.Authors = append(p.Authors, fmt.Sprintf("Author Number%d", j))
	}
	p.ProjectPage = "https://example.org/project?a=1&b=<2>|x"
	return &p
}

func testTarget(typ string) *Target {
	t := Target{Name: "t", Type: typ, URL: "https://hooks.example.org/x", Titles: map[string]string{"agents": "LLM agents & tools"},
		SiteURL: "https://papers.example.org"}
	if typ == TypeEmail {
		t.URL, t.SMTP, t.To, t.From = "", "smtp://mail.example.org", []string{"me@example.org"}, "paperfeed@example.org"
	}
	return &t
}

func rendererFor(typ string) renderer {
	t := testTarget(typ)
	switch typ {
	case TypeSlack:
		return slack{t}
	case TypeDiscord:
		return discord{t}
	case TypeWebhook:
		return webhook{t}
	case TypeNtfy:
		return ntfy{t}
	}
	return newEmail(t, func() time.Time { return digestDay })
}

func checkSlack(t *testing.T, body []byte) slackMessage {
	t.Helper()
	var m slackMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(m.Blocks) > slackMaxBlocks {
		t.Errorf("%d blocks, over %d", len(m.Blocks), slackMaxBlocks)
	}
	if n := units(m.Text); n > slackMaxText || n == 0 {
		t.Errorf("text of %d characters", n)
	}
	for i, b := range m.Blocks {
		var text string
		max := slackMaxSection
		switch b.Type {
		case "section":
			text = b.Text.Text
		case "header":
			text, max = b.Text.Text, slackMaxHeader
			if b.Text.Type != "plain_text" {
				t.Errorf("block %d: a header of %s", i, b.Text.Type)
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				t.Errorf("block %d: %d context elements", i, len(b.Elements))
				continue
			}
			text, max = b.Elements[0].Text, slackMaxContext
		default:
			t.Errorf("block %d: type %q", i, b.Type)
		}
		if n := units(text); n > max || n == 0 {
			t.Errorf("block %d (%s): %d characters, limit %d", i, b.Type, n, max)
		}
		if !utf8.ValidString(text) {
			t.Errorf("block %d: invalid UTF-8", i)
		}
		// Outside links, no raw < or > is left: mrkdwn would read them.
		outside := slackLinkRE.ReplaceAllString(text, "")
		if strings.ContainsAny(outside, "<>") {
			t.Errorf("block %d: unescaped < or > in %q", i, cut(outside, 200))
		}
	}
	return m
}

// TestSlackLimits: every text of a message of a huge paper, and of a
// digest of sixty, is within Block Kit's limits, escaped, with the authors
// cut.
func TestSlackLimits(t *testing.T) {
	r := rendererFor(TypeSlack)
	m, err := r.each(huge(1), "agents")
	if err != nil {
		t.Fatal(err)
	}
	sm := checkSlack(t, m.body)
	head := sm.Blocks[0].Text.Text
	if !strings.Contains(head, "Author Number9 et al.") || strings.Contains(head, "Number10") {
		t.Errorf("authors not cut after ten with et al.: %q", cut(head, 400))
	}
	if !strings.Contains(head, "&lt;models&gt; &amp;") {
		t.Errorf("title not escaped: %q", cut(head, 200))
	}
	if !strings.HasSuffix(sm.Blocks[1].Text.Text, ellipsis) {
		t.Errorf("a cut abstract does not end in an ellipsis")
	}
	if ctx := sm.Blocks[2].Elements[0].Text; !strings.Contains(ctx, "<https://example.org/project?a=1&amp;b=&lt;2&gt;%7Cx|project>") {
		t.Errorf("a link with & < > | in it: %q", ctx)
	}
	var many []*paper.Paper
	for i := range 60 {
		many = append(many, huge(i))
	}
	msgs, err := r.digest(digestDay, []group{{"agents", many}, {"vision", many[:3]}})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 {
		t.Fatalf("%d messages for 60 + 3 papers, want 3 + 1", len(msgs))
	}
	n := 0
	for _, msg := range msgs {
		checkSlack(t, msg.body)
		n += len(msg.ids)
	}
	if n != 63 {
		t.Errorf("the parts carry %d papers, want 63", n)
	}
}

// TestDiscordLimits: a huge paper's embed, and digests of 25 huge papers,
// are within every Discord limit; nothing pings.
func TestDiscordLimits(t *testing.T) {
	r := rendererFor(TypeDiscord)
	check := func(body []byte) discordMessage {
		t.Helper()
		var m discordMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Embeds) > discordMaxEmbeds || len(m.Embeds) == 0 {
			t.Errorf("%d embeds", len(m.Embeds))
		}
		if units(m.Content) > discordMaxContent {
			t.Errorf("content of %d", units(m.Content))
		}
		total := 0
		for i, e := range m.Embeds {
			if units(e.Title) > discordMaxTitle || units(e.Description) > discordMaxDescription || units(e.Footer.Text) > discordMaxFooter {
				t.Errorf("embed %d: title %d, description %d, footer %d", i, units(e.Title), units(e.Description), units(e.Footer.Text))
			}
			total += e.size()
		}
		if total > discordMaxTotal {
			t.Errorf("embeds total %d characters, over %d", total, discordMaxTotal)
		}
		if !strings.Contains(string(body), `"allowed_mentions":{"parse":[]}`) {
			t.Errorf("mentions allowed: %s", cut(string(body), 200))
		}
		return m
	}
	m, err := r.each(huge(1), "agents")
	if err != nil {
		t.Fatal(err)
	}
	dm := check(m.body)
	if e := dm.Embeds[0]; !strings.HasSuffix(e.Title, ellipsis) || !strings.Contains(e.Description, `\*agents\*`) && !strings.Contains(e.Title, `\*agents\*`) {
		t.Errorf("title %q: want it cut and markdown escaped", cut(e.Title, 80))
	}
	var many []*paper.Paper
	for i := range 25 {
		many = append(many, huge(i))
	}
	msgs, err := r.digest(digestDay, []group{{"agents", many}})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages for 25 papers, want 3", len(msgs))
	}
	for _, msg := range msgs {
		check(msg.body)
	}
}

// TestNtfyLimits: bodies within ntfy's message size, titles short and
// ASCII on the wire, digests split.
func TestNtfyLimits(t *testing.T) {
	r := rendererFor(TypeNtfy)
	m, err := r.each(huge(1), "agents")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.body) > ntfyMaxBody || !utf8.Valid(m.body) {
		t.Errorf("body of %d bytes (valid UTF-8: %v)", len(m.body), utf8.Valid(m.body))
	}
	title := m.header.Get("Title")
	for _, c := range []byte(title) {
		if c < ' ' || c > '~' {
			t.Fatalf("title header with byte %#x: %q", c, title)
		}
	}
	if !strings.HasPrefix(title, "=?utf-8?b?") {
		t.Errorf("a title with emoji is not RFC 2047 encoded: %q", title)
	}
	if m.header.Get("Click") != "https://huggingface.co/papers/2606.00001" || m.header.Get("Tags") != "page_facing_up,agents" {
		t.Errorf("headers %v", m.header)
	}
	var many []*paper.Paper
	for i := range 40 {
		many = append(many, huge(i))
	}
	msgs, err := r.digest(digestDay, []group{{"agents", many}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, msg := range msgs {
		if len(msg.body) > ntfyMaxBody {
			t.Errorf("digest body of %d bytes", len(msg.body))
		}
		n += len(msg.ids)
	}
	if len(msgs) < 2 || n != 40 {
		t.Errorf("%d messages carrying %d papers, want several carrying 40", len(msgs), n)
	}
}

// TestEmailRender: an e-mail of a huge paper has its abstract cut, both
// parts, the headers a list mail needs, and a Message-ID that is the same
// every time.
func TestEmailRender(t *testing.T) {
	r := rendererFor(TypeEmail)
	a, err := r.each(huge(1), "agents")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.each(huge(1), "agents")
	if err != nil {
		t.Fatal(err)
	}
	if id := a.mail.GetMessageID(); id != b.mail.GetMessageID() || id != "<2606.00001.t.paperfeed@example.org>" {
		t.Errorf("Message-IDs %q and %q", id, b.mail.GetMessageID())
	}
	var raw bytes.Buffer
	if _, err := a.mail.WriteTo(&raw); err != nil {
		t.Fatal(err)
	}
	s := raw.String()
	for _, want := range []string{"List-Unsubscribe: <mailto:paperfeed@example.org?subject=unsubscribe>", "multipart/alternative",
		"Content-Type: text/plain; charset=UTF-8", "Content-Type: text/html; charset=UTF-8", "Auto-Submitted: auto-generated", "Precedence: bulk"} {
		if !strings.Contains(s, want) {
			t.Errorf("the e-mail lacks %q", want)
		}
	}
	if raw.Len() > 200_000 {
		t.Errorf("an e-mail of %d bytes for one paper", raw.Len())
	}
}

// TestGolden: each renderer's messages of an ordinary paper and of a
// digest of two topics, as sent.
func TestGolden(t *testing.T) {
	p0, p1, p2 := testPaper(1), testPaper(2), testPaper(3)
	p2.Hub, p2.Upvotes, p2.GitHubRepo = false, 0, ""
	p2.Link, p2.ID = "https://lab.example.org/papers/x", paper.LinkID("https://lab.example.org/papers/x")
	groups := []group{{"agents", []*paper.Paper{&p0, &p1}}, {"vision", []*paper.Paper{&p2}}}
	for _, typ := range []string{TypeSlack, TypeDiscord, TypeWebhook, TypeNtfy, TypeEmail} {
		t.Run(typ, func(t *testing.T) {
			r := rendererFor(typ)
			each, err := r.each(&p0, "agents")
			if err != nil {
				t.Fatal(err)
			}
			digest, err := r.digest(digestDay, groups)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			for _, m := range append([]message{each}, digest...) {
				fmt.Fprintf(&b, "== %s %q %s\n", m.key, m.ids, m.topic)
				if m.mail != nil {
					b.WriteString(emailGolden(t, m))
					continue
				}
				for _, k := range []string{"Content-Type", "Title", "Click", "Tags", HeaderEvent, HeaderDelivery, HeaderSignature} {
					if v := m.header.Get(k); v != "" {
						fmt.Fprintf(&b, "%s: %s\n", k, v)
					}
				}
				if json.Valid(m.body) {
					var out bytes.Buffer
					if err := json.Indent(&out, m.body, "", "  "); err != nil {
						t.Fatal(err)
					}
					m.body = out.Bytes()
				}
				b.Write(m.body)
				b.WriteString("\n")
			}
			golden(t, filepath.Join("testdata", typ+".golden"), b.Bytes())
		})
	}
}

// emailGolden is an e-mail's headers that do not change and its two
// parts, as rendered (the MIME boundaries are random).
func emailGolden(t *testing.T, m message) string {
	var raw bytes.Buffer
	if _, err := m.mail.WriteTo(&raw); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(raw.String(), "\r\n") {
		for _, h := range []string{"Subject:", "Message-ID:", "From:", "To:", "List-Unsubscribe:", "Date:"} {
			if strings.HasPrefix(line, h) {
				b.WriteString(line + "\n")
			}
		}
	}
	for _, part := range m.mail.GetParts() {
		content, err := part.GetContent()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "-- %s\n%s\n", part.GetContentType(), content)
	}
	return b.String()
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what was rendered (go test -update rewrites it):\n%s", path, got)
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"one two three four", 10, "one two…"},
		{"abcdefghijklmnop", 5, "abcd…"},
		{"😀😀😀", 4, "😀…"}, // two units each
		{"😀😀😀", 3, "😀…"},
		{"x", 0, ""},
		{"ab", 1, "…"},
		{"trailing    space here", 13, "trailing…"},
	}
	for _, tt := range tests {
		got := cut(tt.in, tt.max)
		if got != tt.want || units(got) > max(tt.max, 0) {
			t.Errorf("cut(%q, %d) = %q (%d units), want %q", tt.in, tt.max, got, units(got), tt.want)
		}
	}
	if got := cutBytes("拡散拡散", 8); got != "拡…" {
		t.Errorf("cutBytes = %q", got)
	}
	if got := fit("a&b&c&d", 12, mrkdwn); units(got) > 12 || strings.Contains(strings.ReplaceAll(got, "&amp;", ""), "&") {
		t.Errorf("fit split an escape: %q", got)
	}
	if got := clean(" a\u202e\tb\x00\n\n c\xff "); got != "a b c\uFFFD" {
		t.Errorf("clean = %q", got)
	}
	if got := authorLine([]string{" A ", "", "B"}); got != "A, B" {
		t.Errorf("authorLine = %q", got)
	}
}

// slackLinkRE matches a mrkdwn link, <URL|label>.
var slackLinkRE = regexp.MustCompile(`<https?://[^|>]*\|[^>]*>`)
