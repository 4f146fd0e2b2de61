// Package websub is the publishing side of WebSub (a W3C Recommendation):
// after a refresh changed some feeds, it tells the hub the feeds name, so
// that the hub fetches them and pushes them to its subscribers at once
// instead of their polling. It knows nothing of feeds or topics: it is
// given the hub and the public URLs of the feeds that changed (what
// site.Result.Changed lists).
//
// # Contract
//
//   - A ping is one POST to the hub per feed URL, in the order given, with
//     a form body (application/x-www-form-urlencoded): hub.mode=publish,
//     hub.url=<feed URL> and hub.topic=<the same URL>. The Recommendation
//     leaves the mechanism to the hub (section 6, Publishing); the public
//     hubs it points to read hub.url, other hubs read hub.topic, and a hub
//     ignores the parameter it does not read, so both are sent.
//   - A 2xx answer means the hub took the URL. A network error, an attempt
//     that takes longer than 10 seconds, a 5xx or a 429 may pass: the ping
//     is tried again after 1, 2 and then 4 seconds, or after what the
//     hub's Retry-After says (seconds or an HTTP date), up to a minute. When
//     the attempts run out, or Retry-After asks for longer than a minute,
//     the hub is taken to be down: that URL and the ones after it are not
//     sent now (a hub that is down would fail them all, one by one, each
//     after its retries).
//   - Any other answer (a 4xx but 429, or a redirect that would turn the
//     POST into a GET: give the hub's final URL) refuses that URL for good:
//     it is not retried, the error (*HubError) says why, and the next URL
//     is sent.
//   - Publish sends a list once. Pinger keeps the URLs not sent yet from
//     one refresh to the next: a URL stays queued until the hub took it or
//     refused it, so an outage loses nothing, and a URL queued twice is
//     sent once.
//
// The hub's URL is public (every feed shows it), so errors name it.
package websub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// HubError is a hub's answer other than 2xx to the ping of one feed URL.
type HubError struct {
	URL        string // the feed URL pinged
	StatusCode int
	Message    string // the start of the answer's body, on one line, or ""
}

func (e *HubError) Error() string {
	s := fmt.Sprintf("hub answered %d %s for %s", e.StatusCode, http.StatusText(e.StatusCode), e.URL)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Temporary reports whether the hub may take the URL later: a 5xx or a
// 429. Any other answer refuses it.
func (e *HubError) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// ErrBadURL is the error for a hub or feed URL that is not an absolute
// http(s) URL.
var ErrBadURL = errors.New("not an absolute http or https url")

// messageLimit is how much of a refusal's body HubError.Message keeps: a
// hub's reason is a line ("topic not allowed"), and a misconfigured hub
// URL answers with a whole HTML page.
const messageLimit = 200

// drainLimit is how much of an answer is read before the connection is
// closed; reading it lets the client reuse the connection for the next ping.
const drainLimit = 64 << 10

// retry is how pings are sent and tried again.
type retry struct {
	attempts int           // tries of one URL, the first included
	base     time.Duration // wait before the second try, doubled for each next one
	max      time.Duration // the longest wait (a longer Retry-After means the hub is down)
	timeout  time.Duration // one attempt's limit
	sleep    func(ctx context.Context, d time.Duration) error
	now      func() time.Time // for a Retry-After that is an HTTP date
}

// defaultRetry: four tries over about 7 seconds, enough for a hub's blip
// or restart; an outage longer than that waits for the next refresh
// rather than holding this one.
var defaultRetry = retry{
	attempts: 4,
	base:     time.Second,
	max:      time.Minute,
	timeout:  10 * time.Second,
	sleep:    sleep,
	now:      time.Now,
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Publish tells hub that each of urls changed: one ping per URL, in order,
// tried again on failures that may pass (see the package comment). It
// returns nil when the hub took every URL; otherwise the refusals
// (*HubError) and, when the hub was down or ctx ended, which URL it
// stopped at and how many were not sent, joined. client nil means
// http.DefaultClient.
func Publish(ctx context.Context, client *http.Client, hub string, urls []string) error {
	if err := checkURL(hub); err != nil {
		return fmt.Errorf("websub: hub %q: %w", hub, err)
	}
	return defaultRetry.publish(ctx, noRedirect(client), hub, urls, func(string) {})
}

// checkURL refuses a URL that is not absolute http(s).
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ErrBadURL
	}
	return nil
}

