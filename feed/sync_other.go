//go:build !linux

package feed

// syncData makes the staged files' bytes durable, one fsync each.
func syncData(_ string, files []staged) error { return fsyncFiles(files) }
