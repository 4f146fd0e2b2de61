package deliver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/store"
)

// slackTitleOf is the title of the paper a Slack message is about, read
// from its fallback text.
func slackTitleOf(t testing.TB, body []byte) string {
	t.Helper()
	var m slackMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("slack message %s: %v", body, err)
	}
	_, title, _ := strings.Cut(m.Text, ": ")
	return title
}

func titles(t testing.TB, got []request) []string {
	var out []string
	for _, r := range got {
		out = append(out, slackTitleOf(t, r.body))
	}
	return out
}

func titleOf(i int) string { return testPaper(i).Title }

// TestEachDeliversExactlyTheNewPapers: a new target gets the backlog (the
// topic's newest, oldest first), then only papers first seen after it was
// added, each once, however often they are offered; the marks are in the
// history.
func TestEachDeliversExactlyTheNewPapers(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 5), t0)
	rc := newReceiver(t, slackOK)
	clock := newFakeClock(t0.Add(time.Hour))
	hs := start(t, h, clock, slackTarget("lab", rc.srv.URL+"/services/T/B/X", "agents"))

	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 5), "other": paperIDs(0, 2)})
	got := rc.accepted(t, 3)
	if want := []string{titleOf(2), titleOf(3), titleOf(4)}; !slices.Equal(titles(t, got), want) {
		t.Errorf("backlog: got %q, want %q (the 3 newest, oldest first)", titles(t, got), want)
	}
	hs.idle("lab", 1)
	rc.none(t)

	// Two new papers, first seen after the target was added; the old
	// ones are offered again.
	clock.advance(time.Hour)
	h.merge(papers(5, 2), clock.Now())
	for range 3 {
		hs.d.Offer(map[string][]string{"agents": paperIDs(0, 7)})
	}
	got = rc.accepted(t, 2)
	if want := []string{titleOf(5), titleOf(6)}; !slices.Equal(titles(t, got), want) {
		t.Errorf("new papers: got %q, want %q", titles(t, got), want)
	}
	hs.idle("lab", 4)
	rc.none(t)

	m := h.marks("lab", paperIDs(0, 7)...)
	var done []string
	for id := range m.Done {
		done = append(done, id)
	}
	slices.Sort(done)
	if want := []string{"2606.00002", "2606.00003", "2606.00004", "2606.00005", "2606.00006"}; !slices.Equal(done, want) {
		t.Errorf("marked %q, want %q", done, want)
	}
	if len(m.Pending) != 0 {
		t.Errorf("still queued: %v", m.Pending)
	}
	if !m.Since["agents"].Equal(t0.Add(time.Hour)) {
		t.Errorf("since = %v, want %v", m.Since["agents"], t0.Add(time.Hour))
	}
	st := hs.d.Status()
	if len(st) != 1 || st[0].Queued != 0 || !st[0].LastSuccess.Equal(clock.Now()) || st[0].LastError != "" {
		t.Errorf("Status = %+v", st)
	}
}

// TestPaperInTwoTopicsOnce: a paper in two of a target's topics, or
// leaving and re-entering one, is sent once.
func TestPaperInTwoTopicsOnce(t *testing.T) {
	h := newHistory(t)
	rc := newReceiver(t, slackOK)
	clock := newFakeClock(t0)
	hs := start(t, h, clock, slackTarget("lab", rc.srv.URL, "agents", "planning"))
	hs.d.Offer(map[string][]string{"agents": {}, "planning": {}})
	hs.idle("lab", 1)

	clock.advance(time.Minute)
	h.merge(papers(0, 2), clock.Now())
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2), "planning": paperIDs(0, 2)})
	got := rc.accepted(t, 2)
	hs.idle("lab", 2)
	hs.d.Offer(map[string][]string{"agents": {}, "planning": {}})
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2), "planning": paperIDs(1, 1)})
	hs.idle("lab", 4)
	rc.none(t)
	for _, r := range got {
		var m slackMessage
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.Text, "New in agents: ") {
			t.Errorf("text %q: want the first topic of the target, agents", m.Text)
		}
	}
}

