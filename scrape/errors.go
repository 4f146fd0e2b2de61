package scrape

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/paperfeed/paperfeed/scrape/arxiv"
	"github.com/paperfeed/paperfeed/scrape/listing"
)

var (
	// ErrBodyTooLarge means a response was larger than Options.MaxBody.
	ErrBodyTooLarge = errors.New("response body too large")
	// ErrDisallowed means robots.txt forbids the page.
	ErrDisallowed = errors.New("disallowed by robots.txt")
	// ErrBadEntries means an answer had entries but not one of them could be
	// read: a changed format, never an empty day. Entries that fail beside
	// good ones are skipped and logged instead.
	ErrBadEntries = errors.New("no entry could be read")
	// ErrRedirectLoop means a redirect led back to a URL already seen, or
	// there were more than maxRedirects of them.
	ErrRedirectLoop = errors.New("redirect loop")
	// ErrRedirectRefused means a redirect led to a host the source does not
	// name: neither the host asked for nor one of its Hosts.
	ErrRedirectRefused = errors.New("redirect to another host refused")
)

// HTTPError is a response with a status other than 2xx.
type HTTPError struct {
	URL        string
	StatusCode int

	retryAfter    time.Duration // the answer's Retry-After, when hasRetryAfter
	hasRetryAfter bool
}

func (e *HTTPError) Error() string {
	// The URL is left out: callers name the URL when they wrap it.
	return fmt.Sprintf("http status %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// RedirectError is a redirect the fetcher would not follow. It is
// ErrRedirectLoop or ErrRedirectRefused.
type RedirectError struct {
	// URL is where the redirect pointed.
	URL string
	// Host is the host of the URL the source asked for.
	Host string
	// Loop is set for a loop; otherwise the redirect left the source's hosts.
	Loop bool
}

func (e *RedirectError) Error() string {
	if e.Loop {
		return "redirect loop at " + e.URL
	}
	to := e.URL
	if u, err := url.Parse(e.URL); err == nil && u.Hostname() != "" {
		to = u.Hostname()
	}
	return fmt.Sprintf("redirect to %s refused: not %s or a host in the source's hosts", to, e.Host)
}

func (e *RedirectError) Unwrap() error {
	if e.Loop {
		return ErrRedirectLoop
	}
	return ErrRedirectRefused
}

// Partial is the error of a source that fetched several parts (the days of
// a Hugging Face view, the pages of Details) when some of them failed and
// others answered: the papers returned with it are those of the parts that
// answered. When every part fails the error is not a Partial.
type Partial struct {
	// Failed has one public line per failed part, naming the part and the
	// class of failure as Public does: "2026-06-11: huggingface.co answered
	// 503 Service Unavailable".
	Failed []string
	// Err is the parts' errors joined, on one line, for the log.
	Err error
}

func (p *Partial) Error() string {
	if p.Err == nil {
		return "partly failed: " + strings.Join(p.Failed, "; ")
	}
	return fold(p.Err.Error())
}

func (p *Partial) Unwrap() error { return p.Err }

// urlError names the URL a failure belongs to. Public reads the source's
// host from it, never from the Go error inside.
type urlError struct {
	url string
	err error
}

func (e *urlError) Error() string { return e.url + ": " + e.err.Error() }

func (e *urlError) Unwrap() error { return e.err }

// host is the host name of the URL, without its port.
func (e *urlError) host() string {
	u, err := url.Parse(e.url)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// configError is a source's configuration that cannot work; no request was
// made.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }

func (e *configError) Unwrap() error { return e.err }

// lineError shows err on one line: errors.Join and some parsers put their
// parts on lines of their own, and a log line or a status page wants one.
type lineError struct{ err error }

func (e *lineError) Error() string { return fold(e.err.Error()) }

func (e *lineError) Unwrap() error { return e.err }

// oneLine makes err's message one line, keeping it errors.Is and As-able.
func oneLine(err error) error {
	if err == nil || !strings.ContainsAny(err.Error(), "\r\n") {
		return err
	}
	return &lineError{err}
}

// fold puts a message on one line, its lines separated by "; ".
func fold(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}

// RetryAfter is the longest Retry-After that a 429 or 503 answer inside err
// asked for, for the caller's backoff; false when none did.
func RetryAfter(err error) (time.Duration, bool) {
	var (
		longest time.Duration
		found   bool
	)
	walk(err, func(e error) {
		he, ok := e.(*HTTPError)
		if !ok || !he.hasRetryAfter {
			return
		}
		if he.StatusCode != http.StatusTooManyRequests && he.StatusCode != http.StatusServiceUnavailable {
			return
		}
		if !found || he.retryAfter > longest {
			longest, found = he.retryAfter, true
		}
	})
	return longest, found
}

// walk calls f on err and on every error it wraps, depth first.
func walk(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			walk(inner, f)
		}
	case interface{ Unwrap() error }:
		walk(e.Unwrap(), f)
	}
}

// maxPublicParts bounds how many failures Public lists.
const maxPublicParts = 3

// Public describes err in one short line for public pages (the site's
// index, /healthz): the source's host and the class of failure, such as
// "cannot reach huggingface.co: DNS lookup failed" or "huggingface.co
// answered 503 Service Unavailable". It never shows what the Go error says
// about the machine: no IP addresses, ports, dial details, file paths, or
// host names other than the one the source asked for. A *Partial is its
// Failed lines; errors of several parts are listed once per distinct line,
// at most three. Public(nil) is "".
func Public(err error) string {
	if err == nil {
		return ""
	}
	var lines []string
	var p *Partial
	if errors.As(err, &p) {
		lines = p.Failed
	} else {
		seen := make(map[string]bool)
		for _, part := range parts(err) {
			line := publicLine(part)
			if !seen[line] {
				seen[line] = true
				lines = append(lines, line)
			}
		}
	}
	if len(lines) > maxPublicParts {
		more := len(lines) - maxPublicParts
		lines = append(lines[:maxPublicParts:maxPublicParts], fmt.Sprintf("and %d more", more))
	}
	return strings.Join(lines, "; ")
}

// parts splits err into the failures it joins; an error that joins nothing
// is one part, kept whole so that its context (the URL) stays with it. A
// failure of one URL, or of the configuration, is one part whatever it
// joins.
func parts(err error) []error {
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, inner := range e.Unwrap() {
			out = append(out, parts(inner)...)
		}
		return out
	case *urlError, *configError:
		return []error{err}
	case interface{ Unwrap() error }:
		if inner := e.Unwrap(); inner != nil {
			if ps := parts(inner); len(ps) > 1 {
				return ps
			}
		}
	}
	return []error{err}
}