// noRedirect is a copy of client (http.DefaultClient when nil) that
// follows only redirects that keep the POST and its body (307, 308): the
// others would send the hub a GET without the form, which it would take
// for something else.
func noRedirect(client *http.Client) *http.Client {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Method != http.MethodPost {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// publish pings each of urls in order and calls done with every URL the
// hub took or refused for good (or that is not a URL), which is then
// settled. It stops at the first URL the hub did not answer, or when ctx
// ends; the URLs from there on are not settled.
func (r *retry) publish(ctx context.Context, client *http.Client, hub string, urls []string, done func(string)) error {
	var errs []error
	for i, u := range urls {
		if err := checkURL(u); err != nil {
			errs = append(errs, fmt.Errorf("websub: feed url %q: %w", u, err))
			done(u)
			continue
		}
		err := r.ping(ctx, client, hub, u)
		if he, ok := errors.AsType[*HubError](err); err == nil || ok && !he.Temporary() {
			if err != nil {
				errs = append(errs, fmt.Errorf("websub: hub %s refused a feed: %w", hub, err))
			}
			done(u)
			continue
		}
		errs = append(errs, fmt.Errorf("websub: hub %s did not take %s; %d of %d feeds not sent: %w", hub, u, len(urls)-i, len(urls), err))
		break
	}
	return errors.Join(errs...)
}

// ping sends one URL to the hub, trying again while the failure may pass.
func (r *retry) ping(ctx context.Context, client *http.Client, hub, topic string) error {
	for attempt := 1; ; attempt++ {
		wait, err := r.once(ctx, client, hub, topic)
		if err == nil {
			return nil
		}
		if he, ok := errors.AsType[*HubError](err); ok && !he.Temporary() {
			return err
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		if attempt >= r.attempts {
			return fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		if wait < 0 {
			wait = r.base << (attempt - 1)
		}
		if wait > r.max {
			return fmt.Errorf("%w (the hub asks to wait %s)", err, wait)
		}
		if err := r.sleep(ctx, wait); err != nil {
			return errors.Join(fmt.Errorf("after %d attempts: %w", attempt, err), ctx.Err())
		}
	}
}

// once makes one attempt. It returns the wait the hub asked for in
// Retry-After, or -1 when it asked none.
func (r *retry) once(ctx context.Context, client *http.Client, hub, topic string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {topic}, "hub.topic": {topic}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return -1, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "paperfeed (WebSub publisher)")
	resp, err := client.Do(req)
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		drain(resp.Body) // the hub took the URL, whatever follows
		return -1, nil
	}
	he := &HubError{URL: topic, StatusCode: resp.StatusCode, Message: message(resp.Body)}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		he.Message = "redirects to " + loc
	}
	return r.retryAfter(resp.Header.Get("Retry-After")), he
}

// drain reads what is left of an answer, up to drainLimit, so that the
// client can reuse the connection. A failure only costs that reuse, so
// drain returns nothing: the answer's status has been read already.
func drain(body io.Reader) {
	if _, err := io.Copy(io.Discard, io.LimitReader(body, drainLimit)); err != nil {
		return // the connection is closed instead of reused
	}
}

// message is the start of an answer's body on one line, printable runes
// only, ending in " …" when there was more or the body broke off; the rest
// is drained.
func message(body io.Reader) string {
	data, err := io.ReadAll(io.LimitReader(body, messageLimit+1))
	if err != nil || len(data) > messageLimit {
		data = append(data[:min(len(data), messageLimit)], " …"...)
	}
	drain(body)
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(data), ""))
	return strings.Join(strings.Fields(s), " ")
}

// maxRetryAfter caps a Retry-After in seconds (a century) so that the wait
// does not overflow a time.Duration; any such wait means the hub is down.
const maxRetryAfter = 100 * 365 * 24 * 3600

// retryAfter is the wait a Retry-After value asks for (delay-seconds or an
// HTTP date), or -1 when there is none or it cannot be read.
func (r *retry) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return -1
		}
		return time.Duration(min(n, maxRetryAfter)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(r.now()), 0)
	}
	return -1
}

// Pinger queues the URLs of changed feeds until their hub took them, so
// that pings that failed are sent at the next refresh and none is lost.
// Add and Pending may be called at any time, also during a Flush; one
// Flush runs at a time.
type Pinger struct {
	client *http.Client
	hub    string
	retry  retry

	flush sync.Mutex // held by the Flush that runs

	mu    sync.Mutex
	queue []string          // URLs not sent yet, in the order first added
	added map[string]uint64 // each queued URL: the Add that queued it last
	adds  uint64
}

// NewPinger returns a Pinger for hub, which must be an absolute http(s)
// URL. client nil means http.DefaultClient; redirects that would turn a
// ping into a GET are not followed (see the package comment).
func NewPinger(client *http.Client, hub string) (*Pinger, error) {
	if err := checkURL(hub); err != nil {
		return nil, fmt.Errorf("websub: hub %q: %w", hub, err)
	}
	return &Pinger{client: noRedirect(client), hub: hub, retry: defaultRetry, added: map[string]uint64{}}, nil
}

// Add queues urls for the next Flush. A URL already queued stays in its
// place and is sent once; one added again while a Flush sends it is sent
// again by the next Flush, since its feed changed after the hub was told.
func (p *Pinger) Add(urls []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range urls {
		p.adds++
		if _, ok := p.added[u]; !ok {
			p.queue = append(p.queue, u)
		}
		p.added[u] = p.adds
	}
}

// Hub is the hub p pings.
func (p *Pinger) Hub() string { return p.hub }

// Pending is how many URLs are queued.
func (p *Pinger) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// Flush sends the queued URLs to the hub, in order, as Publish does. A URL
// the hub took, or refused for good, leaves the queue; those after a URL
// the hub did not take, while it is down, stay for the next Flush, as do
// all of them when ctx ends. It returns what Publish would: nil when the
// queue is empty or the hub took everything.
func (p *Pinger) Flush(ctx context.Context) error {
	p.flush.Lock()
	defer p.flush.Unlock()
	p.mu.Lock()
	urls := append([]string(nil), p.queue...)
	seen := make(map[string]uint64, len(urls))
	for _, u := range urls {
		seen[u] = p.added[u]
	}
	p.mu.Unlock()
	if len(urls) == 0 {
		return nil
	}
	return p.retry.publish(ctx, p.client, p.hub, urls, func(u string) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.added[u] != seen[u] {
			return // added again since the Flush began: its feed changed again
		}
		delete(p.added, u)
		if i := indexOf(p.queue, u); i >= 0 {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
		}
	})
}

// indexOf is the index of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
