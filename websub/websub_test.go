package websub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// ping is one request a test hub received.
type ping struct {
	Method, Path, ContentType string
	Form                      url.Values
}

// testHub is a WebSub hub on 127.0.0.1 that records every request and
// answers each with answer(n, topic), n counting the requests for that
// topic from 1.
type testHub struct {
	*httptest.Server
	mu     sync.Mutex
	pings  []ping
	counts map[string]int
}

type answer func(w http.ResponseWriter, r *http.Request, n int)

func newHub(t *testing.T, a answer) *testHub {
	t.Helper()
	h := &testHub{counts: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("hub: unreadable form: %v", err)
		}
		h.mu.Lock()
		h.pings = append(h.pings, ping{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Form: r.PostForm})
		topic := r.PostForm.Get("hub.url")
		h.counts[topic]++
		n := h.counts[topic]
		h.mu.Unlock()
		a(w, r, n)
	}))
	t.Cleanup(h.Close)
	return h
}

// received is the hub.url of every ping the hub received, in order, after
// checking that each is a well-formed publish request.
func (h *testHub) received(t *testing.T) []string {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var urls []string
	for _, p := range h.pings {
		u := p.Form.Get("hub.url")
		want := url.Values{"hub.mode": {"publish"}, "hub.url": {u}, "hub.topic": {u}}
		if p.Method != http.MethodPost || p.ContentType != "application/x-www-form-urlencoded" || p.Form.Encode() != want.Encode() {
			t.Errorf("hub got %s %s %q with form %v, want a POST of the form %v", p.Method, p.Path, p.ContentType, p.Form, want)
		}
		urls = append(urls, u)
	}
	return urls
}

// status answers with code, the headers given as name, value pairs and
// body.
func status(code int, body string, header ...string) answer {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		if _, err := w.Write([]byte(body)); err != nil {
			return // the client went away; the test sees it
		}
	}
}

// sequence answers the n-th request for a topic with as[n-1], and the
// ones after the last with the last.
func sequence(as ...answer) answer {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		as[min(n, len(as))-1](w, r, n)
	}
}

// dropped closes the connection without an answer: a network error.
func dropped(w http.ResponseWriter, r *http.Request, n int) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if err := conn.Close(); err != nil {
		panic(err)
	}
}

// hangs answers nothing until the client gives up.
func hangs(w http.ResponseWriter, r *http.Request, n int) {
	<-r.Context().Done()
}

// fixedNow is the clock of the tests' Retry-After dates.
var fixedNow = time.Date(2026, 6, 13, 6, 0, 0, 0, time.UTC)

// testRetry is defaultRetry that records its waits instead of sleeping
// and gives up an attempt after 200ms.
func testRetry(waits *[]time.Duration) retry {
	r := defaultRetry
	r.sleep = func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
	r.now = func() time.Time { return fixedNow }
	r.timeout = 200 * time.Millisecond
	return r
}

const feedA = "https://feeds.example.org/feeds/a.atom"

