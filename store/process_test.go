package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The helper process is this test binary run again with helperEnv set to a
// mode; it works on the store named by pathEnv and talks over stdin/stdout.
const (
	helperEnv = "PAPERFEED_STORE_HELPER"
	pathEnv   = "PAPERFEED_STORE_PATH"
	crashSize = 10 // papers per Merge in crash mode
)

// TestHelperProcess is not a test: it is the child side of the tests below.
//
//   - "hold": open the store, print "locked", hold it until stdin closes.
//   - "hold-ro": the same, read-only.
//   - "create-stall": create the store, print "creating" once it is built
//     under its temporary name, before it is linked into place, and wait.
//   - "crash": open the store and merge batches of crashSize new papers
//     forever, printing the number of papers after each Merge returns.
//   - "migrate-stall": open a format 1 store, print "migrating" from inside
//     the migration's write transaction, before it commits, and wait there.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for other tests")
	}
	if err := helper(t, mode, os.Getenv(pathEnv)); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

func helper(t *testing.T, mode, path string) error {
	switch mode {
	case "migrate-stall":
		testHookMigrate = func() error {
			fmt.Println("migrating")
			time.Sleep(time.Hour)
			return errors.New("not killed")
		}
	case "create-stall":
		testHookCreate = func(string) error {
			fmt.Println("creating")
			time.Sleep(time.Hour)
			return errors.New("not killed")
		}
	}
	s, err := OpenWith(path, Options{ReadOnly: mode == "hold-ro"})
	if err != nil {
		return err
	}
	switch mode {
	case "hold", "hold-ro":
		fmt.Println("locked")
		if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
			return err
		}
	case "crash":
		now := t0
		for n := s.Len(); ; n += crashSize {
			if _, err := s.Merge(realistic(t, n, crashSize), now); err != nil {
				return err
			}
			now = now.Add(time.Minute)
			fmt.Println(s.Len())
		}
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	return s.Close()
}

func helperCmd(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, pathEnv+"="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

// holder is a helper process holding a store until release.
type holder struct {
	cmd   *exec.Cmd
	stdin io.Closer
}

// hold starts a helper that opens path (read-only when mode is "hold-ro")
// and returns once it holds the file.
func hold(t *testing.T, mode, path string) *holder {
	t.Helper()
	cmd := helperCmd(t, mode, path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("stdin pipe: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { h.release(t) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v; want \"locked\"", line, err)
	}
	return h
}

// release makes the helper close the store and exit, and waits for it.
func (h *holder) release(t *testing.T) {
	t.Helper()
	if h.stdin == nil {
		return
	}
	if err := h.stdin.Close(); err != nil {
		t.Errorf("close helper stdin: %v", err)
	}
	h.stdin = nil
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("helper: %v", err)
	}
}

