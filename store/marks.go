package store

// Delivery marks: what each delivery target (a Slack channel, a webhook, an
// e-mail address...) was given, is owed, and since when it takes each topic,
// so that a paper reaches a target at most once, whatever happens to the
// process, the config or the paper afterwards.
//
// # Format
//
// Bucket "marks" holds one bucket per target, named by the target's name.
// It is created by the first SaveMarks, so a file written before marks
// existed opens, migrates and verifies as before, and a release that knows
// nothing of marks ignores the bucket (Open checks only the buckets of its
// format). A target's bucket holds:
//
//   - bucket "since": topic slug -> when the target first took the topic;
//   - bucket "queue": paper ID -> a paper owed to the target (its topic,
//     when it was queued, whether it came as backlog);
//   - bucket "done": paper ID -> when the target accepted the paper, or
//     refused it for good, and why;
//   - key "digest": when the target's last digest was due.
//
// Every value is a JSON object with "v", the mark version (1), and "at", a
// time in UTC; queue values add "topic" and "backlog", done values "failed"
// (empty when the target accepted the paper). Readers ignore fields they do
// not know, as for papers. Marks are never pruned with the papers: a paper
// dropped from the history and scraped again later is still not sent twice
// (a done mark is about 60 bytes of file).
//
// SaveMarks writes one bbolt transaction, fsync'd before it returns, like
// SaveState, and leaves Gen alone: marks are not the history, and the site
// need not be read again for them.

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketMarks = []byte("marks")
	marksSince  = []byte("since")
	marksQueue  = []byte("queue")
	marksDone   = []byte("done")
	keyDigest   = []byte("digest")
)

// markVersion is the "v" of every mark this program writes.
const markVersion = 1

// Mark is what became of one paper at one target: accepted, or refused for
// good.
type Mark struct {
	// At is when the target accepted the paper or refused it.
	At time.Time
	// Failed is why the target refused the paper for good, one line
	// without secrets; empty when it accepted it.
	Failed string
}

// Pending is a paper owed to a target.
type Pending struct {
	Topic string    // the topic it is delivered under
	At    time.Time // when it was queued
	// Backlog is true for one of a topic's newest papers queued when the
	// target first took the topic, whatever its FirstSeen.
	Backlog bool
}

// TargetMarks is what the history keeps of one delivery target.
type TargetMarks struct {
	// Since is, by topic slug, when the target first took the topic.
	Since map[string]time.Time
	// Digest is when the target's last digest was due; zero for none.
	Digest time.Time
	// Pending is every paper owed to the target, by paper ID.
	Pending map[string]Pending
	// Done holds the marks of the IDs Marks was asked about that the
	// target was given (accepted or refused for good).
	Done map[string]Mark
}

// MarkUpdate is one write of a target's marks, applied in the order of its
// fields.
type MarkUpdate struct {
	// Forget deletes the Since of these topics (the target no longer
	// takes them), so that taking one again starts afresh.
	Forget []string
	// Since records when the target first took each topic; a topic that
	// has a Since keeps it.
	Since map[string]time.Time
	// Digest, when not zero, replaces the time of the last digest.
	Digest time.Time
	// Done marks papers as given and takes them off the queue. A paper
	// already marked keeps its first mark.
	Done map[string]Mark
	// Drop takes papers off the queue without marking them.
	Drop []string
	// Pending queues papers. A paper already marked done is never queued
	// again, and one already queued keeps its entry.
	Pending map[string]Pending
}

func (u *MarkUpdate) empty() bool {
	return len(u.Forget) == 0 && len(u.Since) == 0 && u.Digest.IsZero() &&
		len(u.Done) == 0 && len(u.Drop) == 0 && len(u.Pending) == 0
}

// markValue is the stored form of every mark.
type markValue struct {
	V       int       `json:"v"`
	At      time.Time `json:"at"`
	Topic   string    `json:"topic,omitempty"`
	Backlog bool      `json:"backlog,omitempty"`
	Failed  string    `json:"failed,omitempty"`
}

func encodeMark(m markValue) ([]byte, error) {
	m.V = markVersion
	m.At = m.At.UTC().Round(0)
	v, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode mark: %w", err)
	}
	return v, nil
}