// publicLine describes one failure; see Public.
func publicLine(err error) string {
	host := "the source"
	var ue *urlError
	if errors.As(err, &ue) {
		if h := ue.host(); h != "" {
			host = h
		}
	}
	var (
		he  *HTTPError
		re  *RedirectError
		dns *net.DNSError
		se  *listing.SelectorError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		op  *net.OpError
		cfg *configError
	)
	switch {
	case errors.As(err, &cfg):
		return "source misconfigured"
	case errors.Is(err, context.Canceled):
		return "fetch from " + host + " cancelled"
	case errors.As(err, &re) && re.Loop:
		return "redirect loop at " + host
	case errors.As(err, &re):
		return "redirect from " + host + " to another host refused"
	case errors.As(err, &he) && he.StatusCode == http.StatusTooManyRequests:
		return host + " rate-limited us (429)"
	case errors.As(err, &he):
		return strings.TrimSpace(fmt.Sprintf("%s answered %d %s", host, he.StatusCode, http.StatusText(he.StatusCode)))
	case errors.Is(err, ErrBodyTooLarge):
		return "answer from " + host + " too large"
	case errors.Is(err, ErrDisallowed):
		return host + " disallows the page in robots.txt"
	case errors.As(err, &dns):
		return "cannot reach " + host + ": DNS lookup failed"
	case isTimeout(err):
		return host + " timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "cannot reach " + host + ": connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return host + " closed the connection"
	case isTLS(err):
		return "cannot reach " + host + ": TLS failed"
	case errors.As(err, &op):
		return "cannot reach " + host + ": connection failed"
	case errors.As(err, &syn), errors.As(err, &typ):
		return "answer from " + host + " is not valid JSON"
	case errors.Is(err, ErrNoData):
		return "answer from " + host + " holds no daily papers data"
	case errors.Is(err, ErrBadEntries), errors.Is(err, arxiv.ErrBadItems), errors.Is(err, listing.ErrBadItems):
		return "no entry of the answer from " + host + " could be read"
	case errors.Is(err, arxiv.ErrNotListing):
		return "page from " + host + " is not an arXiv listing"
	case errors.Is(err, arxiv.ErrNotAbs):
		return "page from " + host + " is not an arXiv abstract page"
	case errors.As(err, &se) && errors.Is(err, listing.ErrNoMatch):
		return "page from " + host + ": the " + se.Field + " selector matches nothing"
	case errors.Is(err, listing.ErrNoPapers):
		return "page from " + host + " has no item with a title and a link"
	case errors.Is(err, ErrNoDetails):
		return "page from " + host + " has no abstract, authors or date"
	case errors.Is(err, ErrWrongPaper):
		return "page from " + host + " is about another paper"
	case errors.Is(err, ErrNoPage):
		return "no page to fetch"
	case errors.Is(err, ErrNotHTML):
		return "link is a PDF, not a page"
	}
	return "fetch from " + host + " failed"
}

// isTimeout reports a request that ran out of time.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isTLS reports a failed TLS handshake or certificate check.
func isTLS(err error) bool {
	var (
		rec     *tls.RecordHeaderError
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		name    x509.HostnameError
	)
	return errors.As(err, &rec) || errors.As(err, &verify) || errors.As(err, &unknown) ||
		errors.As(err, &invalid) || errors.As(err, &name)
}