// TestLockAcrossProcesses: readers in two processes share the file; a writer
// and a reader in two processes exclude each other, the one that waits
// getting the file once the other lets go.
func TestLockAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	realStore(t, path, 5)

	t.Run("readers share", func(t *testing.T) {
		h := hold(t, "hold-ro", path)
		s, err := OpenWith(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("read-only OpenWith beside another process's reader: %v", err)
		}
		if s.Len() != 5 {
			t.Errorf("Len = %d, want 5", s.Len())
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if s, err := Open(path); !errors.Is(err, ErrLocked) {
			if s != nil {
				s.Close()
			}
			t.Errorf("Open for writing beside another process's reader = %v, want ErrLocked", err)
		}
		h.release(t)
	})
	t.Run("writer waits for a reader", func(t *testing.T) {
		h := hold(t, "hold-ro", path)
		s, err := waitOpen(t, path, Options{Wait: time.Minute}, func() { h.release(t) })
		if err != nil {
			t.Fatalf("OpenWith(Wait) for writing: %v", err)
		}
		mergeT(t, s, realistic(t, 5, 1), t0)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
	t.Run("reader waits for a writer", func(t *testing.T) {
		h := hold(t, "hold", path)
		if s, err := OpenWith(path, Options{ReadOnly: true}); !errors.Is(err, ErrLocked) {
			if s != nil {
				s.Close()
			}
			t.Errorf("read-only OpenWith beside another process's writer = %v, want ErrLocked", err)
		}
		s, err := waitOpen(t, path, Options{ReadOnly: true, Wait: time.Minute}, func() { h.release(t) })
		if err != nil {
			t.Fatalf("read-only OpenWith(Wait): %v", err)
		}
		if s.Len() != 6 {
			t.Errorf("Len = %d, want 6", s.Len())
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

// TestCreateKilled kills a process creating a new store once the store is
// built under its temporary name, before it is in place: no file is left
// at the store's path (bbolt creating it there would have left 0 bytes),
// and the next Open creates the store.
func TestCreateKilled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	cmd := helperCmd(t, "create-stall", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "creating\n" {
		t.Fatalf("helper said %q, %v; want \"creating\"", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill helper: %v", err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("helper ended with %v, want killed", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after a creation killed midway, stat = %v; want no file", err)
	}
	left, err := filepath.Glob(path + ".new-*")
	if err != nil || len(left) != 1 {
		t.Fatalf("temporary files left = %q, %v; want the killed one's", left, err)
	}
	s := openT(t, path)
	mergeT(t, s, realistic(t, 0, 3), t0)
	if s.Len() != 3 {
		t.Errorf("Len = %d, want 3", s.Len())
	}
}

func TestOpenLockedByOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	realStore(t, path, 5)
	cmd := helperCmd(t, "hold", path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("stdin pipe: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v; want \"locked\"", line, err)
	}
	sum := fileSum(t, path)
	s, err := Open(path)
	if !errors.Is(err, ErrLocked) {
		if s != nil {
			s.Close()
		}
		t.Errorf("Open while another process holds the file = %v; want ErrLocked", err)
	}
	if fileSum(t, path) != sum {
		t.Errorf("file changed after the refused Open")
	}
	if err := stdin.Close(); err != nil {
		t.Fatalf("close helper stdin: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	if got := openT(t, path).Len(); got != 5 {
		t.Errorf("Len once the helper let go = %d, want 5", got)
	}
}

// TestCrash kills a writing child with SIGKILL at random moments; after each
// kill the store must open and hold every paper of every Merge the child saw
// return.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs child processes")
	}
	path := filepath.Join(t.TempDir(), "history.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	committed := 0
	for round := range 20 {
		cmd := helperCmd(t, "crash", path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatalf("stdout pipe: %v", err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		lines := bufio.NewScanner(stdout)
		// Wait for the first commit so the kill lands while writing,
		// then let it write for a random 0-50ms.
		if !lines.Scan() {
			t.Fatalf("round %d: helper exited before its first Merge: %v", round, cmd.Wait())
		}
		last := lines.Text()
		time.Sleep(time.Duration(r.IntN(50_001)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatalf("kill helper: %v", err)
		}
		for lines.Scan() {
			last = lines.Text()
		}
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: helper ended with %v, want killed", round, err)
		}
		n, err := strconv.Atoi(last)
		if err != nil {
			t.Fatalf("round %d: helper printed %q", round, last)
		}
		if n < committed {
			t.Fatalf("round %d: helper reported %d papers, fewer than the %d before", round, n, committed)
		}
		committed = n

		s, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		got := allIDs(t, s)
		if err := s.Verify(); err != nil {
			t.Fatalf("round %d: Verify after kill: %v", round, err)
		}
		if len(got) != s.Len() {
			t.Errorf("round %d: ForEach saw %d papers, Len says %d", round, len(got), s.Len())
		}
		// A Merge may have committed without its count being printed.
		if len(got) < committed || len(got) > committed+crashSize {
			t.Errorf("round %d: %d papers after kill, want %d to %d", round, len(got), committed, committed+crashSize)
		}
		for i := range min(committed, len(got)) {
			if got[i] != realisticID(i) {
				t.Fatalf("round %d: paper %d is %s, want %s", round, i, got[i], realisticID(i))
			}
		}
		committed = len(got)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	t.Logf("%d papers after 20 kills", committed)
}