// TestNoneTwiceAcrossRestart: a new Deliverer over the same history sends
// nothing already sent, and what the first one still owed (queued in the
// history) is sent, even when no feed shows it any more.
func TestNoneTwiceAcrossRestart(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 3), t0)
	rc := newReceiver(t, slackOK)
	clock := newFakeClock(t0.Add(time.Hour))
	target := slackTarget("lab", rc.srv.URL, "agents")
	hs := start(t, h, clock, target)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 3)})
	rc.accepted(t, 3)
	hs.idle("lab", 1)
	// The receiver goes down; two new papers stay queued.
	rc.then(reply{status: 503})
	clock.advance(time.Minute)
	h.merge(papers(3, 2), clock.Now())
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 5)})
	hs.waiting("lab")
	hs.stop()
	if n := len(h.marks("lab").Pending); n != 2 {
		t.Fatalf("after the outage %d papers queued in the history, want 2", n)
	}

	// A new process: the feed no longer shows the two, and nothing else is
	// new.
	hs = start(t, h, clock, target)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 3)})
	got := rc.accepted(t, 2)
	if want := []string{titleOf(3), titleOf(4)}; !slices.Equal(titles(t, got), want) {
		t.Errorf("after the restart: got %q, want %q", titles(t, got), want)
	}
	hs.idle("lab", 1)
	rc.none(t)
	var accepted int
	for _, r := range rc.requests() {
		if r.status == 200 {
			accepted++
		}
	}
	if accepted != 5 {
		t.Errorf("%d messages accepted in all, want 5", accepted)
	}
}

// TestOutage: 5xx, 429 with Retry-After, Discord's retry_after, a hang and
// a refused connection keep the queue; each is retried after the backoff
// or what the target asked, and every paper arrives once.
func TestOutage(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		ok      reply
		replies []reply
		// waits are the least waits wanted before each retry.
		waits []time.Duration
	}{
		{"500 then ok", TypeSlack, slackOK, []reply{{status: 500}, {status: 502}}, []time.Duration{time.Second, 2 * time.Second}},
		{"429 Retry-After seconds", TypeSlack, slackOK, []reply{{status: 429, header: http.Header{"Retry-After": {"30"}}}}, []time.Duration{30 * time.Second}},
		{"429 Retry-After date", TypeNtfy, ntfyOK, []reply{{status: 429, header: http.Header{"Retry-After": {t0.Add(time.Hour + 90*time.Second).Format(http.TimeFormat)}}}}, []time.Duration{90 * time.Second}},
		{"discord retry_after", TypeDiscord, discordOK, []reply{{status: 429, body: `{"message":"You are being rate limited.","retry_after":12.5,"global":false}`}}, []time.Duration{12500 * time.Millisecond}},
		{"503 with Retry-After", TypeWebhook, hookOK, []reply{{status: 503, header: http.Header{"Retry-After": {"7"}}}}, []time.Duration{7 * time.Second}},
		{"hang", TypeWebhook, hookOK, []reply{{hang: true}}, []time.Duration{time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t)
			h.merge(papers(0, 2), t0)
			rc := newReceiver(t, tt.ok)
			rc.then(tt.replies...)
			clock := newFakeClock(t0.Add(time.Hour))
			hs := start(t, h, clock, Target{Name: "t", Type: tt.typ, URL: rc.srv.URL, Backlog: 2})
			hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
			for i, want := range tt.waits {
				until := hs.waiting("t")
				if got := until.Sub(clock.Now()); got < want {
					t.Errorf("retry %d after %s, want at least %s", i+1, got, want)
				}
				if st := hs.d.Status()[0]; st.Queued != 2 || st.LastError == "" || !st.Next.Equal(until) {
					t.Errorf("Status during the outage: %+v", st)
				}
				clock.set(until)
			}
			rc.accepted(t, 2)
			hs.idle("t", 1)
			rc.none(t)
			if m := h.marks("t", paperIDs(0, 2)...); len(m.Done) != 2 || len(m.Pending) != 0 {
				t.Errorf("marks: %+v", m)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		h := newHistory(t)
		h.merge(papers(0, 1), t0)
		rc := newReceiver(t, hookOK)
		url := rc.srv.URL
		rc.srv.Close() // nothing listens there now
		clock := newFakeClock(t0.Add(time.Hour))
		hs := start(t, h, clock, Target{Name: "t", Type: TypeWebhook, URL: url, Backlog: 1})
		hs.d.Offer(map[string][]string{"agents": paperIDs(0, 1)})
		until := hs.waiting("t")
		if got := until.Sub(clock.Now()); got != time.Second {
			t.Errorf("first retry after %s, want the backoff's 1s", got)
		}
		until = func() time.Time { clock.set(until); return hs.waiting("t") }()
		if got := until.Sub(clock.Now()); got != 2*time.Second {
			t.Errorf("second retry after %s, want 2s (doubled)", got)
		}
		if st := hs.d.Status()[0]; !strings.Contains(st.LastError, "connection refused") || st.Queued != 1 {
			t.Errorf("Status: %+v", st)
		}
	})
}

