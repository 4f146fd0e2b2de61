//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import "os"

// flock is not available here: the history file's own lock, taken while
// it is written, is then the only guard against a second writer.
func flock(*os.File) error { return nil }
