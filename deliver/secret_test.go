package deliver

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSecretsNeverShown: receivers that fail and echo the URL they were
// asked at, a port nothing listens on, a hang: no log line, Status or error
// shows a webhook URL's token, the SMTP password or a webhook's secret.
func TestSecretsNeverShown(t *testing.T) {
	secrets := []string{"T0SECRET", "slackTOKENsecret", "discordTOKENsecret", "ntfytopicSECRET", "qSECRETquery", "hmacSECRETvalue", "pwSECRET"}
	echo := func(status int) reply { return reply{status: status} }
	rc := newReceiver(t, slackOK)
	// Each request is answered with its own URL in the body, as some
	// proxies and frameworks do on errors.
	rc.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rep := rc.ok
		if len(rc.script) > 0 {
			rep, rc.script = rc.script[0], rc.script[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(rep.status)
		fmt.Fprintf(w, "no route for %s?%s (full %s)", r.URL.Path, r.URL.RawQuery, r.URL.String())
	})
	rc.then(echo(500), echo(500), echo(404), echo(404), echo(400), echo(400), echo(400), echo(400))
	base := rc.srv.URL
	closed := newReceiver(t, hookOK)
	closedURL := closed.srv.URL
	closed.srv.Close()
	targets := []Target{
		{Name: "slack", Type: TypeSlack, URL: base + "/services/T0SECRET/B0/slackTOKENsecret", Backlog: 1},
		{Name: "discord", Type: TypeDiscord, URL: base + "/api/webhooks/1234/discordTOKENsecret", Backlog: 1},
		{Name: "ntfy", Type: TypeNtfy, URL: base + "/ntfytopicSECRET", Backlog: 1},
		{Name: "hook", Type: TypeWebhook, URL: strings.Replace(base, "http://", "http://user:pwSECRET@", 1) + "/hook?token=qSECRETquery", Secret: "hmacSECRETvalue", Backlog: 1},
		{Name: "gone", Type: TypeWebhook, URL: closedURL + "/x/slackTOKENsecret", Backlog: 1},
		{Name: "mail", Type: TypeEmail, SMTP: "smtp://bot:pwSECRET@" + strings.TrimPrefix(closedURL, "http://"), To: []string{"a@example.org"}, From: "p@example.org", Backlog: 1},
	}
	h := newHistory(t)
	h.merge(papers(0, 2), t0)
	clock := newFakeClock(t0.Add(time.Hour))
	hs := start(t, h, clock, targets...)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
	for _, tg := range targets {
		hs.waiting(tg.Name)
	}
	// Once more after the backoff: the 404s and 400s, in whatever order
	// the targets come.
	clock.advance(time.Minute)
	for _, tg := range targets {
		hs.wait(tg.Name, func(e event) bool { return e.idle || e.until.After(clock.Now()) })
	}
	var out strings.Builder
	for _, st := range hs.d.Status() {
		if st.LastError == "" {
			t.Errorf("%s: no error recorded", st.Name)
		}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
	}
	out.WriteString(hs.logs.String())
	for _, tg := range targets {
		bad := tg
		bad.Mode = "hourly"
		_, err := New([]Target{bad}, h.with, discard(), time.Now)
		out.WriteString(fmt.Sprint(err))
		bad = tg
		bad.Topics = []string{""}
		_, err = New([]Target{bad}, h.with, discard(), time.Now)
		out.WriteString(fmt.Sprint(err))
	}
	text := out.String()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%q shows in the output:\n%s", s, text)
		}
	}
	if !strings.Contains(text, "connection refused") || !strings.Contains(text, "HTTP 500") || !strings.Contains(text, "[redacted]") {
		t.Errorf("the output does not say what failed:\n%s", text)
	}
}

// TestWebhookSigned: a webhook's body is signed with its secret, carries
// its event and delivery id, and holds every field of the paper.
func TestWebhookSigned(t *testing.T) {
	rc := newReceiver(t, hookOK)
	h := newHistory(t)
	h.merge(papers(0, 1), t0)
	hs := start(t, h, newFakeClock(t0.Add(time.Hour)), Target{Name: "hook", Type: TypeWebhook, URL: rc.srv.URL, Secret: "k3y", Backlog: 1})
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 1)})
	got := rc.accepted(t, 1)[0]
	if sig := got.header.Get(HeaderSignature); !hmac.Equal([]byte(sig), []byte(Sign("k3y", got.body))) || !strings.HasPrefix(sig, "sha256=") {
		t.Errorf("signature %q does not match the body", sig)
	}
	if got.header.Get(HeaderEvent) != "paper" || got.header.Get(HeaderDelivery) != "hook/2606.00000" {
		t.Errorf("headers %v", got.header)
	}
	ev := hookEvent(t, got)
	p := ev.Papers[0]
	if p.Title != testPaper(0).Title || p.FirstSeen.IsZero() || p.URL != "https://huggingface.co/papers/2606.00000" ||
		p.ItemID != "https://arxiv.org/abs/2606.00000" || p.GitHubStars != 42 || p.Date.Truncate(24*time.Hour) != time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC) {
		t.Errorf("paper %+v", p)
	}
	// A vector computed apart (openssl dgst -sha256 -hmac k3y).
	if got, want := Sign("k3y", []byte("{}")), "sha256=420a51c0c8ede656964b635bd4cf5010c5f590273f19eaf91ffaaa34d7e5e40d"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

// TestNtfyOverHTTP: an ntfy message as the server gets it: the text as
// the body, a decodable Title, Click and Tags.
func TestNtfyOverHTTP(t *testing.T) {
	rc := newReceiver(t, ntfyOK)
	h := newHistory(t)
	p := testPaper(0)
	p.Title = "Agents über alles"
	h.merge(append(papers(1, 0), p), t0)
	hs := start(t, h, newFakeClock(t0.Add(time.Hour)), Target{Name: "phone", Type: TypeNtfy, URL: rc.srv.URL + "/mytopic", Backlog: 1})
	hs.d.Offer(map[string][]string{"agents": {p.ID}})
	got := rc.accepted(t, 1)[0]
	title, err := new(mime.WordDecoder).DecodeHeader(got.header.Get("Title"))
	if err != nil || title != "Agents über alles" {
		t.Errorf("Title %q decodes to %q, %v", got.header.Get("Title"), title, err)
	}
	if got.path != "/mytopic" || got.header.Get("Click") != "https://huggingface.co/papers/2606.00000" || got.header.Get("Tags") != "page_facing_up,agents" {
		t.Errorf("request %s %v", got.path, got.header)
	}
	if !strings.Contains(string(got.body), p.Abstract) {
		t.Errorf("body %q", got.body)
	}
}

// TestDiscordPacedByHeaders: after a message whose answer says the bucket
// is empty, the next waits for the bucket's reset.
func TestDiscordPacedByHeaders(t *testing.T) {
	rc := newReceiver(t, discordOK)
	rc.then(reply{status: 204, header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset-After": {"1.75"}}})
	h := newHistory(t)
	h.merge(papers(0, 2), t0)
	clock := newFakeClock(t0.Add(time.Hour))
	hs := start(t, h, clock, Target{Name: "dc", Type: TypeDiscord, URL: rc.srv.URL, Backlog: 2})
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
	rc.accepted(t, 1)
	until := hs.waiting("dc")
	if got := until.Sub(clock.Now()); got != 1750*time.Millisecond {
		t.Errorf("the next message waits %s, want the 1.75s of X-RateLimit-Reset-After", got)
	}
	rc.none(t)
	clock.set(until)
	rc.accepted(t, 1)
}
