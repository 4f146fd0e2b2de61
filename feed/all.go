package feed

import (
	"fmt"
	"slices"
)

// Rendered holds one topic's three feed documents, as AppendAtom, AppendRSS
// and AppendJSON render them. A caller writing many topics keeps one
// Rendered, truncates its buffers (r.Atom = r.Atom[:0], ...) before each
// AppendAll and so reuses their memory.
type Rendered struct {
	Atom, RSS, JSON []byte
}

// AppendAll renders the topic as Atom, RSS and JSON Feed and appends each
// document to the matching buffer of r: the bytes appended are exactly those
// AppendAtom, AppendRSS and AppendJSON append. The topic is checked and its
// items cleaned and turned into content HTML once for the three documents,
// which are written straight into r's buffers (grown once when they are
// short), not copied out of scratch memory.
//
// On error r is left as given: every buffer has its length and contents of
// before the call.
func AppendAll(r *Rendered, s Site, t Topic) error {
	sc := getScratch()
	defer sc.put()
	ch, err := prepare(s, t, sc)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	size := sc.outSize()
	// JSON first: it is the only format that can fail once the topic is
	// prepared, and nothing is stored into r before it has succeeded.
	js, err := appendJSONDoc(slices.Grow(r.JSON, size), sc, ch)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	r.JSON = js
	r.Atom = appendAtomDoc(slices.Grow(r.Atom, size), sc, ch)
	r.RSS = appendRSSDoc(slices.Grow(r.RSS, size), sc, ch)
	return nil
}