// TestPing: what the hub answers decides whether, and after how long, the
// ping is sent again.
func TestPing(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name     string
		answer   answer
		attempts int
		waits    []time.Duration
		want     string // "" when the hub took it, "refused" or "down"
		message  string // in the error
	}{
		{"204", status(204, ""), 1, nil, "", ""},
		{"202 with a body", status(202, "queued"), 1, nil, "", ""},
		{"500 then 204", sequence(status(500, "oops"), status(204, "")), 2, []time.Duration{s}, "", ""},
		{"503 three times then 200", sequence(status(503, ""), status(503, ""), status(503, ""), status(200, "")), 4, []time.Duration{s, 2 * s, 4 * s}, "", ""},
		{"500 always", status(500, "database is down"), 4, []time.Duration{s, 2 * s, 4 * s}, "down", "after 4 attempts: hub answered 500 Internal Server Error for " + feedA + ": database is down"},
		{"429 with Retry-After in seconds", sequence(status(429, "", "Retry-After", "7"), status(204, "")), 2, []time.Duration{7 * s}, "", ""},
		{"429 with Retry-After as a date", sequence(status(429, "", "Retry-After", fixedNow.Add(30*s).Format(http.TimeFormat)), status(204, "")), 2, []time.Duration{30 * s}, "", ""},
		{"429 with Retry-After 0", sequence(status(429, "", "Retry-After", "0"), status(204, "")), 2, []time.Duration{0}, "", ""},
		{"429 with Retry-After past", sequence(status(429, "", "Retry-After", fixedNow.Add(-s).Format(http.TimeFormat)), status(204, "")), 2, []time.Duration{0}, "", ""},
		{"429 with Retry-After unreadable", sequence(status(429, "", "Retry-After", "soon"), status(204, "")), 2, []time.Duration{s}, "", ""},
		{"429 asking for an hour", status(429, "", "Retry-After", "3600"), 1, nil, "down", "(the hub asks to wait 1h0m0s)"},
		{"503 asking for a century and more", status(503, "", "Retry-After", "99999999999999999"), 1, nil, "down", "the hub asks to wait"},
		{"connection dropped then 204", sequence(dropped, status(204, "")), 2, []time.Duration{s}, "", ""},
		{"no answer then 204", sequence(hangs, status(204, "")), 2, []time.Duration{s}, "", ""},
		{"400", status(400, "bad topic\r\n  not\tallowed\x00"), 1, nil, "refused", "hub answered 400 Bad Request for " + feedA + ": bad topic not allowed"},
		{"404 with a page", status(404, "<html>"+strings.Repeat("x", 300)+"</html>"), 1, nil, "refused", ": <html>" + strings.Repeat("x", messageLimit-6) + " …"},
		{"410", status(410, ""), 1, nil, "refused", "hub answered 410 Gone for " + feedA},
		{"301 to a GET", status(301, "", "Location", "/elsewhere"), 1, nil, "refused", "hub answered 301 Moved Permanently for " + feedA + ": redirects to /elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hub := newHub(t, tt.answer)
			var waits []time.Duration
			r := testRetry(&waits)
			var settled []string
			err := r.publish(context.Background(), noRedirect(nil), hub.URL, []string{feedA}, func(u string) { settled = append(settled, u) })
			if got := hub.received(t); len(got) != tt.attempts {
				t.Errorf("hub got %d pings, want %d", len(got), tt.attempts)
			}
			if !slices.Equal(waits, tt.waits) {
				t.Errorf("waited %v, want %v", waits, tt.waits)
			}
			he, isHub := errors.AsType[*HubError](err)
			switch tt.want {
			case "":
				if err != nil || !slices.Equal(settled, []string{feedA}) {
					t.Errorf("err %v, settled %v; want nil and the URL settled", err, settled)
				}
			case "refused":
				if !isHub || he.Temporary() || !slices.Equal(settled, []string{feedA}) {
					t.Errorf("err %v, settled %v; want a refusal and the URL settled", err, settled)
				}
			case "down":
				if err == nil || len(settled) != 0 || !strings.Contains(err.Error(), "1 of 1 feeds not sent") {
					t.Errorf("err %v, settled %v; want the hub down and the URL kept", err, settled)
				}
			}
			if tt.message != "" && (err == nil || !strings.Contains(err.Error(), tt.message)) {
				t.Errorf("err %v, want it to say %q", err, tt.message)
			}
		})
	}
}

// TestRedirectKeepingThePost: a 307 or 308 is followed with the same POST
// and form; the hub's answer at the new place counts.
func TestRedirectKeepingThePost(t *testing.T) {
	for _, code := range []int{307, 308} {
		hub := newHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if r.URL.Path == "/old" {
				http.Redirect(w, r, "/new", code)
				return
			}
			w.WriteHeader(204)
		})
		if err := Publish(context.Background(), nil, hub.URL+"/old", []string{feedA}); err != nil {
			t.Errorf("%d: %v", code, err)
		}
		if got := hub.received(t); !slices.Equal(got, []string{feedA, feedA}) || hub.pings[1].Path != "/new" {
			t.Errorf("%d: hub got %v at %v", code, got, hub.pings)
		}
	}
}