// TestRefused: a 400 refuses that message for good (marked failed, never
// retried, the next one follows); a 404 refuses the target (nothing
// marked, a long wait).
func TestRefused(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 3), t0)
	rc := newReceiver(t, slackOK)
	rc.then(reply{status: 400, body: "invalid_blocks"})
	clock := newFakeClock(t0.Add(time.Hour))
	hs := start(t, h, clock, slackTarget("lab", rc.srv.URL, "agents"))
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 3)})
	rc.accepted(t, 2)
	hs.idle("lab", 1)
	if n := len(rc.requests()); n != 3 {
		t.Errorf("%d requests, want 3: the refused message is not tried again", n)
	}
	m := h.marks("lab", paperIDs(0, 3)...)
	if mk := m.Done[testPaper(0).ID]; mk.Failed != "HTTP 400 invalid_blocks" {
		t.Errorf("mark of the refused paper: %+v, want failed with the reason", mk)
	}
	st := hs.d.Status()[0]
	if !strings.Contains(st.LastError, "refused a message for good: HTTP 400 invalid_blocks") {
		t.Errorf("LastError = %q", st.LastError)
	}

	rc.then(reply{status: 404, body: "no_service"})
	clock.advance(time.Minute)
	h.merge(papers(3, 1), clock.Now())
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 4)})
	until := hs.waiting("lab")
	if got := until.Sub(clock.Now()); got != defaultRefusedWait {
		t.Errorf("after a 404 the target waits %s, want %s", got, defaultRefusedWait)
	}
	if m := h.marks("lab", testPaper(3).ID); len(m.Done) != 0 || len(m.Pending) != 1 {
		t.Errorf("after a 404: %+v, want the paper still queued", m)
	}
	if st := hs.d.Status()[0]; !strings.Contains(st.LastError, "check its url or credentials: HTTP 404 no_service") {
		t.Errorf("LastError = %q", st.LastError)
	}
	clock.set(until)
	rc.accepted(t, 1)
}

