package deliver

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/paperfeed/paperfeed/internal/testsrv"
)

// parsedMail is an e-mail as a reader gets it.
type parsedMail struct {
	header mail.Header
	parts  map[string]string // by media type
}

func parseMail(t testing.TB, raw []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read mail: %v", err)
	}
	typ, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || typ != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	out := parsedMail{header: m.Header, parts: map[string]string{}}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p) // quoted-printable is decoded by NextPart
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out.parts[pt] = string(body)
	}
	return out
}

func emailTarget(srv *testsrv.SMTPServer, scheme, userinfo string) Target {
	return Target{Name: "me", Type: TypeEmail, SMTP: fmt.Sprintf("%s://%s%s", scheme, userinfo, srv.Addr),
		To: []string{"reader@example.org"}, From: "paperfeed@example.org", Backlog: 2,
		Titles: map[string]string{"agents": "LLM agents"}}
}

// trust makes the Deliverer trust the test server's certificate.
func trust(srv *testsrv.SMTPServer) func(*Deliverer) {
	return func(d *Deliverer) {
		d.tlsConfig = &tls.Config{RootCAs: srv.RootCAs, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	}
}

func receive(t testing.TB, srv *testsrv.SMTPServer, n int) []testsrv.Mail {
	t.Helper()
	var out []testsrv.Mail
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for len(out) < n {
		select {
		case m := <-srv.Received():
			out = append(out, m)
		case <-deadline.C:
			t.Fatalf("smtp: %d of %d mails within %s", len(out), n, waitLimit)
		}
	}
	return out
}

// TestEmail: one mail a paper over plain SMTP, STARTTLS with a login and
// implicit TLS, each with a plain-text and an HTML part, a stable
// Message-ID and a List-Unsubscribe header.
func TestEmail(t *testing.T) {
	tests := []struct {
		name     string
		opts     testsrv.SMTPOptions
		scheme   string
		userinfo string
		tls      bool
	}{
		{"plain", testsrv.SMTPOptions{Mode: testsrv.SMTPPlain}, "smtp", "", false},
		{"starttls with a login", testsrv.SMTPOptions{Mode: testsrv.SMTPStartTLS, User: "bot", Password: "pa55word"}, "smtp", "bot:pa55word@", true},
		{"implicit tls", testsrv.SMTPOptions{Mode: testsrv.SMTPImplicitTLS, User: "bot", Password: "pa55word"}, "smtps", "bot:pa55word@", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testsrv.SMTP(t, tt.opts)
			h := newHistory(t)
			h.merge(papers(0, 2), t0)
			clock := newFakeClock(t0.Add(time.Hour))
			hs := startTuned(t, h, clock, trust(srv), emailTarget(srv, tt.scheme, tt.userinfo))
			hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
			got := receive(t, srv, 2)
			hs.idle("me", 1)
			for i, m := range got {
				if m.TLS != tt.tls || m.Auth != tt.opts.User || m.From != "paperfeed@example.org" || strings.Join(m.To, ",") != "reader@example.org" {
					t.Errorf("mail %d: TLS %v auth %q from %q to %q", i, m.TLS, m.Auth, m.From, m.To)
				}
				pm := parseMail(t, m.Data)
				id := testPaper(i).ID
				if got, want := pm.header.Get("Message-Id"), "<"+id+".me.paperfeed@example.org>"; got != want {
					t.Errorf("Message-ID %q, want %q", got, want)
				}
				if got := pm.header.Get("List-Unsubscribe"); got != "<mailto:paperfeed@example.org?subject=unsubscribe>" {
					t.Errorf("List-Unsubscribe %q", got)
				}
				if subj := pm.header.Get("Subject"); subj != "[paperfeed] "+testPaper(i).Title {
					t.Errorf("Subject %q", subj)
				}
				if !strings.Contains(pm.parts["text/plain"], testPaper(i).Abstract) {
					t.Errorf("plain part lacks the abstract:\n%s", pm.parts["text/plain"])
				}
				if !strings.Contains(pm.parts["text/html"], `<a href="https://huggingface.co/papers/`+id+`">`) {
					t.Errorf("HTML part lacks the link:\n%s", pm.parts["text/html"])
				}
			}
		})
	}
}

