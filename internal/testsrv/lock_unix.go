//go:build unix

package testsrv

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on name, waiting for it, and returns
// what releases it. The kernel releases it too when the process dies, so a
// killed test leaves no stale lock.
func lockFile(name string) (unlock func(), err error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("install lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("install lock %s: %w", name, err)
	}
	return func() { f.Close() }, nil
}
