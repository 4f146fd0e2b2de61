//go:build unix

package serve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv names the test that a re-executed test binary runs as the child
// of that same test: the child lowers its own RLIMIT_NOFILE, which the
// parent's other tests must not share.
const childEnv = "SERVE_TEST_CHILD"

// childNoFile is the child's soft RLIMIT_NOFILE: small enough to run out
// of in a moment.
const childNoFile = 64

// inChild reports whether this process is the child of test, and if so
// lowers its soft RLIMIT_NOFILE to childNoFile.
func inChild(t *testing.T) bool {
	if os.Getenv(childEnv) != t.Name() {
		return false
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	rl.Cur = childNoFile
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	return true
}

// child re-executes the test binary to run the current test as a child.
func child(t *testing.T) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	cmd.WaitDelay = guard
	return cmd
}

// fillFDs takes every descriptor the process has left and returns a func
// that gives them back.
func fillFDs(t *testing.T) (release func()) {
	t.Helper()
	var fds []int
	for {
		fd, err := syscall.Dup(2)
		if errors.Is(err, syscall.EMFILE) {
			break
		}
		if err != nil {
			t.Fatalf("dup: %v", err)
		}
		fds = append(fds, fd)
	}
	return func() {
		for _, fd := range fds {
			if err := syscall.Close(fd); err != nil {
				t.Errorf("close %d: %v", fd, err)
			}
		}
	}
}

// TestDerivedMaxConnsKeepsDescriptors runs a server made by NewServer in a
// child whose RLIMIT_NOFILE is 64, so its derived limit is 32 connections.
// The parent opens 100 idle keep-alive connections to it, one after the
// other: each is served at once. Then, while idle clients hold every
// connection the limit allows, the child still opens files, writes a feed,
// reloads and dials out.
func TestDerivedMaxConnsKeepsDescriptors(t *testing.T) {
	if inChild(t) {
		derivedMaxConnsChild(t)
		return
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "upstream ok")
	}))
	t.Cleanup(upstream.Close)

	cmd := child(t)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 10)
	var out strings.Builder // the child's whole stdout, for a failure
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if rest, ok := strings.CutPrefix(sc.Text(), "child: "); ok {
				lines <- rest
			}
		}
	}()
	done := false
	t.Cleanup(func() {
		stdin.Close() // the child stops serving and ends
		for range lines {
		}
		err := cmd.Wait()
		if !done || err != nil {
			t.Errorf("child: %v\nstdout:\n%s\nstderr:\n%s", err, &out, &stderr)
		}
	})
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("child ended early")
			}
			return l
		case <-time.After(4 * guard):
			t.Fatal("child said nothing")
		}
		return ""
	}

	var addr string
	var maxConns int
	if _, err := fmt.Sscanf(next(), "addr %s max %d", &addr, &maxConns); err != nil {
		t.Fatal(err)
	}
	if want := childNoFile / 2; maxConns != want {
		t.Errorf("derived limit: got %d, want %d (half of RLIMIT_NOFILE %d)", maxConns, want, childNoFile)
	}
	var conns []*keepAlive
	for i := range 100 {
		c := dial(t, addr)
		if resp, _, err := c.get("/"); err != nil || resp.StatusCode != 200 {
			t.Errorf("client %d: %v %v, want served at once", i, resp, err)
			break
		}
		conns = append(conns, c)
	}
	if closed, err := conns[0].closedByServer(); err != nil || !closed {
		t.Errorf("first client: closed %v (%v), want closed for the new ones", closed, err)
	}

	if _, err := fmt.Fprintf(stdin, "work %s\n", upstream.URL); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "work ok" {
		t.Errorf("child: %s", got)
	}
	c := dial(t, addr)
	if resp, body, err := c.get("/feeds/new.atom"); err != nil || resp.StatusCode != 200 || string(body) != "<feed>new</feed>" {
		t.Errorf("the feed the child wrote: %v %v %q, want served", resp, err, body)
	}
	done = true
}

// derivedMaxConnsChild serves the test site until its stdin ends, and does
// the work the parent asks for while the parent's clients hold connections.
func derivedMaxConnsChild(t *testing.T) {
	dir := site(t)
	h := New(dir, Options{})
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, log.New(os.Stderr, "", 0))
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Printf("child: addr %s max %d\n", ln.Addr(), derivedMaxConns())

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		url, ok := strings.CutPrefix(sc.Text(), "work ")
		if !ok {
			t.Fatalf("unknown command %q", sc.Text())
		}
		if err := work(t, h, dir, url); err != nil {
			fmt.Printf("child: work failed: %v\n", err)
			continue
		}
		fmt.Println("child: work ok")
	}
}

