package feed

import (
	"cmp"
	"strings"

	"github.com/paperfeed/paperfeed/paper"
)

// Compare orders papers the way feeds list them: newest first by item date,
// then most upvotes, then by ID. Sort uses the same order; callers that
// select a topic's newest papers from the history sort with it.
func Compare(a, b *paper.Paper) int {
	if c := Date(b).Compare(Date(a)); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Upvotes, a.Upvotes); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
