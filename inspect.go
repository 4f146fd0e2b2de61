package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/learn"
	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/site"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

// inspectWait is how long -check and -explain wait for a running
// paperfeed to let go of the history: it holds the file only while a refresh
// merges and builds the site, a second or so, and these only read, under a
// lock shared with other readers. A variable so that tests can shorten it.
var inspectWait = 30 * time.Second

// inspect runs -check and -explain: it routes the current history under cfg
// and prints what each topic takes, or why one topic takes each paper. It
// reads the history, holding it only while it reads, and writes nothing; a
// data directory without a history is no error.
func inspect(e Env, cfg *Config, opts options, w io.Writer) error {
	specs := make([]topic.Spec, len(cfg.Topics))
	for i := range cfg.Topics {
		specs[i] = cfg.Topics[i].Spec()
	}
	router, err := topic.Compile(specs)
	if err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	explain := -1
	if opts.explain != "" {
		explain = slices.IndexFunc(specs, func(s topic.Spec) bool { return s.Slug == opts.explain })
		if explain < 0 {
			slugs := make([]string, len(specs))
			for i, s := range specs {
				slugs[i] = s.Slug
			}
			return fmt.Errorf("-explain: no topic %q (topics: %s)", opts.explain, strings.Join(slugs, ", "))
		}
	}
	st, err := store.OpenWith(filepath.Join(e.DataDir, storeFile), store.Options{ReadOnly: true, Wait: inspectWait})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(w, "config OK: %d sources, %d topics\n", len(cfg.Sources), len(specs))
		fmt.Fprintf(w, "no history yet in %s: the first refresh (paperfeed or paperfeed -once) writes it\n", e.DataDir)
		return nil
	case errors.Is(err, store.ErrLocked):
		return fmt.Errorf("%w: a running paperfeed is writing the history in %s and did not let go within %v; retry in a moment", err, e.DataDir, inspectWait)
	case err != nil:
		return err
	}

	likes, _ := likeTopics(cfg)
	if explain >= 0 && cfg.Topics[explain].IsLike() {
		return explainLike(w, e, router, specs[explain], likes, st)
	}
	if explain >= 0 {
		return explainTopic(w, router, specs[explain], explain, st)
	}
	taken := make([]int, len(specs))
	var l *learn.Learner
	if len(likes) > 0 {
		if l, err = learn.New(router, likes, like.Options{}); err != nil {
			return errors.Join(err, st.Close())
		}
	}
	// One pass routes the papers and feeds the like-topics' corpus; the
	// history is let go before they train, which takes longer.
	err = st.ForEach(func(p *paper.Paper) error {
		for _, h := range router.Route(p) {
			taken[h.Topic]++
		}
		if l != nil {
			return l.Add(p)
		}
		return nil
	})
	n := st.Len()
	if err := errors.Join(err, st.Close()); err != nil {
		return err
	}
	var learnt []learn.Result
	if l != nil {
		if learnt, err = inspectTrain(l); err != nil {
			return err
		}
	}
	chosen := map[int]int{} // like-topics' papers chosen, by topic
	for k, r := range learnt {
		chosen[likes[k].Index] = len(r.Picks)
	}
	fmt.Fprintf(w, "config OK: %d sources, %d topics; history: %d papers in %s\n\n", len(cfg.Sources), len(specs), n, e.DataDir)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "topic\tpapers\tin feed\t\n")
	for i, s := range specs {
		inFeed := min(taken[i], s.Limit)
		if c, ok := chosen[i]; ok {
			inFeed = min(c, s.Limit)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", s.Slug, taken[i], inFeed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(learnt) > 0 {
		fmt.Fprintf(w, "\nlike-topics:\n")
	}
	for k, r := range learnt {
		fmt.Fprintf(w, "  %s: %s; %d papers chosen, at most %d a listing day\n", r.Slug, likeStats(r), len(r.Picks), likes[k].Top)
	}
	return nil
}

// inspectTrain trains the like-topics for -check and -explain, which write
// nothing: seeds the history lacks are an error naming them.
func inspectTrain(l *learn.Learner) ([]learn.Result, error) {
	results, err := l.Train()
	if missing, ok := errors.AsType[*learn.MissingError](err); ok {
		return nil, fmt.Errorf("%w (paperfeed fetches missing seeds from arXiv when it starts or reloads; an id it cannot find there is a config error)", missing)
	}
	return results, err
}