// TestBacklog: a target added later, a topic added to a target, and a
// target with backlog 0.
func TestBacklog(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 10), t0)
	rc := newReceiver(t, slackOK)
	clock := newFakeClock(t0.Add(time.Hour))
	first := slackTarget("a", rc.srv.URL, "agents")
	first.Backlog = 0
	hs := start(t, h, clock, first)
	shown := map[string][]string{"agents": paperIDs(0, 5), "vision": paperIDs(5, 5)}
	hs.d.Offer(shown)
	hs.idle("a", 1)
	rc.none(t)

	// The target takes a second topic, with a backlog of 2.
	second := first
	second.Topics, second.Backlog = []string{"agents", "vision"}, 2
	if err := hs.d.Reconfigure([]Target{second}); err != nil {
		t.Fatal(err)
	}
	hs.d.Offer(shown)
	got := rc.accepted(t, 2)
	if want := []string{titleOf(8), titleOf(9)}; !slices.Equal(titles(t, got), want) {
		t.Errorf("a new topic's backlog: got %q, want %q", titles(t, got), want)
	}
	hs.idle("a", 2)
	rc.none(t)

	// A second target, added by a reload, with the default backlog of 3
	// for each topic.
	if err := hs.d.Reconfigure([]Target{second, slackTarget("b", rc.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	hs.d.Offer(shown)
	got = rc.accepted(t, 6)
	want := []string{titleOf(2), titleOf(3), titleOf(4), titleOf(7), titleOf(8), titleOf(9)}
	if g := titles(t, got); !sameSet(g, want) {
		t.Errorf("a new target's backlog: got %q, want %q", g, want)
	}
	hs.idle("b", 1)
	hs.idle("a", 3)
	rc.none(t)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// leaveAgents starts target a on topic agents with a backlog of two
// papers, whose first attempt fails (both stay queued), then reconfigures
// it to take vision instead.
func leaveAgents(t *testing.T) (*history, *receiver, *fakeClock, Target, *harness) {
	t.Helper()
	h := newHistory(t)
	h.merge(papers(0, 4), t0)
	rc := newReceiver(t, slackOK)
	rc.then(reply{status: 503})
	clock := newFakeClock(t0.Add(time.Hour))
	tg := slackTarget("a", rc.srv.URL, "agents")
	tg.Backlog = 2
	hs := start(t, h, clock, tg)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 4), "vision": {}})
	hs.waiting("a") // the first attempt failed; both queued
	other := tg
	other.Topics = []string{"vision"}
	if err := hs.d.Reconfigure([]Target{other}); err != nil {
		t.Fatal(err)
	}
	return h, rc, clock, tg, hs
}

// TestTopicLeftAndTakenAgain: a topic the target no longer takes loses its
// queue; taken again, it starts anew with its backlog.
func TestTopicLeftAndTakenAgain(t *testing.T) {
	h, rc, clock, tg, hs := leaveAgents(t)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 4), "vision": {}})
	hs.idle("a", 2)
	if m := h.marks("a"); len(m.Pending) != 0 || !m.Since["agents"].IsZero() {
		t.Errorf("after leaving agents: %+v, want nothing queued and no time for it", m)
	}
	clock.advance(time.Hour)
	if err := hs.d.Reconfigure([]Target{tg}); err != nil {
		t.Fatal(err)
	}
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 4), "vision": {}})
	got := rc.accepted(t, 2)
	if want := []string{titleOf(2), titleOf(3)}; !slices.Equal(titles(t, got), want) {
		t.Errorf("taken again: got %q, want %q", titles(t, got), want)
	}
	if m := h.marks("a"); !m.Since["agents"].Equal(clock.Now()) {
		t.Errorf("since = %v, want the time it was taken again", m.Since["agents"])
	}
}

// TestReconfigureLeavesTopicAtOnce: a Reconfigure that drops a topic from
// a target leaves it then, not at the next Offer: its queued papers are not
// sent meanwhile (the reset a Reconfigure makes retries a failed target at
// once, which sent them), and the history no longer owes them.
func TestReconfigureLeavesTopicAtOnce(t *testing.T) {
	h, rc, _, _, hs := leaveAgents(t)
	hs.idle("a", 1)
	rc.none(t)
	if m := h.marks("a"); len(m.Pending) != 0 || !m.Since["agents"].IsZero() {
		t.Errorf("after leaving agents: %+v, want nothing queued and no time for it", m)
	}
}

// TestHistoryUnavailable: when the history cannot be opened, nothing is
// sent and the target backs off; it goes on when the history is back.
func TestHistoryUnavailable(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 1), t0)
	h.fail = store.ErrLocked
	rc := newReceiver(t, slackOK)
	clock := newFakeClock(t0.Add(time.Hour))
	hs := start(t, h, clock, slackTarget("a", rc.srv.URL))
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 1)})
	until := hs.waiting("a")
	if st := hs.d.Status()[0]; !strings.Contains(st.LastError, "cannot read the history") {
		t.Errorf("Status: %+v", st)
	}
	rc.none(t)
	h.mu.Lock()
	h.fail = nil
	h.mu.Unlock()
	clock.set(until)
	rc.accepted(t, 1)
}

