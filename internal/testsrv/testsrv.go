// Package testsrv starts the real servers that tests run against, on
// 127.0.0.1 only, and stops them when the test ends.
//
// Versitygw is an S3 gateway (github.com/versity/versitygw, Apache-2.0) over
// a directory of the test's own. Its binary is found on PATH or in the Go
// bin directory (GOBIN, else the first GOPATH entry's bin); when it is in
// neither, it is installed there once with `go install` at the version this
// package pins, under a lock file so test binaries running in parallel do
// not race, so a fresh clone needs only Go and the module proxy. The first
// install takes a minute or more; every later test finds the binary.
//
// SMTP starts an SMTP server in-process (github.com/emersion/go-smtp) on
// 127.0.0.1: plain, STARTTLS or implicit TLS, with an optional login.
package testsrv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// versitygwModule is what `go install` builds when no binary is found.
const versitygwModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// startTimeout bounds how long a gateway may take to answer after it starts;
// it answers in well under a second on an idle machine.
const startTimeout = 30 * time.Second

// Gateway is one versitygw process serving S3 on 127.0.0.1 over Dir, with
// one root account. Stop and Start take it down and bring it back on the
// same port and directory, to test a server that goes away.
type Gateway struct {
	Endpoint string // http://127.0.0.1:PORT
	Access   string // the root account's access key
	Secret   string // and its secret key
	Dir      string // the posix backend's directory; each bucket is a directory in it

	t     testing.TB
	bin   string
	addr  string
	extra []string // options of the posix backend

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	output *lockedWriter // what the process wrote, for a failure message
}

// Versitygw starts a gateway over a t.TempDir() and returns where it
// listens and its credentials. It is stopped when the test ends.
func Versitygw(t testing.TB) (endpoint, access, secret string) {
	t.Helper()
	g := StartVersitygw(t)
	return g.Endpoint, g.Access, g.Secret
}

// StartVersitygw starts a gateway over a t.TempDir() on a free port and
// waits until it answers. extra are options of its posix backend (see
// `versitygw posix --help`), such as "--data-integrity-etag". It is stopped
// when the test ends.
func StartVersitygw(t testing.TB, extra ...string) *Gateway {
	t.Helper()
	g := &Gateway{
		Access: "test-" + randomHex(t, 6),
		Secret: randomHex(t, 20),
		Dir:    t.TempDir(),
		t:      t,
		bin:    versitygwBinary(t),
		extra:  extra,
	}
	t.Cleanup(g.Stop)
	// Another process may take the free port between its release and the
	// gateway's bind; a new port then does.
	var err error
	for range 3 {
		g.addr = freeAddr(t)
		if err = g.start(); err == nil {
			g.Endpoint = "http://" + g.addr
			return g
		}
	}
	t.Fatalf("versitygw: %v", err)
	return nil
}

// Start starts the gateway again, after Stop, on the same port and
// directory, and waits until it answers.
func (g *Gateway) Start() {
	g.t.Helper()
	if err := g.start(); err != nil {
		g.t.Fatalf("versitygw: restart on %s: %v", g.addr, err)
	}
}

// Stop kills the gateway and waits for it to exit. Its directory stays.
// Stopping a stopped gateway does nothing.
func (g *Gateway) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd == nil {
		return
	}
	select {
	case <-g.exited:
	default:
		if err := g.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			g.t.Errorf("versitygw: stop: %v", err)
		}
		<-g.exited
	}
	if out := g.output.String(); g.t.Failed() && out != "" {
		g.t.Logf("versitygw output:\n%s", out)
	}
	g.cmd = nil
}

func (g *Gateway) start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd != nil {
		return errors.New("already running")
	}
	args := []string{"--port", g.addr, "--access", g.Access, "--secret", g.Secret, "--quiet", "posix"}
	args = append(args, g.extra...)
	args = append(args, g.Dir)
	cmd := exec.Command(g.bin, args...)
	// One writer for both, so its lock orders their writes.
	out := &lockedWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait() //nolint:errcheck // a killed gateway exits with an error; Stop wants only the exit
		close(exited)
	}()
	if err := waitAnswer("http://"+g.addr, exited); err != nil {
		cmd.Process.Kill() //nolint:errcheck // it is being discarded, whatever its state
		<-exited
		return fmt.Errorf("%w\n%s", err, out.String())
	}
	g.cmd, g.exited, g.output = cmd, exited, out
	return nil
}

// waitAnswer waits until url answers any HTTP response (an anonymous
// request gets 403), the process exits, or startTimeout passes. Readiness
// of another process can only be polled.
func waitAnswer(url string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before answering")
		case <-deadline.C:
			return fmt.Errorf("no answer within %s: %v", startTimeout, err)
		case <-tick.C:
		}
	}
}

// freeAddr is a 127.0.0.1 address with a port nothing listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("free port: %v", err)
	}
	return addr
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// lockedWriter lets the process's stdout and stderr share one buffer.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// versitygwBinary finds the versitygw binary, installing it if needed.
func versitygwBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() { binPath, binErr = findOrInstall(t) })
	if binErr != nil {
		t.Fatalf("versitygw: %v", binErr)
	}
	return binPath
}

func findOrInstall(t testing.TB) (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("not on PATH, and no go command to install it: %w", err)
	}
	dir, err := goBinDir(goBin)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "versitygw")
	if isFile(bin) {
		return bin, nil
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), "paperfeed-testsrv-versitygw.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another test binary may have installed it while this one waited.
	if isFile(bin) {
		return bin, nil
	}
	t.Logf("installing %s (a minute or more, once)", versitygwModule)
	start := time.Now()
	cmd := exec.Command(goBin, "install", versitygwModule)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", versitygwModule, err, out)
	}
	t.Logf("installed %s in %s", bin, time.Since(start).Round(time.Second))
	if !isFile(bin) {
		return "", fmt.Errorf("go install %s left no %s", versitygwModule, bin)
	}
	return bin, nil
}

// goBinDir is where `go install` puts binaries: GOBIN, else the bin
// directory of GOPATH's first entry.
func goBinDir(goBin string) (string, error) {
	out, err := exec.Command(goBin, "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 2 {
		return "", fmt.Errorf("go env GOBIN GOPATH: unexpected output %q", out)
	}
	if lines[0] != "" {
		return lines[0], nil
	}
	gopath := filepath.SplitList(lines[1])
	if len(gopath) == 0 || gopath[0] == "" {
		return "", errors.New("go env: neither GOBIN nor GOPATH is set")
	}
	return filepath.Join(gopath[0], "bin"), nil
}

func isFile(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}
