//go:build !unix

package serve

// softNoFile reports that the system has no RLIMIT_NOFILE.
func softNoFile() (uint64, bool) { return 0, false }
