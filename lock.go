package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// lockFile marks the data directory as taken by one paperfeed process (a
// server or -once) for as long as it runs; -check and -explain do not take
// it. The history file itself is open only while it is written.
const lockFile = "paperfeed.lock"

// errDirTaken means another paperfeed process uses the data directory.
var errDirTaken = errors.New("another paperfeed is running with this data directory")

// dirLock is a held lock of a data directory.
type dirLock struct{ f *os.File }

// lockDir takes dir's lock without waiting.
func lockDir(dir string) (*dirLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (%s): stop it, or give this one its own PAPERFEED_DATA_DIR", errDirTaken, dir)
	}
	return &dirLock{f: f}, nil
}

// unlock lets go of the directory.
func (l *dirLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the lock
	l.f = nil
	return err
}
