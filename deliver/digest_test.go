package deliver

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func hookEvent(t testing.TB, r request) WebhookEvent {
	t.Helper()
	var ev WebhookEvent
	if err := json.Unmarshal(r.body, &ev); err != nil {
		t.Fatalf("webhook body %s: %v", r.body, err)
	}
	return ev
}

func eventIDs(ev WebhookEvent) []string {
	var out []string
	for _, p := range ev.Papers {
		out = append(out, p.ID)
	}
	return out
}

// TestDigestTiming: a digest target sends nothing before its time of day,
// then one message per topic with every paper owed, none for a topic or a
// day with nothing, and a digest missed while the process was down when it
// comes back.
func TestDigestTiming(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 8), t0)
	rc := newReceiver(t, hookOK)
	day1 := time.Date(2026, 6, 13, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(day1.Add(7 * time.Hour))
	target := Target{Name: "daily", Type: TypeWebhook, URL: rc.srv.URL, Topics: []string{"agents", "vision"},
		Mode: ModeDigest, At: "08:00", Backlog: 2}
	hs := start(t, h, clock, target)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 5), "vision": paperIDs(5, 3)})
	if until := hs.wait("daily", func(e event) bool { return e.queued == 4 }).until; !until.Equal(day1.Add(8 * time.Hour)) {
		t.Fatalf("waits until %v, want 08:00 of the day", until)
	}
	rc.none(t)
	if st := hs.d.Status()[0]; st.Queued != 4 || !st.Next.Equal(day1.Add(8*time.Hour)) {
		t.Errorf("Status before the digest: %+v", st)
	}

	clock.set(day1.Add(8 * time.Hour))
	got := rc.accepted(t, 2)
	for i, want := range []struct {
		topic string
		ids   []string
	}{{"agents", []string{"2606.00003", "2606.00004"}}, {"vision", []string{"2606.00006", "2606.00007"}}} {
		ev := hookEvent(t, got[i])
		if ev.Event != "digest" || ev.Topic != want.topic || ev.Day != "2026-06-13" || !slices.Equal(eventIDs(ev), want.ids) {
			t.Errorf("digest %d: %s %s %s %q; want digest %s 2026-06-13 %q", i, ev.Event, ev.Topic, ev.Day, eventIDs(ev), want.topic, want.ids)
		}
		if ev.ID != "daily/"+want.topic+"/2026-06-13" || got[i].header.Get(HeaderDelivery) != ev.ID {
			t.Errorf("digest %d: id %q, header %q", i, ev.ID, got[i].header.Get(HeaderDelivery))
		}
	}
	if until := hs.waiting("daily"); !until.Equal(day1.Add(32 * time.Hour)) {
		t.Errorf("after the digest waits until %v, want 08:00 the next day", until)
	}
	if m := h.marks("daily"); !m.Digest.Equal(day1.Add(8*time.Hour)) || len(m.Pending) != 0 {
		t.Errorf("marks after the digest: %+v", m)
	}

	// Day 2: two papers in agents only, found at 10:00.
	clock.set(day1.Add(34 * time.Hour))
	h.merge(papers(8, 2), clock.Now())
	hs.d.Offer(map[string][]string{"agents": append(paperIDs(8, 2), paperIDs(0, 5)...), "vision": paperIDs(5, 3)})
	hs.waiting("daily")
	rc.none(t)
	clock.set(day1.Add(56 * time.Hour)) // day 3, 08:00
	got = rc.accepted(t, 1)
	if ev := hookEvent(t, got[0]); ev.Topic != "agents" || ev.Day != "2026-06-15" || !slices.Equal(eventIDs(ev), []string{"2606.00008", "2606.00009"}) {
		t.Errorf("day 3's digest: %s %s %q", ev.Topic, ev.Day, eventIDs(ev))
	}
	hs.waiting("daily")
	rc.none(t) // nothing for vision

	// Day 4 owes nothing: no message, and the wait moves on a day.
	clock.set(day1.Add(80 * time.Hour))
	if until := hs.waiting("daily"); !until.Equal(day1.Add(104 * time.Hour)) {
		t.Errorf("after an empty day waits until %v, want day 5 08:00", until)
	}
	rc.none(t)

	// A paper found on day 5, then the process is down at 08:00 and back
	// at 09:30: the digest goes out at once, dated day 5.
	clock.set(day1.Add(100 * time.Hour))
	h.merge(papers(10, 1), clock.Now())
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 11), "vision": paperIDs(5, 3)})
	hs.waiting("daily")
	hs.stop()
	clock.set(day1.Add(105*time.Hour + 30*time.Minute))
	hs = start(t, h, clock, target)
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 11), "vision": paperIDs(5, 3)})
	got = rc.accepted(t, 1)
	if ev := hookEvent(t, got[0]); ev.Day != "2026-06-17" || !slices.Equal(eventIDs(ev), []string{"2606.00010"}) {
		t.Errorf("the digest missed while down: %s %q, want 2026-06-17 [2606.00010]", ev.Day, eventIDs(ev))
	}
	if until := hs.waiting("daily"); !until.Equal(day1.Add(128 * time.Hour)) {
		t.Errorf("after catching up waits until %v, want day 6 08:00", until)
	}
}

