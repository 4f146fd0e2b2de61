//go:build unix

package serve

import (
	"path/filepath"
	"syscall"
	"testing"
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
	set := *h.set.Load()
	if _, ok := set["/feeds/pipe.atom"]; ok {
		t.Error("named pipe is served")
	}
	if _, ok := set["/feeds/cs-lg.atom"]; !ok {
		t.Error("regular file beside the pipe is not served")
	}
}
