//go:build unix

package serve

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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

// TestServeReplacedByPipe replaces a served file and its .gz, sent from disk,
// with named pipes after Reload: the request must answer 503 at once, not
// wait for a writer.
func TestServeReplacedByPipe(t *testing.T) {
	dir := site(t)
	_, srv := start(t, dir, Options{}, fromDisk)
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
	if resp.StatusCode != 503 {
		t.Errorf("got %d %q, want 503", resp.StatusCode, body)
	}
}

// TestReloadUnreadable makes a changed file, then a directory, unreadable
// (skipped where permissions do not bind, as for root): Reload fails and the
// site it had stays whole; what cannot be opened answers 503, the rest 200,
// and once readable again the next Reload brings the changes in.
func TestReloadUnreadable(t *testing.T) {
	tests := []struct {
		name   string
		chmod  string   // made unreadable
		failed []string // answer 503 meanwhile
	}{
		{name: "file", chmod: "feeds/cs-lg.rss", failed: []string{"/feeds/cs-lg.rss"}},
		{name: "directory", chmod: "feeds", failed: []string{"/feeds/cs-lg.rss", "/feeds/cs-lg.atom", "/feeds/cs-lg.json"}},
	}
	served := []string{"/", "/feeds.opml", "/feeds/cs-lg.rss", "/feeds/cs-lg.atom", "/feeds/cs-lg.json"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := site(t)
			h, srv := start(t, dir, Options{})
			writeFile(t, filepath.Join(dir, "feeds", "cs-lg.rss"), "<rss>next</rss>", fileTime.Add(time.Hour))
			writeFile(t, filepath.Join(dir, "feeds", "cs-cl.atom"), "<feed/>", fileTime)
			name := filepath.Join(dir, filepath.FromSlash(tt.chmod))
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(name, 0); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := os.Chmod(name, fi.Mode().Perm()); err != nil {
					t.Error(err)
				}
			})
			if _, err := os.ReadFile(filepath.Join(dir, "feeds", "cs-lg.rss")); err == nil {
				t.Skip("mode 000 does not stop this user reading (root)")
			}

			before := h.cur.Load()
			if err := h.Reload(); !errors.Is(err, fs.ErrPermission) {
				t.Errorf("Reload: got %v, want a permission error", err)
			}
			if h.cur.Load() != before || h.Len() != 6 {
				t.Errorf("a failed Reload changed the set (Len %d, want 6)", h.Len())
			}
			for _, p := range served {
				want := 200
				if slices.Contains(tt.failed, p) {
					want = 503
				}
				resp, body := do(t, client(t), "GET", srv.URL+p, nil)
				if resp.StatusCode != want || bytes.Contains(body, []byte(dir)) {
					t.Errorf("GET %s: %d %q, want %d and no path", p, resp.StatusCode, body, want)
				}
			}
			if resp, _ := do(t, client(t), "GET", srv.URL+"/feeds/cs-cl.atom", nil); resp.StatusCode != 404 {
				t.Errorf("feed added since the last good Reload: %d, want 404", resp.StatusCode)
			}

			if err := os.Chmod(name, fi.Mode().Perm()); err != nil {
				t.Fatal(err)
			}
			if err := h.Reload(); err != nil {
				t.Fatal(err)
			}
			for p, want := range map[string]string{"/feeds/cs-lg.rss": "<rss>next</rss>", "/feeds/cs-cl.atom": "<feed/>"} {
				if resp, body := do(t, client(t), "GET", srv.URL+p, nil); resp.StatusCode != 200 || string(body) != want {
					t.Errorf("GET %s: %d %q, want %q", p, resp.StatusCode, body, want)
				}
			}
		})
	}
}
