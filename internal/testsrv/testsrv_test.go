package testsrv

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestVersitygwStopStart checks that a gateway answers S3 requests, refuses
// connections once stopped, and answers again on the same port after Start.
func TestVersitygwStopStart(t *testing.T) {
	g := StartVersitygw(t)
	if g.Access == "" || g.Secret == "" || g.Access == g.Secret {
		t.Fatalf("credentials %q/%q: want two different non-empty keys", g.Access, g.Secret)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	answers := func() (int, error) {
		resp, err := client.Get(g.Endpoint + "/")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	// An unsigned request is refused by S3, which shows S3 is answering.
	if code, err := answers(); err != nil || code != http.StatusForbidden {
		t.Fatalf("running: GET / = %d, %v; want 403", code, err)
	}
	g.Stop()
	if _, err := answers(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("stopped: GET / error = %v; want connection refused", err)
	}
	g.Stop() // a second Stop does nothing
	g.Start()
	if code, err := answers(); err != nil || code != http.StatusForbidden {
		t.Fatalf("restarted: GET / = %d, %v; want 403", code, err)
	}
}

// TestVersitygwBadOption checks that a gateway that cannot start fails
// with its own output rather than hanging until the start timeout.
func TestVersitygwBadOption(t *testing.T) {
	g := &Gateway{t: t, bin: versitygwBinary(t), addr: freeAddr(t), Access: "a", Secret: "b", Dir: t.TempDir(), extra: []string{"--no-such-option"}}
	start := time.Now()
	err := g.start()
	if err == nil {
		g.Stop()
		t.Fatal("start with an unknown option: no error")
	}
	if took := time.Since(start); took > startTimeout/2 {
		t.Errorf("start took %s to fail; want it to notice the exit", took)
	}
	if !strings.Contains(err.Error(), "exited before answering") || !strings.Contains(err.Error(), "no-such-option") {
		t.Errorf("error = %.300q...; want it to say the gateway exited, with its output", err)
	}
}

// TestFindInGoBin checks that a binary in GOBIN is found when PATH lacks
// it, without installing anything.
func TestFindInGoBin(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	want := filepath.Join(dir, "versitygw")
	if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", filepath.Dir(goBin))
	t.Setenv("GOBIN", dir)
	got, err := findOrInstall(t)
	if err != nil || got != want {
		t.Fatalf("findOrInstall = %q, %v; want %q", got, err, want)
	}
}

func TestGoBinDir(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	a, b := t.TempDir(), t.TempDir()
	tests := []struct {
		name, gobin, gopath, want string
	}{
		{"GOBIN wins", a, b, a},
		{"first GOPATH entry", "", a + string(filepath.ListSeparator) + b, filepath.Join(a, "bin")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOBIN", tt.gobin)
			t.Setenv("GOPATH", tt.gopath)
			got, err := goBinDir(goBin)
			if err != nil || got != tt.want {
				t.Errorf("goBinDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestLockFile checks that the install lock excludes a second holder until
// the first releases it.
func TestLockFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "lock")
	unlock, err := lockFile(name)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		u, err := lockFile(name)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		got <- u
	}()
	select {
	case u := <-got:
		u()
		t.Fatal("second lockFile returned while the first held the lock")
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(10 * time.Second):
		t.Fatal("second lockFile still waiting after the first released the lock")
	}
}
