package feed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"
)

// syncData makes the staged files' bytes durable with one syncfs(2) per
// directory they are in (the file system of each, normally one), which
// writes them all out in one journal commit, where an fsync per file waits
// for a commit each.
func syncData(root string, files []staged) error {
	var dirs []string
	for _, f := range files {
		if d := filepath.Dir(f.tmp); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, dir := range dirs {
		d, err := os.Open(dir)
		if err != nil {
			return fmt.Errorf("sync files in %s: %w", relDir(root, dir), err)
		}
		if err := errors.Join(unix.Syncfs(int(d.Fd())), d.Close()); err != nil {
			return fmt.Errorf("sync files in %s: %w", relDir(root, dir), err)
		}
	}
	return nil
}