// TestEmailDigest: one mail a day, a section per topic in the target's
// order, with a Message-ID of the day.
func TestEmailDigest(t *testing.T) {
	srv := testsrv.SMTP(t, testsrv.SMTPOptions{Mode: testsrv.SMTPStartTLS})
	h := newHistory(t)
	h.merge(papers(0, 4), t0)
	day := time.Date(2026, 6, 13, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(day.Add(7 * time.Hour))
	tg := emailTarget(srv, "smtp", "")
	tg.Mode, tg.At, tg.Topics = ModeDigest, "07:30", []string{"vision", "agents"}
	hs := startTuned(t, h, clock, trust(srv), tg)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2), "vision": paperIDs(2, 2)})
	until := hs.wait("me", func(e event) bool { return e.queued == 4 }).until
	if !until.Equal(day.Add(7*time.Hour + 30*time.Minute)) {
		t.Fatalf("waits until %v", until)
	}
	clock.set(until)
	got := receive(t, srv, 1)
	pm := parseMail(t, got[0].Data)
	if id := pm.header.Get("Message-Id"); id != "<digest-2026-06-13.me.paperfeed@example.org>" {
		t.Errorf("Message-ID %q", id)
	}
	plain := pm.parts["text/plain"]
	v, a := strings.Index(plain, "== vision =="), strings.Index(plain, "== LLM agents ==")
	if v < 0 || a < v {
		t.Errorf("sections not in the target's order (vision, then agents):\n%s", plain)
	}
	for i := range 4 {
		if !strings.Contains(plain, testPaper(i).Title) {
			t.Errorf("digest lacks paper %d", i)
		}
	}
	if strings.Count(pm.parts["text/html"], "<h2") != 2 {
		t.Errorf("HTML part: want two sections:\n%s", pm.parts["text/html"])
	}
	if until := hs.waiting("me"); !until.Equal(day.Add(31*time.Hour + 30*time.Minute)) {
		t.Errorf("then waits until %v", until)
	}
}

// TestEmailFailures: a refused message (5xx) is marked failed; a busy
// server (4xx) is retried; a wrong password, or a login the server would
// only take in clear, refuses the target and the password shows nowhere.
func TestEmailFailures(t *testing.T) {
	t.Run("554 refuses the message", func(t *testing.T) {
		n := 0
		srv := testsrv.SMTP(t, testsrv.SMTPOptions{Reject: func(testsrv.Mail) error {
			if n++; n == 1 {
				return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "content refused"}
			}
			return nil
		}})
		h := newHistory(t)
		h.merge(papers(0, 2), t0)
		hs := start(t, h, newFakeClock(t0.Add(time.Hour)), emailTarget(srv, "smtp", ""))
		hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
		receive(t, srv, 1)
		hs.idle("me", 1)
		m := h.marks("me", paperIDs(0, 2)...)
		if f := m.Done[testPaper(0).ID].Failed; !strings.Contains(f, "554") || !strings.Contains(f, "content refused") {
			t.Errorf("the refused paper's mark: %q", f)
		}
		if f, ok := m.Done[testPaper(1).ID]; !ok || f.Failed != "" {
			t.Errorf("the next paper: %+v, %v; want delivered", f, ok)
		}
	})
	t.Run("451 is retried", func(t *testing.T) {
		n := 0
		srv := testsrv.SMTP(t, testsrv.SMTPOptions{Reject: func(testsrv.Mail) error {
			if n++; n == 1 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
			}
			return nil
		}})
		h := newHistory(t)
		h.merge(papers(0, 1), t0)
		clock := newFakeClock(t0.Add(time.Hour))
		hs := start(t, h, clock, emailTarget(srv, "smtp", ""))
		hs.d.Offer(map[string][]string{"agents": paperIDs(0, 1)})
		clock.set(hs.waiting("me"))
		receive(t, srv, 1)
		hs.idle("me", 1)
	})
	for _, tt := range []struct {
		name string
		opts testsrv.SMTPOptions
		want string
	}{
		{"wrong password", testsrv.SMTPOptions{Mode: testsrv.SMTPStartTLS, User: "bot", Password: "right"}, "AUTH failed"},
		{"no login without tls", testsrv.SMTPOptions{Mode: testsrv.SMTPPlain, User: "bot", Password: "right"}, "does not support SMTP AUTH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const secret = "s3cr3t-Passw0rd"
			srv := testsrv.SMTP(t, tt.opts)
			h := newHistory(t)
			h.merge(papers(0, 1), t0)
			clock := newFakeClock(t0.Add(time.Hour))
			hs := startTuned(t, h, clock, trust(srv), emailTarget(srv, "smtp", "bot:"+secret+"@"))
			hs.d.Offer(map[string][]string{"agents": paperIDs(0, 1)})
			if until := hs.waiting("me"); until.Sub(clock.Now()) != defaultRefusedWait {
				t.Errorf("waits %s, want %s", until.Sub(clock.Now()), defaultRefusedWait)
			}
			st := hs.d.Status()[0]
			if !strings.Contains(st.LastError, tt.want) || st.Queued != 1 {
				t.Errorf("Status: %+v, want %q", st, tt.want)
			}
			if strings.Contains(fmt.Sprint(st), secret) || strings.Contains(hs.logs.String(), secret) {
				t.Errorf("the password shows: %+v\n%s", st, hs.logs.String())
			}
			if len(srv.Mails()) != 0 {
				t.Errorf("mail accepted")
			}
		})
	}
}