// TestDigestNewTarget: a digest target added after its time of day owes no
// digest for that day: its first one is the next day's.
func TestDigestNewTarget(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 2), t0)
	rc := newReceiver(t, slackOK)
	day := time.Date(2026, 6, 13, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(day.Add(9 * time.Hour))
	hs := start(t, h, clock, Target{Name: "d", Type: TypeSlack, URL: rc.srv.URL, Mode: ModeDigest, At: "08:00", Backlog: 5})
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 2)})
	if until := hs.waiting("d"); !until.Equal(day.Add(32 * time.Hour)) {
		t.Fatalf("a target added at 09:00 waits until %v, want 08:00 the next day", until)
	}
	rc.none(t)
	clock.set(day.Add(32 * time.Hour))
	got := rc.accepted(t, 1)
	var m slackMessage
	if err := json.Unmarshal(got[0].body, &m); err != nil {
		t.Fatal(err)
	}
	if want := "agents, Sun 14 Jun 2026: 2 new papers"; m.Blocks[0].Text.Text != want {
		t.Errorf("header %q, want %q", m.Blocks[0].Text.Text, want)
	}
}

// TestDigestSplit: a Slack digest over 24 papers is sent in parts, each
// marked as it is accepted; a part that fails is retried alone.
func TestDigestSplit(t *testing.T) {
	h := newHistory(t)
	h.merge(papers(0, 30), t0)
	rc := newReceiver(t, slackOK)
	day := time.Date(2026, 6, 13, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(day.Add(7 * time.Hour))
	hs := start(t, h, clock, Target{Name: "d", Type: TypeSlack, URL: rc.srv.URL, Mode: ModeDigest, Backlog: 30})
	hs.d.Offer(map[string][]string{"agents": paperIDs(0, 30)})
	until := hs.waiting("d")
	rc.then(reply{status: 200, body: "ok"}, reply{status: 500})
	clock.set(until)
	first := rc.accepted(t, 1)
	retry := hs.waiting("d")
	if m := h.marks("d"); len(m.Pending) != 6 || !m.Digest.Before(until) {
		t.Errorf("after the first part: %d queued, digest %v; want 6 and the day not done", len(m.Pending), m.Digest)
	}
	clock.set(retry)
	second := rc.accepted(t, 1)
	if next := hs.waiting("d"); !next.Equal(until.AddDate(0, 0, 1)) {
		t.Errorf("after both parts waits until %v, want the next day's digest", next)
	}
	var heads []string
	for _, r := range append(first, second...) {
		var m slackMessage
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Blocks) > slackMaxBlocks {
			t.Errorf("%d blocks, over %d", len(m.Blocks), slackMaxBlocks)
		}
		heads = append(heads, m.Blocks[0].Text.Text)
	}
	want := []string{"agents, Sat 13 Jun 2026: 30 new papers (1/2)", "agents, Sat 13 Jun 2026: 30 new papers (2/2)"}
	if !slices.Equal(heads, want) {
		t.Errorf("headers %q, want %q", heads, want)
	}
	if m := h.marks("d"); len(m.Pending) != 0 || !m.Digest.Equal(until) {
		t.Errorf("after both parts: %d queued, digest %v", len(m.Pending), m.Digest)
	}
}
