//go:build unix

package serve

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReloadSkipsSpecialFiles puts a named pipe in the site: opening it would
// block Reload forever, so it must be skipped by type before any open.
func TestReloadSkipsSpecialFiles(t *testing.T) {
	dir := site(t)
	if err := syscall.Mkfifo(filepath.Join(dir, "feeds", "pipe.atom"), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	h := New(dir, Options{})
	if err := h.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	set := routes(h)
	if _, ok := set["/feeds/pipe.atom"]; ok {
		t.Error("named pipe is served")
	}
	if _, ok := set["/feeds/cs-lg.atom"]; !ok {
		t.Error("regular file beside the pipe is not served")
	}
}

// TestServeReplacedByPipe replaces a served file with a named pipe after
// Reload: the request must answer 404 at once, not wait for a writer.
func TestServeReplacedByPipe(t *testing.T) {
	dir := site(t)
	_, srv := start(t, dir, Options{})
	for _, name := range []string{"feeds/cs-lg.atom", "feeds/cs-lg.atom.gz"} {
		file := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(file, 0o644); err != nil {
			t.Fatalf("mkfifo: %v", err)
		}
	}
	c := client(t)
	c.Timeout = 5 * time.Second
	resp, body := do(t, c, "GET", srv.URL+"/feeds/cs-lg.atom", map[string]string{"Accept-Encoding": "gzip"})
	if resp.StatusCode != 404 {
		t.Errorf("got %d %q, want 404", resp.StatusCode, body)
	}
}
