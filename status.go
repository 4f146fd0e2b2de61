package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// statusFile keeps the refresh status in the data directory, so that
// last_success, each source's last success and its next try survive a
// restart. It is apart from the history so that a refresh that changes no
// paper leaves the history file untouched.
const statusFile = "status.json"

// loadStatus reads the saved status; a missing or unreadable one is an
// empty status (logged when unreadable: only dates are lost).
func loadStatus(dir string, log *slog.Logger) *Status {
	st := &Status{}
	data, err := os.ReadFile(filepath.Join(dir, statusFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st
	}
	if err == nil {
		err = json.Unmarshal(data, st)
	}
	if err != nil {
		log.Warn("saved refresh status unreadable; starting without it", "file", statusFile, "err", err)
		return &Status{}
	}
	// A previous process's failures are not this one's: it writes and
	// learns again before it reports them.
	st.WriteError, st.LearnError = "", ""
	return st
}

// saveStatus writes st atomically: a crash leaves the old file or the new.
func saveStatus(dir string, st *Status) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, statusFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("save status: %w", err)
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, statusFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("save status: %w", err)
	}
	return nil
}
