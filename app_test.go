package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/paperfeed/paperfeed/metrics"
	"github.com/paperfeed/paperfeed/scrape"
	"github.com/paperfeed/paperfeed/store"
)

// TestCompileRefusesUnknownSourceType: ParseConfig rejects unknown types, and
// a config built another way still cannot skip a source silently.
func TestCompileRefusesUnknownSourceType(t *testing.T) {
	a := &App{}
	_, err := a.compile(&Config{Sources: []SourceConfig{{Name: "x", Type: "gopher"}}, Topics: []TopicConfig{{Slug: "all", Limit: 1}}})
	if err == nil || !strings.Contains(err.Error(), `source x: unknown type "gopher"`) {
		t.Errorf("got %v, want an error naming the source and type", err)
	}
}

// TestScrapeReason sorts scrape errors into the metrics' reasons, through
// the wrapping the scrapers and errors.Join add.
func TestScrapeReason(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("scrape hf: %w", context.DeadlineExceeded), metrics.ReasonTimeout},
		{fmt.Errorf("scrape hf: %w", &scrape.HTTPError{URL: "http://127.0.0.1/x", StatusCode: 503}), metrics.ReasonHTTPStatus},
		{errors.Join(fmt.Errorf("day 1: %w", scrape.ErrDisallowed)), metrics.ReasonRobots},
		{fmt.Errorf("x: %w", scrape.ErrBodyTooLarge), metrics.ReasonTooLarge},
		{fmt.Errorf("x: %w", scrape.ErrNoData), metrics.ReasonParse},
		{fmt.Errorf("get: %w", refused), metrics.ReasonNetwork},
		{errors.New("something else"), metrics.Other},
	} {
		if got := scrapeReason(tt.err); got != tt.want {
			t.Errorf("scrapeReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestWriteProblem says in public words what kind of write failed, without
// the path the error carries.
func TestWriteProblem(t *testing.T) {
	path := "/srv/paperfeed/public/feeds/all.atom"
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}, "cannot write the site: the disk is full"},
		{&os.PathError{Op: "open", Path: path, Err: syscall.EROFS}, "cannot write the site: the directory is not writable"},
		{&os.PathError{Op: "open", Path: path, Err: syscall.EACCES}, "cannot write the site: the directory is not writable"},
		{&os.PathError{Op: "open", Path: path, Err: syscall.EMFILE}, "cannot write the site: out of file descriptors"},
		{fmt.Errorf("merge: %w", store.ErrLocked), "cannot write the history: another process holds it"},
		{errors.New("odd"), "cannot write the history or the site"},
	} {
		got := writeProblem(tt.err)
		if got != tt.want || strings.Contains(got, path) {
			t.Errorf("writeProblem(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
