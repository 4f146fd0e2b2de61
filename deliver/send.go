package deliver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// outcome is what became of one attempt to send a message.
type outcome int

const (
	// accepted: the target took the message; its papers are marked.
	accepted outcome = iota
	// retry: the target is down, slow, overloaded or rate-limiting
	// (5xx, 429, 408, no answer, a network error): the message stays
	// queued and is tried again after a backoff or what the target asked.
	retry
	// refusedMessage: the target refused this message for good (a 4xx
	// other than those below): it is marked failed and never sent again,
	// since sending the same bytes again would be refused again.
	refusedMessage
	// refusedTarget: the target refused us, not the message (401, 403,
	// 404, 410, a redirect; SMTP authentication or TLS): its URL or
	// credentials are wrong or revoked. Nothing is marked: the queue waits
	// for a long backoff or a config reload.
	refusedTarget
)

// result is the outcome of an attempt, with what the target said.
type result struct {
	outcome outcome
	// wait is, for retry, how long the target asked us to wait
	// (Retry-After, Discord's retry_after); for accepted, how long its
	// rate-limit headers say the next message must wait (Discord's
	// X-RateLimit-Remaining: 0 and X-RateLimit-Reset-After). Zero when it
	// said nothing.
	wait time.Duration
	// detail is one line for logs and Status, without secrets: the status
	// and the start of the body, or the error.
	detail string
	// limited is true when the target said we send too much (HTTP 429).
	limited bool
}

// sender sends rendered messages to one target.
type sender interface {
	send(ctx context.Context, m *message) result
	close()
}

// maxWait caps what a target may ask us to wait, so a bogus Retry-After
// cannot park a target for days; a target still busy then says so again.
const maxWait = 6 * time.Hour

// httpSender POSTs messages to a Slack, Discord, ntfy or generic webhook.
type httpSender struct {
	typ    string
	url    string
	client *http.Client
	red    redactor
	now    func() time.Time // for a Retry-After that is a date
}

func newHTTPSender(t *Target, timeout time.Duration, red redactor, now func() time.Time) *httpSender {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2
	return &httpSender{typ: t.Type, url: t.URL, red: red, now: now, client: &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// A webhook that redirects is not where it was configured: say
		// so rather than POST the message somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (s *httpSender) close() { s.client.CloseIdleConnections() }

func (s *httpSender) send(ctx context.Context, m *message) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(m.body))
	if err != nil {
		return result{outcome: refusedTarget, detail: "cannot make the request: " + s.red.line(unwrapURL(err).Error())}
	}
	for k, v := range m.header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "paperfeed")
	resp, err := s.client.Do(req)
	if err != nil {
		return result{outcome: retry, detail: s.red.line(netError(err, s.client.Timeout))}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096)) // for the detail only: a short read is fine
	return s.classify(resp, body)
}

// classify turns a response into a result.
func (s *httpSender) classify(resp *http.Response, body []byte) result {
	code := resp.StatusCode
	r := result{detail: s.red.line(fmt.Sprintf("HTTP %d %s", code, firstLine(body)))}
	switch {
	case code >= 200 && code < 300:
		r.outcome = accepted
		if s.typ == TypeDiscord && resp.Header.Get("X-RateLimit-Remaining") == "0" {
			r.wait = seconds(resp.Header.Get("X-RateLimit-Reset-After"))
		}
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code >= 500:
		r.outcome, r.limited = retry, code == http.StatusTooManyRequests
		r.wait = retryAfter(resp.Header.Get("Retry-After"), s.now())
		if s.typ == TypeDiscord {
			var d struct {
				RetryAfter float64 `json:"retry_after"`
			}
			if json.Unmarshal(body, &d) == nil {
				r.wait = max(r.wait, seconds(strconv.FormatFloat(d.RetryAfter, 'f', -1, 64)))
			}
		}
	case code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusNotFound, code == http.StatusGone,
		code >= 300 && code < 400, code < 200:
		r.outcome = refusedTarget
	default:
		r.outcome = refusedMessage
	}
	return r
}

// firstLine is the first line of a response body, cut short.
func firstLine(body []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	return cut(clean(line), 200)
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date; zero
// when absent or unreadable, at most maxWait.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if d := seconds(v); d > 0 {
		return d
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxWait)
	}
	return 0
}

// seconds reads a non-negative number of seconds, fractions allowed, at
// most maxWait; zero when unreadable.
func seconds(v string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	if f > maxWait.Seconds() {
		return maxWait
	}
	return time.Duration(f * float64(time.Second))
}

// unwrapURL takes the URL out of an error of net/http's, which names it.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// netError says in one line why a request got no answer, without its URL.
func netError(err error, timeout time.Duration) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return unwrapURL(err).Error()
}

// emailSender sends e-mails over SMTP.
type emailSender struct {
	srv     smtpServer
	timeout time.Duration
	tls     *tls.Config // nil: the system's roots, checked against the host
	red     redactor
}

func (s *emailSender) close() {}

func (s *emailSender) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.srv.port), gomail.WithTimeout(s.timeout)}
	if s.srv.implicit {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.tls != nil {
		opts = append(opts, gomail.WithTLSConfig(s.tls))
	}
	if s.srv.user != "" {
		// go-mail picks the strongest mechanism the server offers, and
		// never PLAIN or LOGIN on a connection without TLS.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.srv.user), gomail.WithPassword(s.srv.pwd))
	}
	return gomail.NewClient(s.srv.host, opts...)
}

func (s *emailSender) send(ctx context.Context, m *message) result {
	c, err := s.client()
	if err != nil {
		return result{outcome: refusedTarget, detail: s.red.line("smtp client: " + err.Error())}
	}
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		r := result{outcome: retry, detail: s.red.line("smtp: " + err.Error())}
		var ne net.Error
		var te *tls.CertificateVerificationError
		switch {
		case errors.As(err, &ne):
		case errors.As(err, &te), strings.Contains(err.Error(), "AUTH"), strings.Contains(err.Error(), "auth"),
			strings.Contains(err.Error(), "STARTTLS"):
			// Wrong credentials, a server that will not take them
			// without TLS, a certificate that does not check: ours to
			// fix, not the server's to recover from.
			r.outcome = refusedTarget
		}
		return r
	}
	err = c.SendWithSMTPClient(conn, m.mail)
	// The message is the server's once it accepted the data: a failing
	// QUIT after that is only worth a word in the log.
	cerr := c.CloseWithSMTPClient(conn)
	if err == nil || m.mail.IsDelivered() {
		r := result{outcome: accepted, detail: "accepted"}
		if cerr != nil {
			r.detail = s.red.line("accepted; closing the connection failed: " + cerr.Error())
		}
		return r
	}
	r := result{outcome: retry, detail: s.red.line("smtp: " + err.Error())}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		r.outcome = refusedMessage
	}
	return r
}
