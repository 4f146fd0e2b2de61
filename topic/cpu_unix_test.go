//go:build unix

package topic

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used, user and system. The
// benchmarks report it beside wall time because the machines they run on
// are shared: wall time there also counts the time other processes held
// the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