// Marks returns what the history keeps of target: the Since of its topics,
// its last digest, every paper queued for it, and the done marks of ids
// (only of those: the done marks of a target grow with every paper it was
// given, and a caller asks about the papers it is about to offer). A target
// with no marks has empty maps. It reads in one transaction.
func (s *Store) Marks(target string, ids ...string) (TargetMarks, error) {
	m := TargetMarks{Since: map[string]time.Time{}, Pending: map[string]Pending{}, Done: map[string]Mark{}}
	err := s.view(func(tx *bolt.Tx) error {
		b, err := s.targetBucket(tx, target)
		if b == nil || err != nil {
			return err
		}
		if v := b.Get(keyDigest); v != nil {
			mv, err := s.decodeMark(target, "digest", v)
			if err != nil {
				return err
			}
			m.Digest = mv.At
		}
		since, err := s.marksPart(b, target, marksSince)
		if err != nil {
			return err
		}
		if since != nil {
			err := since.ForEach(func(k, v []byte) error {
				mv, err := s.decodeMark(target, "since "+string(k), v)
				m.Since[string(k)] = mv.At
				return err
			})
			if err != nil {
				return err
			}
		}
		queue, err := s.marksPart(b, target, marksQueue)
		if err != nil {
			return err
		}
		if queue != nil {
			err := queue.ForEach(func(k, v []byte) error {
				mv, err := s.decodeMark(target, "queued paper "+string(k), v)
				m.Pending[string(k)] = Pending{Topic: mv.Topic, At: mv.At, Backlog: mv.Backlog}
				return err
			})
			if err != nil {
				return err
			}
		}
		done, err := s.marksPart(b, target, marksDone)
		if err != nil || done == nil {
			return err
		}
		for _, id := range ids {
			if id == "" {
				continue
			}
			v := done.Get([]byte(id))
			if v == nil {
				continue
			}
			mv, err := s.decodeMark(target, "done paper "+id, v)
			if err != nil {
				return err
			}
			m.Done[id] = Mark{At: mv.At, Failed: mv.Failed}
		}
		return nil
	})
	if err != nil {
		return TargetMarks{}, fmt.Errorf("marks of %s: %w", target, err)
	}
	return m, nil
}

// targetBucket is target's bucket of marks, or nil when it has none.
func (s *Store) targetBucket(tx *bolt.Tx, target string) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketMarks)
	if root == nil || target == "" {
		return nil, nil
	}
	b := root.Bucket([]byte(target))
	if b == nil && root.Get([]byte(target)) != nil {
		return nil, s.damaged("marks of %q are a value, not a bucket", target)
	}
	return b, nil
}

// marksPart is the named bucket inside a target's bucket, or nil.
func (s *Store) marksPart(b *bolt.Bucket, target string, name []byte) (*bolt.Bucket, error) {
	p := b.Bucket(name)
	if p == nil && b.Get(name) != nil {
		return nil, s.damaged("marks of %q: %q is a value, not a bucket", target, name)
	}
	return p, nil
}

func (s *Store) decodeMark(target, what string, v []byte) (markValue, error) {
	var mv markValue
	if v == nil {
		return mv, s.damaged("marks of %q: %s is a bucket, not a mark", target, what)
	}
	if err := json.Unmarshal(v, &mv); err != nil {
		return mv, s.damaged("marks of %q: %s: %w", target, what, err)
	}
	return mv, nil
}

// errMarkKey is returned (wrapped) by SaveMarks for a target name, topic or
// paper ID that cannot be a key: empty, or longer than bbolt's keys.
var errMarkKey = errors.New("cannot be stored: empty or too long")

