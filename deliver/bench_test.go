package deliver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/internal/testsrv"
)

// shownOf is an Offer of topics topics of n papers each, the papers of
// topic i being i*n.. (i+1)*n-1.
func shownOf(topics, n int) map[string][]string {
	shown := make(map[string][]string, topics)
	for i := range topics {
		ids := make([]string, n)
		for j := range ids {
			ids[j] = fmt.Sprintf("2606.%05d", i*n+j)
		}
		shown[fmt.Sprintf("topic-%03d", i)] = ids
	}
	return shown
}

// BenchmarkOffer is the cost of an Offer of 100 topics of 100 papers each
// to three targets that take every topic: the first (every paper new to
// them) and one after (every paper known: the steady state after each
// refresh).
func BenchmarkOffer(b *testing.B) {
	targets := []Target{
		{Name: "a", Type: TypeSlack, URL: "http://127.0.0.1:1/", Backlog: 3},
		{Name: "b", Type: TypeWebhook, URL: "http://127.0.0.1:1/", Backlog: 3},
		{Name: "c", Type: TypeDiscord, URL: "http://127.0.0.1:1/", Mode: ModeDigest, Backlog: 3},
	}
	shown := shownOf(100, 100)
	newLoaded := func(b *testing.B) *Deliverer {
		d, err := New(targets, newHistory(b).with, discard(), time.Now)
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range d.workers {
			w.loaded = true // as after Run read the history
		}
		return d
	}
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			d := newLoaded(b)
			b.StartTimer()
			d.Offer(shown)
		}
	})
	b.Run("steady", func(b *testing.B) {
		d := newLoaded(b)
		d.Offer(shown)
		for _, w := range d.workers {
			// As after the worker looked them up: given or passed over.
			for id := range w.known {
				w.known[id] = knownPaper{st: done}
			}
			w.cands = nil
		}
		b.ReportAllocs()
		for b.Loop() {
			d.Offer(shown)
		}
	})
}

// BenchmarkDeliver is how many messages a second one target takes through
// the whole path (the history read, the message rendered and POSTed to a
// receiver on 127.0.0.1, the mark written and fsync'd), unpaced: what the
// machine allows beneath the platforms' own pacing (Slack, ntfy and e-mail
// one a second, Discord at least 250 ms apart).
func BenchmarkDeliver(b *testing.B) {
	for _, typ := range []string{TypeSlack, TypeDiscord, TypeWebhook, TypeNtfy, TypeEmail} {
		b.Run(typ, func(b *testing.B) {
			h := newHistory(b)
			n := max(b.N, 1)
			h.merge(papers(0, n), t0)
			target := Target{Name: "t", Type: typ, Backlog: n}
			var done func(int)
			if typ == TypeEmail {
				srv := testsrv.SMTP(b, testsrv.SMTPOptions{})
				target.SMTP, target.To, target.From = "smtp://"+srv.Addr, []string{"a@example.org"}, "p@example.org"
				done = func(n int) { receive(b, srv, n) }
			} else {
				rc := newReceiver(b, map[string]reply{TypeSlack: slackOK, TypeDiscord: discordOK, TypeWebhook: hookOK, TypeNtfy: ntfyOK}[typ])
				target.URL = rc.srv.URL
				done = func(n int) { rc.accepted(b, n) }
			}
			d, err := newDeliverer([]Target{target}, h.with, discard(), time.Now, func(d *Deliverer) { d.pace = map[string]time.Duration{} })
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			ran := make(chan struct{})
			go func() { d.Run(ctx); close(ran) }()
			b.ResetTimer()
			start := time.Now()
			d.Offer(map[string][]string{"agents": paperIDs(0, n)})
			done(n)
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
			b.StopTimer()
			cancel()
			<-ran
		})
	}
}

// BenchmarkFirstLookup is the one costly step an Offer leads to: after a
// restart the worker knows nothing of what the feeds show, and looks every
// shown paper up in the history once (its mark, then its FirstSeen), a
// thousand a call of with (here 100 topics of 100 papers, 10,000 papers,
// none new).
func BenchmarkFirstLookup(b *testing.B) {
	h := newHistory(b)
	const n = 10000
	h.merge(papers(0, n), t0)
	shown := shownOf(100, 100)
	for b.Loop() {
		b.StopTimer()
		d, err := New([]Target{{Name: "a", Type: TypeWebhook, URL: "http://127.0.0.1:1/", Backlog: 3}}, h.with, discard(), func() time.Time { return t0.Add(time.Hour) })
		if err != nil {
			b.Fatal(err)
		}
		w := d.workers["a"]
		if err := w.load(t0.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		for slug := range shown {
			w.since[slug] = t0.Add(time.Hour) // a target that took every topic before
		}
		d.Offer(shown)
		b.StartTimer()
		for len(w.cands) > 0 {
			if err := w.sync(t0.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
