//go:build !unix

package like

import "time"

// cpuTime is not measured outside Unix; the cpu-ns/op metric reads 0.
func cpuTime() time.Duration { return 0 }
