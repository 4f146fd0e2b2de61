package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The status survives a save and a load; an unreadable one is logged and
// dropped, never fatal; a failed save says so.
func TestStatusFile(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if st := loadStatus(dir, log); !st.LastSuccess.IsZero() || logs.Len() != 0 {
		t.Errorf("a missing status file: %+v, logged %q", st, logs.String())
	}
	when := time.Date(2026, 6, 13, 6, 0, 0, 0, time.UTC)
	if err := saveStatus(dir, &Status{LastSuccess: when, WriteError: "cannot write the site: the disk is full"}); err != nil {
		t.Fatal(err)
	}
	st := loadStatus(dir, log)
	if !st.LastSuccess.Equal(when) || st.WriteError != "" {
		t.Errorf("loaded %+v: want the last success, and no write error from a previous process", st)
	}
	if err := os.WriteFile(filepath.Join(dir, statusFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st := loadStatus(dir, log); !st.LastSuccess.IsZero() || !strings.Contains(logs.String(), "unreadable") {
		t.Errorf("an unreadable status: %+v, logged %q", st, logs.String())
	}
	if err := saveStatus(filepath.Join(dir, "missing"), &Status{}); err == nil || !strings.Contains(err.Error(), "save status") {
		t.Errorf("saving into a missing directory: %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, statusFile+".tmp-*")); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}