func TestNewRefusesBadTargets(t *testing.T) {
	const secret = "SECRETTOKEN123"
	hook := "https://hooks.example.org/services/" + secret
	tests := []struct {
		name string
		t    Target
		want string
	}{
		{"bad name", Target{Name: "Lab Slack", Type: TypeSlack, URL: hook}, `"Lab Slack": name must match [a-z0-9-]+`},
		{"unknown type", Target{Name: "x", Type: "teams", URL: hook}, `unknown type "teams"`},
		{"no url", Target{Name: "x", Type: TypeSlack}, "url is required"},
		{"bad url", Target{Name: "x", Type: TypeDiscord, URL: "ftp://x/" + secret}, "url is not an http or https URL"},
		{"bad mode", Target{Name: "x", Type: TypeSlack, URL: hook, Mode: "weekly"}, `mode "weekly" must be each or digest`},
		{"at on each", Target{Name: "x", Type: TypeSlack, URL: hook, At: "08:00"}, "at applies to mode digest only"},
		{"bad at", Target{Name: "x", Type: TypeSlack, URL: hook, Mode: ModeDigest, At: "8am"}, `at "8am" must be a time of day HH:MM`},
		{"negative backlog", Target{Name: "x", Type: TypeSlack, URL: hook, Backlog: -1}, "backlog -1 must not be negative"},
		{"secret on slack", Target{Name: "x", Type: TypeSlack, URL: hook, Secret: secret}, "secret applies to type webhook only"},
		{"smtp on ntfy", Target{Name: "x", Type: TypeNtfy, URL: hook, SMTP: "smtp://u:" + secret + "@h"}, "to, smtp and from apply to type email only"},
		{"email without smtp", Target{Name: "x", Type: TypeEmail, To: []string{"a@example.org"}, From: "p@example.org"}, "smtp is required"},
		{"email bad smtp", Target{Name: "x", Type: TypeEmail, SMTP: "imap://u:" + secret + "@h", To: []string{"a@example.org"}, From: "p@example.org"}, "smtp must start with smtp:// or smtps://"},
		{"email bad port", Target{Name: "x", Type: TypeEmail, SMTP: "smtp://u:" + secret + "@h:99999", To: []string{"a@example.org"}, From: "p@example.org"}, "smtp has a bad port"},
		{"email no to", Target{Name: "x", Type: TypeEmail, SMTP: "smtp://h", From: "p@example.org"}, "to needs at least one address"},
		{"email bad to", Target{Name: "x", Type: TypeEmail, SMTP: "smtp://h", To: []string{"nobody"}, From: "p@example.org"}, `to "nobody" is not an e-mail address`},
		{"email bad from", Target{Name: "x", Type: TypeEmail, SMTP: "smtp://h", To: []string{"a@example.org"}}, `from "" is not an e-mail address`},
		{"email with url", Target{Name: "x", Type: TypeEmail, URL: hook, SMTP: "smtp://h", To: []string{"a@example.org"}, From: "p@example.org"}, "url does not apply to type email"},
		{"empty topic", Target{Name: "x", Type: TypeSlack, URL: hook, Topics: []string{""}}, "a topic slug is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New([]Target{tt.t}, newHistory(t).with, discard(), time.Now)
			if err == nil || !errors.Is(err, ErrTarget) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want ErrTarget with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	t.Run("duplicate name", func(t *testing.T) {
		tg := Target{Name: "x", Type: TypeSlack, URL: hook}
		if _, err := New([]Target{tg, tg}, newHistory(t).with, discard(), time.Now); err == nil || !strings.Contains(err.Error(), `"x": the name is used twice`) {
			t.Errorf("New = %v", err)
		}
	})
	t.Run("reconfigure keeps the old targets on an error", func(t *testing.T) {
		d, err := New([]Target{{Name: "x", Type: TypeSlack, URL: hook}}, newHistory(t).with, discard(), time.Now)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Reconfigure([]Target{{Name: "y", Type: "teams"}}); !errors.Is(err, ErrTarget) {
			t.Errorf("Reconfigure = %v", err)
		}
		if got := d.names(); !slices.Equal(got, []string{"x"}) {
			t.Errorf("targets after a refused Reconfigure: %q", got)
		}
	})
}

func TestParseAt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"08:00", 8 * time.Hour, true}, {"00:00", 0, true}, {"23:59", 23*time.Hour + 59*time.Minute, true},
		{"24:00", 0, false}, {"8:00", 0, false}, {"08:60", 0, false}, {"", 0, false}, {"08:00 ", 0, false},
	} {
		got, err := ParseAt(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAt(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := t0
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"5", 5 * time.Second}, {"0.25", 250 * time.Millisecond}, {"-3", 0}, {"soon", 0},
		{now.Add(time.Minute).Format(http.TimeFormat), time.Minute},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"99999999", maxWait}, {"NaN", 0}, {"Inf", 0},
	} {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRunAndCloseTwice(t *testing.T) {
	d, err := New(nil, newHistory(t).with, discard(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	d.Offer(map[string][]string{"a": {"x"}})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d.Run(t.Context()) // returns at once after Close
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Reconfigure(nil); err == nil {
		t.Error("Reconfigure after Close: no error")
	}
	if _, err := New(nil, nil, discard(), time.Now); err == nil {
		t.Error("New without with: no error")
	}
}

// TestReconfigure: a target whose name stays keeps its queue and takes its
// new URL at once; a removed target stops; a new name is a new target.
func TestReconfigure(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 2), t0)
	down := newReceiver(t, reply{status: 503})
	up := newReceiver(t, slackOK)
	other := newReceiver(t, reply{status: 503})
	clock := newFakeClock(t0.Add(time.Hour))
	hs := start(t, h, clock, slackTarget("lab", down.srv.URL), slackTarget("old", other.srv.URL))
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
	hs.waiting("lab")
	hs.waiting("old")
	if err := hs.d.Reconfigure([]Target{slackTarget("lab", up.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	got := up.accepted(t, 2)
	if want := []string{titleOf(0), titleOf(1)}; !slices.Equal(titles(t, got), want) {
		t.Errorf("after the new URL: %q, want %q", titles(t, got), want)
	}
	if st := hs.d.Status(); len(st) != 1 || st[0].Name != "lab" {
		t.Errorf("Status after removing old: %+v", st)
	}
	before := len(other.requests())
	clock.advance(time.Hour)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
	hs.idle("lab", 2)
	if n := len(other.requests()); n != before {
		t.Errorf("a removed target was asked %d more times", n-before)
	}
	// The removed target's marks and queue stay in the history.
	if m := h.marks("old"); len(m.Pending) != 2 {
		t.Errorf("the removed target's queue: %+v", m.Pending)
	}
}

// TestObserve: every attempt is reported with its result and what is left
// queued, for the metrics.
func TestObserve(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 2), t0)
	rc := newReceiver(t, slackOK)
	rc.then(reply{status: 429, header: http.Header{"Retry-After": {"5"}}}, reply{status: 500})
	clock := newFakeClock(t0.Add(time.Hour))
	type attempt struct {
		result string
		queued int
	}
	seen := make(chan attempt, 10)
	hs := startTuned(t, h, clock, func(d *Deliverer) {
		d.observe = func(target, result string, queued int) { seen <- attempt{result, queued} }
	}, slackTarget("lab", rc.srv.URL))
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
	clock.set(hs.waiting("lab"))
	clock.set(hs.waiting("lab"))
	rc.accepted(t, 2)
	hs.idle("lab", 1)
	var got []attempt
	for range 4 {
		got = append(got, <-seen)
	}
	want := []attempt{{ResultRateLimited, 2}, {ResultError, 2}, {ResultOK, 1}, {ResultOK, 0}}
	if !slices.Equal(got, want) {
		t.Errorf("attempts %v, want %v", got, want)
	}
}

// TestPacing: messages to one target are spaced by its platform's pace.
func TestPacing(t *testing.T) {
	for _, tt := range []struct {
		typ  string
		ok   reply
		want time.Duration
	}{
		{TypeSlack, slackOK, time.Second},
		{TypeNtfy, ntfyOK, time.Second},
		{TypeDiscord, discordOK, 250 * time.Millisecond},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			h := newHistory(t)
			h.merge(papers(0, 2), t0)
			rc := newReceiver(t, tt.ok)
			clock := newFakeClock(t0.Add(time.Hour))
			hs := startTuned(t, h, clock, func(d *Deliverer) { d.pace = defaultPace },
				Target{Name: "p", Type: tt.typ, URL: rc.srv.URL, Backlog: 2})
			hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
			rc.accepted(t, 1)
			until := hs.waiting("p")
			if got := until.Sub(clock.Now()); got != tt.want {
				t.Errorf("the second message waits %s, want %s", got, tt.want)
			}
			rc.none(t)
			clock.set(until)
			rc.accepted(t, 1)
		})
	}
	t.Run("webhook unpaced", func(t *testing.T) {
		h := newHistory(t)
		h.merge(papers(0, 3), t0)
		rc := newReceiver(t, hookOK)
		clock := newFakeClock(t0.Add(time.Hour))
		hs := startTuned(t, h, clock, func(d *Deliverer) { d.pace = defaultPace },
			Target{Name: "p", Type: TypeWebhook, URL: rc.srv.URL, Backlog: 3})
		hs.d.Offer(map[string][]string{"agents": paperIDs(0, 3)})
		rc.accepted(t, 3) // the clock never moved
		hs.idle("p", 1)
	})
}

