package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// WriteFile writes data to dir/name (creating parent dirs) through a temporary file in the SAME
// directory, fsync, rename — unless the file already holds exactly these bytes, in which case it
// does nothing and returns changed=false (readers keep their ETag; mtime unchanged).
//
// name is a slash-separated path inside dir ("feeds/ai.atom"); names that
// leave dir are refused. The temporary file is hidden (".<base>.tmp-*") so the
// HTTP server can skip it, and it is removed on any error. The new file is
// readable by all (0644).
func WriteFile(dir, name string, data []byte) (changed bool, err error) {
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return false, fmt.Errorf("write %q: %w", name, errNotLocal)
	}
	path := filepath.Join(dir, filepath.FromSlash(name))
	if same(path, data) {
		return false, nil
	}
	parent := filepath.Dir(path)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(parent, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, removeTemp(tmp.Name()))
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return false, errors.Join(fmt.Errorf("write %s: %w", name, err), tmp.Close())
	}
	if err := tmp.Chmod(0o644); err != nil {
		return false, errors.Join(fmt.Errorf("write %s: %w", name, err), tmp.Close())
	}
	if err := tmp.Sync(); err != nil {
		return false, errors.Join(fmt.Errorf("write %s: %w", name, err), tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	// The rename is durable only once the directory is synced.
	if err := syncDir(parent); err != nil {
		return true, fmt.Errorf("write %s: %w", name, err)
	}
	return true, nil
}

var errNotLocal = errors.New("name is not a local path")

// same reports whether path is a regular file holding exactly data. Any
// error (no file, a directory, unreadable) means "not the same", and the
// write goes ahead and reports what really fails. It reads the file in
// chunks and stops at the first difference, rather than reading the whole
// file into memory for every feed of every refresh.
func same(path string, data []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	eq := sameContent(f, data)
	if err := f.Close(); err != nil {
		return false
	}
	return eq
}

// sameChunk is how much of the old file same reads at a time.
const sameChunk = 32 << 10

func sameContent(f *os.File, data []byte) bool {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
		return false
	}
	buf := make([]byte, max(1, min(sameChunk, len(data))))
	for len(data) > 0 {
		n, err := io.ReadFull(f, buf[:min(len(buf), len(data))])
		if err != nil || !bytes.Equal(buf[:n], data[:n]) {
			return false
		}
		data = data[n:]
	}
	// The size matched, but the file may have grown since Stat.
	n, err := f.Read(buf[:cap(buf)])
	return n == 0 && errors.Is(err, io.EOF)
}

// removeTemp removes a temporary file after a failed write; a file already
// gone is not an error.
func removeTemp(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove temporary file: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	if err := d.Sync(); err != nil {
		return errors.Join(fmt.Errorf("sync dir: %w", err), d.Close())
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// tempPattern matches the names of WriteFile's temporary files.
var tempPattern = regexp.MustCompile(`^\..+\.tmp-[0-9]+$`)

// RemoveTemps removes the temporary files that writers killed mid-write left
// in dir and its subdirectories, and returns how many it removed. Call it
// before writing, while no other writer uses dir.
func RemoveTemps(dir string) (int, error) {
	removed := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.Type().IsRegular() && tempPattern.MatchString(d.Name()) {
			if err := removeTemp(path); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("remove temporary files: %w", err)
	}
	return removed, nil
}