// work is what a refresh does besides serving: it holds 16 files open,
// writes a feed into the site, reloads it and fetches from upstream.
func work(t *testing.T, h *Handler, dir, upstream string) error {
	scratch := t.TempDir()
	for i := range 16 {
		f, err := os.Create(filepath.Join(scratch, strconv.Itoa(i)))
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.WriteString("x"); err != nil {
			return err
		}
	}
	tmp := filepath.Join(dir, "feeds", ".new.atom.tmp")
	if err := os.WriteFile(tmp, []byte("<feed>new</feed>"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "feeds", "new.atom")); err != nil {
		return err
	}
	if err := h.Reload(); err != nil {
		return err
	}
	if got, want := h.Len(), 7; got != want {
		return fmt.Errorf("Len %d after Reload, want %d", got, want)
	}
	c := &http.Client{Timeout: guard}
	defer c.CloseIdleConnections()
	resp, err := c.Get(upstream)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "upstream ok" {
		return fmt.Errorf("upstream: %q, %v", body, err)
	}
	return nil
}

// fillAt is the file system of a real root that takes every descriptor the
// process has left just before it reads the directory at, so the real
// scan fails there, part-way, with EMFILE.
type fillAt struct {
	fs.FS
	at   string
	fill func()
}

func (f fillAt) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.at {
		f.fill()
	}
	return fs.ReadDir(f.FS, name)
}

// TestOutOfDescriptors runs in a child whose RLIMIT_NOFILE is 64: a Reload
// that runs out of descriptors part-way (once it reaches feeds/) keeps the
// site it had, whole; with none left, requests for its files answer 503 with
// Retry-After and nothing of the error; with descriptors back, all is served
// and the next Reload brings the changes in.
func TestOutOfDescriptors(t *testing.T) {
	if !inChild(t) {
		out, err := child(t).CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	dir := site(t)
	h := New(dir, Options{})
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config = h.Server(h)
	srv.Start()
	defer srv.Close()
	c := dial(t, srv.Listener.Addr().String()) // opened while there are descriptors
	c.mustGet(t, "/")

	// The site changes: a feed is rewritten, one is added.
	writeFile(t, filepath.Join(dir, "feeds", "cs-lg.rss"), "<rss>next</rss>", fileTime.Add(time.Hour))
	writeFile(t, filepath.Join(dir, "feeds", "cs-cl.atom"), "<feed>cs-cl</feed>", fileTime)
	before := h.cur.Load()

	var release func()
	h.mu.Lock()
	err := h.load(before.root, fillAt{FS: before.root.FS(), at: "feeds", fill: func() { release = fillFDs(t) }})
	h.mu.Unlock()
	if release == nil {
		t.Fatal("the scan never reached feeds")
	}
	if !errors.Is(err, syscall.EMFILE) {
		t.Errorf("part-way Reload: got %v, want EMFILE", err)
	}
	if err := h.Reload(); !errors.Is(err, syscall.EMFILE) {
		t.Errorf("Reload with no descriptor: got %v, want EMFILE", err)
	}
	if h.cur.Load() != before || h.Len() != 6 {
		t.Errorf("a failed Reload changed the set (Len %d, want 6)", h.Len())
	}
	for _, p := range []string{"/", "/feeds/cs-lg.atom", "/feeds/cs-lg.rss", "/feeds.opml"} {
		resp, body, err := c.get(p)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "30" || string(body) != "503 service unavailable\n" {
			t.Errorf("GET %s with no descriptor: %d, Retry-After %q, %q; want 503, 30 and the fixed body",
				p, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	release()

	for _, p := range []string{"/", "/feeds/cs-lg.atom", "/feeds/cs-lg.rss", "/feeds.opml"} {
		c.mustGet(t, p)
	}
	if resp, _, err := c.get("/feeds/cs-cl.atom"); err != nil || resp.StatusCode != 404 {
		t.Errorf("added feed before a Reload succeeds: %v %v, want 404", resp, err)
	}
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	if h.Len() != 7 {
		t.Errorf("Len %d, want 7", h.Len())
	}
	for p, want := range map[string]string{"/feeds/cs-lg.rss": "<rss>next</rss>", "/feeds/cs-cl.atom": "<feed>cs-cl</feed>"} {
		if resp, body, err := c.get(p); err != nil || resp.StatusCode != 200 || string(body) != want {
			t.Errorf("GET %s: %v %v %q, want %q", p, resp, err, body, want)
		}
	}
}