// TestLookupInBatches: an Offer of more papers than one lookup takes is
// looked up in several calls of with, and all of it is taken in.
func TestLookupInBatches(t *testing.T) {
	h := newHistory(t)
	n := lookupBatch*2 + 10
	h.merge(papers(0, n), t0)
	rc := newReceiver(t, hookOK)
	clock := newFakeClock(t0.Add(time.Hour))
	target := Target{Name: "t", Type: TypeWebhook, URL: rc.srv.URL, Backlog: 1}
	hs := start(t, h, clock, target)
	shown := map[string][]string{"agents": paperIDs(0, n)}
	hs.d.Offer(shown)
	rc.accepted(t, 1)
	hs.idle("t", 1)
	// A restart: nothing known in memory, every paper looked up again.
	hs.stop()
	clock.advance(time.Minute)
	h.merge(papers(n, 1), clock.Now())
	shown["agents"] = append(paperIDs(n, 1), shown["agents"]...)
	before := h.count()
	hs = start(t, h, clock, target)
	hs.d.Offer(shown)
	got := rc.accepted(t, 1)
	if ev := hookEvent(t, got[0]); eventIDs(ev)[0] != testPaper(n).ID {
		t.Errorf("sent %q, want the new paper", eventIDs(ev))
	}
	hs.idle("t", 1)
	rc.none(t)
	// The load, three lookups, the paper, its mark: one lookup would make
	// four.
	if calls := h.count() - before; calls < 6 {
		t.Errorf("%d calls of with, want the lookup of %d papers split in three", calls, n+1)
	}
}

// TestReconfigureWhileSending: reloads while messages are rendered and
// sent (run with -race) lose nothing and send nothing twice.
func TestReconfigureWhileSending(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 30), t0)
	rc := newReceiver(t, hookOK)
	clock := newFakeClock(t0.Add(time.Hour))
	tg := Target{Name: "t", Type: TypeWebhook, URL: rc.srv.URL, Backlog: 30}
	hs := start(t, h, clock, tg)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 30)})
	for i := range 50 {
		tg.Titles = map[string]string{"agents": fmt.Sprintf("Agents %d", i)}
		if err := hs.d.Reconfigure([]Target{tg}); err != nil {
			t.Fatal(err)
		}
		hs.d.Status()
	}
	got := rc.accepted(t, 30)
	hs.idle("t", 1)
	rc.none(t)
	seen := map[string]bool{}
	for _, r := range got {
		id := eventIDs(hookEvent(t, r))[0]
		if seen[id] {
			t.Errorf("%s sent twice", id)
		}
		seen[id] = true
	}
}
