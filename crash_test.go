package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/store"
)

// childEnv marks a re-executed test binary that runs the program itself.
const childEnv = "TEST_PAPERFEED_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "main" {
		os.Args = []string{"paperfeed"}
		main()
	}
	if os.Getenv(childEnv) == "once" {
		os.Exit(run(context.Background(), []string{"-once"}, environMap(os.Environ()), os.Stdout, os.Stderr, hooks{scrape: fastScrape}))
	}
	os.Exit(m.Run())
}

// growingHF answers every request with the fixture's 30 papers under new
// ids, so that every refresh adds papers to the history.
func growingHF(t *testing.T) *hfServer {
	var entries []map[string]any
	if err := json.Unmarshal(fixture(t), &entries); err != nil {
		t.Fatal(err)
	}
	var batch atomic.Int64
	return newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := batch.Add(1)
		for i, e := range entries {
			e["paper"].(map[string]any)["id"] = fmt.Sprintf("2601.%05d", int(n)*100+i)
		}
		data, err := json.Marshal(entries)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(data)
	})
}

// TestKilledRefreshLosesNothing kills `paperfeed -once` with SIGKILL at random
// points of a refresh, many times. After every kill the store opens, nothing
// stored before is lost, and every feed file is whole.
func TestKilledRefreshLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	hf := growingHF(t)
	env := testEnv(t, hf.URL)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	out, dbPath := env["PAPERFEED_OUT_DIR"], filepath.Join(env["PAPERFEED_DATA_DIR"], storeFile)

	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=once")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return cmd
	}

	// One whole run first: it sets the files every later state must have,
	// and how long a refresh takes.
	start := time.Now()
	if outb, err := child().CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v: %s", err, outb)
	}
	full := time.Since(start)
	want := siteFiles(t, out)
	stored := storedPapers(t, dbPath)

	temps := 0
	rng := rand.New(rand.NewPCG(1, 2))
	const kills = 15
	killed := 0
	for i := range kills {
		cmd := child()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(full))))
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			killed++
		}
		cmd.Wait() //nolint:errcheck // killed on purpose

		now := storedPapers(t, dbPath)
		if now < stored {
			t.Fatalf("kill %d: the store holds %d papers, fewer than the %d stored before", i, now, stored)
		}
		stored = now
		got := siteFiles(t, out)
		for name := range want {
			if _, ok := got[name]; !ok {
				t.Errorf("kill %d: %s is missing", i, name)
			}
		}
		for name, data := range got {
			if strings.HasPrefix(filepath.Base(name), ".") {
				temps++ // a temporary file the killed writer left; never served
				continue
			}
			if err := wellFormed(name, data); err != nil {
				t.Errorf("kill %d: %s is not whole: %v", i, name, err)
			}
		}
	}
	if killed < kills/2 {
		t.Errorf("only %d of %d runs were killed before they ended", killed, kills)
	}
	// The next run clears what the killed ones left.
	if outb, err := child().CombinedOutput(); err != nil {
		t.Fatalf("run after the kills: %v: %s", err, outb)
	}
	for name := range siteFiles(t, out) {
		if strings.HasPrefix(filepath.Base(name), ".") {
			t.Errorf("%s left behind after a whole run", name)
		}
	}
	t.Logf("%d kills during refreshes of ~%s; %d papers stored; %d temporary files seen after kills", killed, full.Round(time.Millisecond), stored, temps)
}

func storedPapers(t *testing.T, path string) int {
	t.Helper()
	s, err := store.Open(path)
	if err != nil {
		t.Fatalf("store does not open: %v", err)
	}
	defer s.Close()
	return s.Len()
}

// wellFormed parses a site file whole.
func wellFormed(name string, data []byte) error {
	switch filepath.Ext(name) {
	case ".json":
		var v any
		return json.Unmarshal(data, &v)
	case ".atom", ".rss", ".opml":
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			_, err := d.Token()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
	case ".html":
		if !bytes.Contains(data, []byte("</html>")) {
			return fmt.Errorf("no </html>")
		}
	}
	return nil
}

// TestSIGTERMStopsTheServer runs the real program in a child process and
// stops it with SIGTERM: it exits 0 within seconds.
func TestSIGTERMStopsTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process; skipped with -short")
	}
	hf := newHFServer(t, serveJSON(fixture(t)))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=main")
	for k, v := range testEnv(t, hf.URL) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "PAPERFEED_LOG_LEVEL=info", "PAPERFEED_LOG_FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // already gone when the test passes
	// Wait for the first refresh, reading the JSON log.
	dec := json.NewDecoder(stderr)
	addr := ""
	for {
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("log ended before the first refresh: %v", err)
		}
		if line.Msg == "serving" {
			addr = line.Addr
		}
		if line.Msg == "refreshed" {
			break
		}
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz before SIGTERM: %v %v", resp, err)
	}
	go io.Copy(io.Discard, stderr) //nolint:errcheck // drain the rest of the log
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
		t.Logf("stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGTERM")
	}
}
