package scrape

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
)

// answer gathers what one call of a source got from its parts (the days of
// a view, a listing page, the pages of Details) and makes its one result:
// every paper clamped, and the parts' failures as one error, a *Partial when
// some parts answered.
type answer struct {
	log    *slog.Logger
	prefix string // "scrape <name>" or "details": the context of the error
	papers []paper.Paper
	ok     int      // parts that answered
	failed []string // one public line per failed part
	errs   []error
}

// fail records a part that failed. label names the part for the public line
// ("2026-06-11", a paper's id); err already names its URL.
func (a *answer) fail(label string, err error) {
	line := publicLine(err)
	if label != "" {
		line = label + ": " + line
	}
	a.failed = append(a.failed, line)
	a.errs = append(a.errs, err)
}

// result clamps every paper (see clampAll) and returns them with the error
// of the failed parts: nil, the joined errors when no part answered, or a
// *Partial.
func (a *answer) result() ([]paper.Paper, error) {
	clampAll(a.log, a.papers)
	if len(a.errs) == 0 {
		return a.papers, nil
	}
	err := oneLine(fmt.Errorf("%s: %w", a.prefix, errors.Join(a.errs...)))
	if a.ok == 0 {
		return a.papers, err
	}
	return a.papers, &Partial{Failed: a.failed, Err: err}
}

// configFailure is the error of a source whose configuration cannot work.
func configFailure(prefix string, err error) error {
	return oneLine(fmt.Errorf("%s: %w", prefix, &configError{err}))
}

// clampAll applies paper.Clamp to every paper, logging one WARN per paper
// that was cut. It is the one place every source's papers pass through.
func clampAll(log *slog.Logger, papers []paper.Paper) {
	for i := range papers {
		if cut := paper.Clamp(&papers[i]); len(cut) > 0 {
			log.Warn("cut over-long fields", "id", papers[i].ID, "fields", strings.Join(cut, ","))
		}
	}
}

// limitPapers keeps the first max papers of one answer, logging what it
// dropped.
func limitPapers(log *slog.Logger, u string, papers []paper.Paper, max int) []paper.Paper {
	if len(papers) <= max {
		return papers
	}
	log.Warn("dropped papers over max papers", "url", u, "dropped", len(papers)-max, "max_papers", max)
	return papers[:max:max]
}

// skip is an entry of an answer that was left out, and why.
type skip struct {
	index  int    // 0-based, among the answer's entries
	id     string // the entry's id when it could be read, else ""
	reason string
}

// maxSkipLogs bounds the WARN lines one answer's skipped entries make: a
// broken answer of thousands of entries gets a summary, not thousands of lines.
const maxSkipLogs = 10

// logSkips logs each skipped entry of the answer from u once.
func logSkips(log *slog.Logger, u string, skips []skip) {
	for i, s := range skips {
		if i == maxSkipLogs {
			log.Warn("skipped more entries", "url", u, "skipped", len(skips)-i)
			return
		}
		args := []any{"url", u, "index", s.index}
		if s.id != "" {
			args = append(args, "id", bounded(s.id, maxLogID))
		}
		args = append(args, "reason", bounded(s.reason, maxLogReason))
		log.Warn("skipped an entry", args...)
	}
}

// Bounds of what a hostile answer can put into one log line, in runes.
const (
	maxLogID     = 100
	maxLogReason = 500
)

// bounded is s made valid UTF-8 and cut to at most n runes, and a marker.
func bounded(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// checkHosts checks a source's Hosts: exact, lower-case host names without
// scheme, port or path.
func checkHosts(hosts []string) error {
	for _, h := range hosts {
		if h == "" || h != strings.ToLower(h) || strings.ContainsAny(h, ":/?#@[] \t\r\n") {
			return fmt.Errorf("hosts: %q: want a lower-case host name such as www.example.org", h)
		}
	}
	return nil
}