// TestPublish: one ping per URL, in order; a refusal does not stop the
// rest, a hub that is down does, and every bad input is an error naming it.
func TestPublish(t *testing.T) {
	urls := []string{feedA, "https://feeds.example.org/feeds/b.rss", "https://feeds.example.org/feeds/c.json"}
	t.Run("all taken", func(t *testing.T) {
		hub := newHub(t, status(204, ""))
		if err := Publish(context.Background(), &http.Client{Timeout: 5 * time.Second}, hub.URL, urls); err != nil {
			t.Fatal(err)
		}
		if got := hub.received(t); !slices.Equal(got, urls) {
			t.Errorf("hub got %v, want %v once each, in order", got, urls)
		}
	})
	t.Run("one refused, the rest sent", func(t *testing.T) {
		hub := newHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if strings.HasSuffix(r.PostForm.Get("hub.url"), "b.rss") {
				http.Error(w, "unknown topic", 400)
				return
			}
			w.WriteHeader(204)
		})
		err := Publish(context.Background(), nil, hub.URL, urls)
		he, ok := errors.AsType[*HubError](err)
		if !ok || he.StatusCode != 400 || he.URL != urls[1] || he.Message != "unknown topic" {
			t.Errorf("err %v, want the hub's 400 for %s", err, urls[1])
		}
		if got := hub.received(t); !slices.Equal(got, urls) {
			t.Errorf("hub got %v, want %v", got, urls)
		}
	})
	t.Run("retried without waiting when the hub says 0", func(t *testing.T) {
		hub := newHub(t, sequence(status(429, "", "Retry-After", "0"), status(204, "")))
		if err := Publish(context.Background(), nil, hub.URL, urls[:1]); err != nil {
			t.Fatal(err)
		}
		if got := hub.received(t); !slices.Equal(got, []string{feedA, feedA}) {
			t.Errorf("hub got %v, want the URL twice", got)
		}
	})
	t.Run("down: the rest not sent", func(t *testing.T) {
		hub := newHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if strings.HasSuffix(r.PostForm.Get("hub.url"), "b.rss") {
				w.Header().Set("Retry-After", "600")
				w.WriteHeader(503)
				return
			}
			w.WriteHeader(204)
		})
		err := Publish(context.Background(), nil, hub.URL, urls)
		if err == nil || !strings.Contains(err.Error(), "did not take "+urls[1]+"; 2 of 3 feeds not sent") {
			t.Errorf("err %v, want the hub down at %s", err, urls[1])
		}
		if got := hub.received(t); !slices.Equal(got, urls[:2]) {
			t.Errorf("hub got %v, want %v", got, urls[:2])
		}
	})
	t.Run("context ended", func(t *testing.T) {
		hub := newHub(t, status(204, ""))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := Publish(ctx, nil, hub.URL, urls); !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want %v", err, context.Canceled)
		}
		if got := hub.received(t); len(got) != 0 {
			t.Errorf("hub got %v after the context ended", got)
		}
	})
	t.Run("bad hub", func(t *testing.T) {
		for _, h := range []string{"", "hub.example.org", "ftp://hub.example.org/", "http://[::1"} {
			if err := Publish(context.Background(), nil, h, urls); err == nil || !strings.Contains(err.Error(), "hub") {
				t.Errorf("hub %q: err %v, want an error naming the hub", h, err)
			}
		}
	})
	t.Run("bad feed url", func(t *testing.T) {
		hub := newHub(t, status(204, ""))
		err := Publish(context.Background(), nil, hub.URL, []string{"/feeds/a.atom", feedA})
		if !errors.Is(err, ErrBadURL) || !strings.Contains(err.Error(), `"/feeds/a.atom"`) {
			t.Errorf("err %v, want %v naming the URL", err, ErrBadURL)
		}
		if got := hub.received(t); !slices.Equal(got, []string{feedA}) {
			t.Errorf("hub got %v, want only the good URL", got)
		}
	})
}

func newTestPinger(t *testing.T, hub string, waits *[]time.Duration) *Pinger {
	t.Helper()
	p, err := NewPinger(nil, hub)
	if err != nil {
		t.Fatal(err)
	}
	p.retry = testRetry(waits)
	return p
}