// SaveMarks applies u to target's marks in one transaction (see
// MarkUpdate), fsync'd before it returns; a failed write changes nothing.
// It does not change Gen.
func (s *Store) SaveMarks(target string, u MarkUpdate) error {
	if s.readOnly {
		return fmt.Errorf("save marks of %s: store %s: %w", target, s.path, ErrReadOnly)
	}
	if err := checkMarkKeys(target, &u); err != nil {
		return fmt.Errorf("save marks of %s: %w", target, err)
	}
	if u.empty() {
		return nil
	}
	// Values are encoded before the transaction, so that it only writes.
	since, err := encodeTimes(u.Since)
	if err != nil {
		return fmt.Errorf("save marks of %s: %w", target, err)
	}
	var digest []byte
	if !u.Digest.IsZero() {
		if digest, err = encodeMark(markValue{At: u.Digest}); err != nil {
			return fmt.Errorf("save marks of %s: %w", target, err)
		}
	}
	done := make(map[string][]byte, len(u.Done))
	for id, m := range u.Done {
		if done[id], err = encodeMark(markValue{At: m.At, Failed: m.Failed}); err != nil {
			return fmt.Errorf("save marks of %s: paper %s: %w", target, id, err)
		}
	}
	pending := make(map[string][]byte, len(u.Pending))
	for id, p := range u.Pending {
		if pending[id], err = encodeMark(markValue{At: p.At, Topic: p.Topic, Backlog: p.Backlog}); err != nil {
			return fmt.Errorf("save marks of %s: paper %s: %w", target, id, err)
		}
	}

	s.wmu.Lock()
	defer s.wmu.Unlock()
	err = guard(s.path, func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			root, err := tx.CreateBucketIfNotExists(bucketMarks)
			if err != nil {
				return fmt.Errorf("bucket %q: %w", bucketMarks, err)
			}
			b, err := root.CreateBucketIfNotExists([]byte(target))
			if err != nil {
				return fmt.Errorf("bucket of %q: %w", target, err)
			}
			parts := map[string]*bolt.Bucket{}
			for _, name := range [][]byte{marksSince, marksQueue, marksDone} {
				p, err := b.CreateBucketIfNotExists(name)
				if err != nil {
					return fmt.Errorf("bucket %q of %q: %w", name, target, err)
				}
				parts[string(name)] = p
			}
			sinceB, queueB, doneB := parts["since"], parts["queue"], parts["done"]
			for _, topic := range u.Forget {
				if err := sinceB.Delete([]byte(topic)); err != nil {
					return fmt.Errorf("forget topic %q: %w", topic, err)
				}
			}
			for topic, v := range since {
				if sinceB.Get([]byte(topic)) != nil {
					continue
				}
				if err := sinceB.Put([]byte(topic), v); err != nil {
					return fmt.Errorf("since of topic %q: %w", topic, err)
				}
			}
			if digest != nil {
				if err := b.Put(keyDigest, digest); err != nil {
					return fmt.Errorf("digest: %w", err)
				}
			}
			for id, v := range done {
				if doneB.Get([]byte(id)) == nil {
					if err := doneB.Put([]byte(id), v); err != nil {
						return fmt.Errorf("mark %s: %w", id, err)
					}
				}
				if err := queueB.Delete([]byte(id)); err != nil {
					return fmt.Errorf("unqueue %s: %w", id, err)
				}
			}
			for _, id := range u.Drop {
				if err := queueB.Delete([]byte(id)); err != nil {
					return fmt.Errorf("unqueue %s: %w", id, err)
				}
			}
			for id, v := range pending {
				if doneB.Get([]byte(id)) != nil || queueB.Get([]byte(id)) != nil {
					continue
				}
				if err := queueB.Put([]byte(id), v); err != nil {
					return fmt.Errorf("queue %s: %w", id, err)
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("save marks of %s: %w", target, s.wrap(err))
	}
	return nil
}

// checkMarkKeys checks that every name and ID of u can be a key.
func checkMarkKeys(target string, u *MarkUpdate) error {
	bad := func(k string) bool { return k == "" || len(k) > bolt.MaxKeySize }
	if bad(target) {
		return fmt.Errorf("target name %w", errMarkKey)
	}
	for _, t := range u.Forget {
		if bad(t) {
			return fmt.Errorf("topic %q %w", t, errMarkKey)
		}
	}
	for t := range u.Since {
		if bad(t) {
			return fmt.Errorf("topic %q %w", t, errMarkKey)
		}
	}
	for _, list := range [][]string{keys(u.Done), u.Drop, keys(u.Pending)} {
		for _, id := range list {
			if bad(id) {
				return fmt.Errorf("paper id %q %w", clip(id), errMarkKey)
			}
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// clip shortens an over-long ID for a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func encodeTimes(in map[string]time.Time) (map[string][]byte, error) {
	out := make(map[string][]byte, len(in))
	for k, t := range in {
		v, err := encodeMark(markValue{At: t})
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}
