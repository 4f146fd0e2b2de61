package deliver

import (
	"cmp"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Target is one place papers are pushed to, as configured.
type Target struct {
	// Name keys the target's marks in the history: renaming a target makes
	// it a new one. [a-z0-9-]+.
	Name string
	// Type is slack, discord, webhook, ntfy or email.
	Type string
	// URL is where slack, discord, webhook and ntfy messages are POSTed.
	// For Slack, Discord and ntfy it is the credential: it is never
	// logged or shown.
	URL string
	// Topics are the slugs of the topics the target takes, in the order
	// its messages list them; empty takes every topic offered.
	Topics []string
	// Mode is each (a message per paper, the default) or digest (one
	// message per topic a day, at At; for email one message a day).
	Mode string
	// At is the time of day of a digest, "HH:MM" in UTC; "" is 08:00.
	At string
	// Backlog is how many of each topic's newest papers the target gets
	// when it first takes the topic; after that only papers first seen
	// since.
	Backlog int
	// To, SMTP and From are an email target's recipients, server
	// (smtp://user:pass@host:port with STARTTLS where the server offers
	// it, or smtps://... with TLS from the start) and sender.
	To   []string
	SMTP string
	From string
	// Secret, when set, signs a webhook's body: X-Paperfeed-Signature:
	// sha256=<hex HMAC-SHA256 of the body>.
	Secret string

	// Titles are topic titles by slug, for messages; a topic without one
	// is named by its slug.
	Titles map[string]string
	// SiteURL is the site's base URL (no trailing slash), for links to a
	// topic's feed in digests; empty leaves them out.
	SiteURL string
}

// Types and modes.
const (
	TypeSlack   = "slack"
	TypeDiscord = "discord"
	TypeWebhook = "webhook"
	TypeNtfy    = "ntfy"
	TypeEmail   = "email"

	ModeEach   = "each"
	ModeDigest = "digest"
)

// DefaultAt is the time of a digest when At is empty.
const DefaultAt = "08:00"

var nameRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// atRE is "HH:MM", 00:00 to 23:59.
var atRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// ParseAt reads a digest's time of day, "HH:MM" (UTC), as the time since
// midnight.
func ParseAt(s string) (time.Duration, error) {
	m := atRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("at %q must be a time of day HH:MM (00:00 to 23:59, UTC)", s)
	}
	h, _ := strconv.Atoi(m[1]) // the pattern holds digits only
	min, _ := strconv.Atoi(m[2])
	return time.Duration(h)*time.Hour + time.Duration(min)*time.Minute, nil
}

// ErrTarget is wrapped by every error New and Reconfigure return for a
// target they refuse. The errors name the target and the field, never the
// value of a URL, an SMTP URL or a secret.
var ErrTarget = errors.New("invalid delivery target")

// checked is a target that passed check, with what check read of it.
type checked struct {
	Target
	at   time.Duration // the digest's time of day
	smtp smtpServer    // an email target's server
}