// TestPingerKeepsWhatFailed: URLs queued twice are sent once; while the
// hub is down they stay queued, and the next Flush sends each once; a
// refused URL leaves the queue with its error.
func TestPingerKeepsWhatFailed(t *testing.T) {
	var mu sync.Mutex
	down := true
	hub := newHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case down:
			w.WriteHeader(500)
		case strings.HasSuffix(r.PostForm.Get("hub.url"), "bad.atom"):
			w.WriteHeader(400)
		default:
			w.WriteHeader(204)
		}
	})
	var waits []time.Duration
	p := newTestPinger(t, hub.URL, &waits)
	urls := []string{feedA, "https://feeds.example.org/feeds/b.rss", "https://feeds.example.org/feeds/bad.atom"}
	p.Add(urls[:2])
	p.Add(urls[1:])
	p.Add(nil)
	if p.Pending() != 3 {
		t.Fatalf("Pending %d, want 3", p.Pending())
	}
	if err := p.Flush(context.Background()); err == nil {
		t.Error("Flush with the hub down gave no error")
	}
	if p.Pending() != 3 {
		t.Errorf("after an outage Pending %d, want all 3 kept", p.Pending())
	}
	if got := hub.received(t); !slices.Equal(got, []string{feedA, feedA, feedA, feedA}) {
		t.Errorf("hub got %v, want the first URL's 4 attempts and nothing after it", got)
	}

	mu.Lock()
	down = false
	mu.Unlock()
	before := len(hub.received(t))
	err := p.Flush(context.Background())
	if he, ok := errors.AsType[*HubError](err); !ok || he.StatusCode != 400 || he.URL != urls[2] {
		t.Errorf("err %v, want the refusal of %s", err, urls[2])
	}
	if got := hub.received(t)[before:]; !slices.Equal(got, urls) {
		t.Errorf("after the outage the hub got %v, want %v once each", got, urls)
	}
	if p.Pending() != 0 {
		t.Errorf("Pending %d, want 0: taken or refused", p.Pending())
	}
	before = len(hub.received(t))
	if err := p.Flush(context.Background()); err != nil {
		t.Error(err)
	}
	if got := hub.received(t)[before:]; len(got) != 0 {
		t.Errorf("a Flush with nothing queued sent %v", got)
	}
}

// TestPingerAddedAgainDuringFlush: a URL added again while its ping is
// under way changed again after the hub was told, and stays queued.
func TestPingerAddedAgainDuringFlush(t *testing.T) {
	var p *Pinger
	hub := newHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			p.Add([]string{r.PostForm.Get("hub.url")})
		}
		w.WriteHeader(204)
	})
	var waits []time.Duration
	p = newTestPinger(t, hub.URL, &waits)
	p.Add([]string{feedA})
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p.Pending() != 1 {
		t.Fatalf("Pending %d, want the URL added during its ping", p.Pending())
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := hub.received(t); !slices.Equal(got, []string{feedA, feedA}) || p.Pending() != 0 {
		t.Errorf("hub got %v, Pending %d; want the URL twice, then nothing queued", got, p.Pending())
	}
}

// TestPingerFlushesOneAtATime: Flushes called together send each URL once.
func TestPingerFlushesOneAtATime(t *testing.T) {
	hub := newHub(t, status(204, ""))
	var waits []time.Duration
	p := newTestPinger(t, hub.URL, &waits)
	urls := []string{feedA, "https://feeds.example.org/feeds/b.rss", "https://feeds.example.org/feeds/c.json"}
	p.Add(urls)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := p.Flush(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := hub.received(t); !slices.Equal(got, urls) {
		t.Errorf("hub got %v, want %v once each", got, urls)
	}
}

// TestPingerContextEnded: a Flush whose context ended keeps every URL.
func TestPingerContextEnded(t *testing.T) {
	hub := newHub(t, status(204, ""))
	var waits []time.Duration
	p := newTestPinger(t, hub.URL, &waits)
	p.Add([]string{feedA})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want %v", err, context.Canceled)
	}
	if p.Pending() != 1 {
		t.Errorf("Pending %d, want 1", p.Pending())
	}
}

func TestNewPingerRefusesABadHub(t *testing.T) {
	for _, h := range []string{"", "/hub", "mailto:hub@example.org"} {
		if p, err := NewPinger(nil, h); err == nil || p != nil || !errors.Is(err, ErrBadURL) {
			t.Errorf("NewPinger(%q) = %v, %v; want nil and %v", h, p, err, ErrBadURL)
		}
	}
}

func TestPingerHub(t *testing.T) {
	p, err := NewPinger(http.DefaultClient, "https://hub.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	if p.Hub() != "https://hub.example.org/" {
		t.Errorf("Hub() = %q", p.Hub())
	}
}