// explainLike prints the papers like-topic spec chooses, in feed order,
// each with its score and the words that weighed most for and against it.
// It closes st once it has read the history, trains, and opens the history
// again to read the chosen papers.
func explainLike(w io.Writer, e Env, router *topic.Router, spec topic.Spec, likes []learn.Topic, st *store.Store) error {
	k := slices.IndexFunc(likes, func(t learn.Topic) bool { return t.Slug == spec.Slug })
	l, err := learn.New(router, likes[k:k+1], like.Options{})
	if err == nil {
		err = st.ForEach(l.Add)
	}
	n := st.Len()
	if err := errors.Join(err, st.Close()); err != nil {
		return err
	}
	results, err := inspectTrain(l)
	if err != nil {
		return err
	}
	r := results[0]
	var ids []string
	for _, p := range r.Picks {
		ids = append(ids, p.ID)
	}
	st, err = store.OpenWith(filepath.Join(e.DataDir, storeFile), store.Options{ReadOnly: true, Wait: inspectWait})
	if err != nil {
		return err
	}
	papers, err := st.Get(ids...)
	if err := errors.Join(err, st.Close()); err != nil {
		return err
	}
	fmt.Fprintf(w, "like-topic %s: %s\n", spec.Slug, likeStats(r))
	if r.Err != nil {
		return nil
	}
	// A paper pruned since the history was read is left out.
	picks := slices.DeleteFunc(slices.Clone(r.Picks), func(p learn.Pick) bool { return papers[p.ID] == nil })
	slices.SortFunc(picks, func(a, b learn.Pick) int { return site.Compare(papers[a.ID], papers[b.ID]) })
	fmt.Fprintf(w, "its rules take %d of %d papers; it chooses %d, at most %d a listing day; its feeds show the newest %d\n",
		r.Candidates, n, len(picks), likes[k].Top, min(len(picks), spec.Limit))
	for i, pk := range picks {
		p := papers[pk.ID]
		mark, date := listed(i, spec.Limit, p)
		fmt.Fprintf(w, "\n%s %s  %s  score %+.4f  %s\n", mark, p.ID, date, pk.Score, strings.Join(strings.Fields(p.Title), " "))
		fmt.Fprintf(w, "    for:     %s\n", contributions(pk.Pro))
		fmt.Fprintf(w, "    against: %s\n", contributions(pk.Con))
	}
	return nil
}

// contributions prints terms with their parts of a score.
func contributions(cs []like.Contribution) string {
	if len(cs) == 0 {
		return "(none)"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %+.4f", c.Term, c.Weight)
	}
	return strings.Join(parts, ", ")
}

// explainTopic prints the papers topic t takes, newest first, each with the
// terms that matched and where. It closes st once it has read them.
func explainTopic(w io.Writer, router *topic.Router, spec topic.Spec, t int, st *store.Store) error {
	var taken []*paper.Paper
	err := st.ForEach(func(p *paper.Paper) error {
		if ok, _ := router.Explain(t, p); ok {
			taken = append(taken, p)
		}
		return nil
	})
	n := st.Len()
	if err := errors.Join(err, st.Close()); err != nil {
		return err
	}
	slices.SortFunc(taken, site.Compare)
	fmt.Fprintf(w, "topic %s takes %d of %d papers; its feeds show the newest %d\n", spec.Slug, len(taken), n, min(len(taken), spec.Limit))
	for k, p := range taken {
		_, matches := router.Explain(t, p)
		mark, date := listed(k, spec.Limit, p)
		fmt.Fprintf(w, "\n%s %s  %s  %s\n", mark, p.ID, date, strings.Join(strings.Fields(p.Title), " "))
		if len(matches) == 0 {
			fmt.Fprintf(w, "    takes every paper\n")
		}
		for _, m := range matches {
			against := ""
			if m.Against {
				against = " (counts against)"
			}
			fmt.Fprintf(w, "    %s in %s%s\n", m.Term, m.Field, against)
		}
	}
	return nil
}

// listed is how -explain marks the i-th paper of a topic's feed order: "-"
// beyond the feed's limit, and its item date or "no date".
func listed(i, limit int, p *paper.Paper) (mark, date string) {
	mark, date = " ", "no date"
	if i >= limit {
		mark = "-"
	}
	if d := feed.Date(p); !d.IsZero() {
		date = d.Format(time.DateOnly)
	}
	return mark, date
}