// check validates t and returns it with its defaults filled in.
func (t Target) check() (checked, error) {
	bad := func(format string, args ...any) (checked, error) {
		return checked{}, fmt.Errorf("%w %q: %s", ErrTarget, t.Name, fmt.Sprintf(format, args...))
	}
	var c checked
	if !nameRE.MatchString(t.Name) {
		return bad("name must match [a-z0-9-]+")
	}
	switch t.Mode {
	case "":
		t.Mode = ModeEach
	case ModeEach, ModeDigest:
	default:
		return bad("mode %q must be each or digest", t.Mode)
	}
	if t.Mode == ModeDigest && t.At == "" {
		t.At = DefaultAt
	}
	if t.Mode == ModeEach && t.At != "" {
		return bad("at applies to mode digest only")
	}
	var err error
	if c.at, err = ParseAt(cmp.Or(t.At, DefaultAt)); err != nil {
		return bad("%v", err)
	}
	if t.Backlog < 0 {
		return bad("backlog %d must not be negative", t.Backlog)
	}
	for _, slug := range t.Topics {
		if slug == "" {
			return bad("a topic slug is empty")
		}
	}
	web := t.Type != TypeEmail
	switch t.Type {
	case TypeSlack, TypeDiscord, TypeWebhook, TypeNtfy, TypeEmail:
	default:
		return bad("unknown type %q (want slack, discord, webhook, ntfy or email)", t.Type)
	}
	if web {
		if err := CheckURL(t.URL); err != nil {
			return bad("url %v", err)
		}
		if len(t.To) > 0 || t.SMTP != "" || t.From != "" {
			return bad("to, smtp and from apply to type email only")
		}
	} else {
		if t.URL != "" {
			return bad("url does not apply to type email (smtp says where mail goes)")
		}
		if c.smtp, err = parseSMTP(t.SMTP); err != nil {
			return bad("smtp %v", err)
		}
		if len(t.To) == 0 {
			return bad("to needs at least one address")
		}
		for _, a := range t.To {
			if _, err := mail.ParseAddress(a); err != nil {
				return bad("to %q is not an e-mail address", a)
			}
		}
		if _, err := mail.ParseAddress(t.From); err != nil {
			return bad("from %q is not an e-mail address", t.From)
		}
	}
	if t.Secret != "" && t.Type != TypeWebhook {
		return bad("secret applies to type webhook only")
	}
	c.Target = t
	return c, nil
}

// CheckURL checks a slack, discord, webhook or ntfy URL: an absolute http
// or https URL. Its error does not repeat the URL, which may be a
// credential.
func CheckURL(raw string) error {
	if raw == "" {
		return errors.New("is required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("is not an http or https URL")
	}
	return nil
}

// CheckSMTP checks an email target's SMTP URL (see Target.SMTP). Its error
// does not repeat the URL, which holds the password.
func CheckSMTP(raw string) error {
	_, err := parseSMTP(raw)
	return err
}

// smtpServer is an SMTP URL, parsed.
type smtpServer struct {
	host      string
	port      int
	implicit  bool // smtps: TLS from the first byte
	user, pwd string
}

// parseSMTP reads smtp://[user[:password]@]host[:port] (port 587 by
// default, STARTTLS when the server offers it) or smtps://... (port 465,
// TLS from the start). Its errors do not repeat the URL.
func parseSMTP(raw string) (smtpServer, error) {
	if raw == "" {
		return smtpServer{}, errors.New("is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return smtpServer{}, errors.New("is not a URL")
	}
	var s smtpServer
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return smtpServer{}, errors.New("must start with smtp:// or smtps://")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return smtpServer{}, errors.New("has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return smtpServer{}, errors.New("has a bad port")
		}
		s.port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return smtpServer{}, errors.New("must not have a path or query")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pwd, _ = u.User.Password()
	}
	return s, nil
}

// secrets are the strings of t that must not appear in any output: the
// URL and its parts that carry a credential, the SMTP URL and its
// credentials, the secret.
func (t Target) secrets() []string {
	out := []string{t.URL, t.SMTP, t.Secret}
	for _, raw := range []string{t.URL, t.SMTP} {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		out = append(out, strings.TrimPrefix(raw, u.Scheme+"://"), u.RawQuery, u.EscapedPath(), u.Path)
		for _, seg := range strings.Split(u.Path, "/") {
			out = append(out, seg)
		}
		if u.User != nil {
			pwd, _ := u.User.Password()
			out = append(out, u.User.String(), u.User.Username(), pwd)
		}
	}
	return out
}

// title is a topic's title for messages.
func (t *Target) title(slug string) string {
	if s := clean(t.Titles[slug]); s != "" {
		return s
	}
	return slug
}

// feedURL is the Atom feed of a topic, or "" without a SiteURL.
func (t *Target) feedURL(slug string) string {
	if t.SiteURL == "" {
		return ""
	}
	return strings.TrimRight(t.SiteURL, "/") + "/feeds/" + url.PathEscape(slug) + ".atom"
}
