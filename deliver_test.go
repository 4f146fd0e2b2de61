package main

// End-to-end test of deliveries (issue 11): the real server pushes new
// papers to a webhook receiver on 127.0.0.1, once, across a restart.

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/deliver"
)

// receiver records the papers webhooks deliver.
type receiver struct {
	mu     sync.Mutex
	papers []string
	bad    []string
}

func (rc *receiver) handle(secret string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if got := r.Header.Get(deliver.HeaderSignature); got != deliver.Sign(secret, body) {
			rc.bad = append(rc.bad, "bad signature "+got)
		}
		var ev deliver.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			rc.bad = append(rc.bad, err.Error())
		}
		for _, p := range ev.Papers {
			rc.papers = append(rc.papers, p.ID)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.papers...)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestWebhookGetsTheBacklogOnceAcrossARestart(t *testing.T) {
	rc := &receiver{}
	hook := newHFServer(t, rc.handle("s3cret"))
	// The second run's answer has one paper more, first seen then.
	var entries []map[string]any
	if err := json.Unmarshal(fixture(t), &entries); err != nil {
		t.Fatal(err)
	}
	extra := map[string]any{}
	if err := json.Unmarshal(must(json.Marshal(entries[0])), &extra); err != nil {
		t.Fatal(err)
	}
	extra["paper"].(map[string]any)["id"] = "2606.99999"
	extra["paper"].(map[string]any)["title"] = "A paper that arrives after the restart"
	more := must(json.Marshal(append(entries, extra)))
	var second atomic.Bool
	first := serveJSON(fixture(t))
	hf := newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		if second.Load() {
			serveJSON(more)(w, r)
			return
		}
		first(w, r)
	})
	env := testEnv(t, hf.URL)
	env["HOOK_SECRET"] = "s3cret"
	env["HOOK_URL"] = hook.URL + "/paperfeed"
	path := filepath.Join(t.TempDir(), "paperfeed.yaml")
	cfg := "sources:\n  - name: hf\n    type: huggingface\n    days: 1\ntopics:\n  - slug: all\n" +
		"deliver:\n  - name: hook\n    type: webhook\n    url: ${HOOK_URL}\n    secret: ${HOOK_SECRET}\n    backlog: 3\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env["PAPERFEED_CONFIG"] = path

	s := startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(rc.got()) < 3 && time.Now().Before(deadline) {
		sleepBriefly()
	}
	backlog := rc.got()
	if len(backlog) != 3 {
		t.Fatalf("the new target got %d papers, want its backlog of 3: %v", len(backlog), backlog)
	}
	_, _, raw := getHealth(t, s.url)
	if !strings.Contains(raw, `"deliveries":[{"name":"hook","type":"webhook"`) || strings.Contains(raw, "s3cret") || strings.Contains(raw, "/paperfeed\"") {
		t.Errorf("healthz deliveries: %s", raw)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("stop: %d", code)
	}

	// After a restart over the same history, only the new paper is sent.
	second.Store(true)
	s = startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for len(rc.got()) < 4 && time.Now().Before(deadline) {
		sleepBriefly()
	}
	time.Sleep(500 * time.Millisecond) // give a wrong resend the time to arrive
	if got := rc.got(); len(got) != 4 || got[3] != "2606.99999" || !slices.Equal(got[:3], backlog) {
		t.Errorf("after a restart the target has %v, want %v and then 2606.99999", got, backlog)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 {
		t.Errorf("receiver saw: %v", rc.bad)
	}
}
