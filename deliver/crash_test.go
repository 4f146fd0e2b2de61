package deliver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The helper process is this test binary run again with helperEnv set to
// a history's path: it delivers crashPapers papers to the webhook at
// helperURLEnv, as the app would, until it is killed.
const (
	helperEnv    = "PAPERFEED_DELIVER_HELPER"
	helperURLEnv = "PAPERFEED_DELIVER_URL"
	crashPapers  = 40
)

func TestDeliverHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestKilledMidDelivery")
	}
	h := &history{t: t, path: path}
	d, err := newDeliverer([]Target{{Name: "hook", Type: TypeWebhook, URL: os.Getenv(helperURLEnv), Backlog: crashPapers}},
		h.with, discard(), time.Now, func(d *Deliverer) {
			d.backoffMin, d.backoffMax, d.timeout = 10*time.Millisecond, 50*time.Millisecond, 5*time.Second
		})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	d.Offer(map[string][]string{"agents": paperIDs(0, crashPapers)})
	d.Run(context.Background()) // until killed
	os.Exit(0)
}

// TestKilledMidDelivery kills a delivering process with SIGKILL, again and
// again: once while the receiver holds a message it has taken but not
// answered (the window between the target's acceptance and the mark), and
// at random moments after answers. Every paper arrives, and each kill
// sends at most one paper a second time.
func TestKilledMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	h := newHistory(t)
	h.merge(papers(0, crashPapers), t0)

	var (
		mu       sync.Mutex
		got      = map[string]int{}
		total    int
		cmd      *exec.Cmd
		killHere = 3 // the request during which the child is killed, unanswered
	)
	answered := make(chan int, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil || len(ev.Papers) != 1 {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		got[ev.Papers[0].ID]++
		total++
		n := total
		if n == killHere {
			// Taken, never answered: the child dies before it can mark it.
			if err := cmd.Process.Kill(); err != nil {
				t.Errorf("kill: %v", err)
			}
			mu.Unlock()
			return
		}
		mu.Unlock()
		w.WriteHeader(200)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		answered <- n
	}))
	defer srv.Close()

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	kills := 0
	run := func(until func(n int) bool, randomKill bool) {
		t.Helper()
		c := exec.Command(os.Args[0], "-test.run=^TestDeliverHelperProcess$")
		c.Env = append(os.Environ(), helperEnv+"="+h.path, helperURLEnv+"="+srv.URL)
		c.Stderr = os.Stderr
		// Started under mu: the receiver reads cmd.Process.
		mu.Lock()
		cmd = c
		err := c.Start()
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- c.Wait() }()
		deadline := time.After(waitLimit)
		for {
			select {
			case n := <-answered:
				if !until(n) {
					continue
				}
				if randomKill {
					time.Sleep(time.Duration(rnd.IntN(5000)) * time.Microsecond) // a random moment, not a synchronisation
				}
				if err := c.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				<-exited
				kills++
				return
			case err := <-exited:
				if err == nil || !strings.Contains(err.Error(), "killed") {
					t.Fatalf("helper ended with %v, want killed", err)
				}
				kills++
				return
			case <-deadline:
				if err := c.Process.Kill(); err != nil {
					t.Logf("kill: %v", err)
				}
				t.Fatalf("helper did not get on within %s", waitLimit)
			}
		}
	}
	// 1: killed inside the third request, before its answer.
	run(func(int) bool { return false }, false)
	// 2..5: killed at random moments after answers.
	for round := range 4 {
		stop := 0
		mu.Lock()
		stop = total + 3 + round*2
		mu.Unlock()
		run(func(n int) bool { return n >= stop }, true)
	}
	// Then to the end.
	run(func(int) bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == crashPapers
	}, false)

	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for i := range crashPapers {
		id := testPaper(i).ID
		switch n := got[id]; {
		case n == 0:
			t.Errorf("paper %s never arrived", id)
		case n > 2:
			t.Errorf("paper %s arrived %d times", id, n)
		case n == 2:
			dups++
		}
	}
	if got[testPaper(2).ID] != 2 {
		t.Errorf("the paper taken but unanswered at the kill arrived %d times, want 2 (sent again once)", got[testPaper(2).ID])
	}
	if dups > kills {
		t.Errorf("%d papers arrived twice after %d kills; at most one a kill", dups, kills)
	}
	t.Logf("%d kills, %d papers arrived twice, %d requests", kills, dups, total)
	m := h.marks("hook", paperIDs(0, crashPapers)...)
	if len(m.Done) < crashPapers-1 {
		t.Errorf("%d papers marked, want at least %d", len(m.Done), crashPapers-1)
	}
}
