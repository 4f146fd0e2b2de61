//go:build unix

package serve

import "syscall"

// softNoFile is the process's soft RLIMIT_NOFILE.
func softNoFile() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}
