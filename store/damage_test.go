package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paperfeed/paperfeed/paper"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("write %s: %v", filepath.Base(path), err)
	}
}

// boltFile writes a bbolt file the way another program might.
func boltFile(t *testing.T, path string, fill func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	if err := db.Update(fill); err != nil {
		t.Fatalf("fill bolt file: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close bolt file: %v", err)
	}
}

// realStore writes a store of n realistic papers in one Merge.
func realStore(t *testing.T, path string, n int) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mergeT(t, s, realistic(t, 0, n), t0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// rawView reads a closed store file with bbolt directly.
func rawView(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	if err := db.View(fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", filepath.Base(path), err)
	}
	return data
}

// putMeta lays out an empty store under marker (none when empty): the meta
// bucket with its counters, and the buckets of format 2, less any named in
// without.
func putMeta(marker string, without ...string) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if marker != "" {
			if err := b.Put(keyFormat, []byte(marker)); err != nil {
				return err
			}
		}
		for _, k := range [][]byte{keyCount, keyGen} {
			if slices.Contains(without, string(k)) {
				continue
			}
			if err := b.Put(k, make([]byte, 8)); err != nil {
				return err
			}
		}
		for _, name := range [][]byte{bucketPapers, bucketDays, bucketState} {
			if slices.Contains(without, string(name)) {
				continue
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	}
}

// legacyMeta lays out an empty format 1 store.
func legacyMeta(tx *bolt.Tx) error {
	b, err := tx.CreateBucket(bucketMeta)
	if err != nil {
		return err
	}
	if err := b.Put(keyFormat, []byte(legacyMarker)); err != nil {
		return err
	}
	_, err = tx.CreateBucket(bucketPapers)
	return err
}

func TestOpenRefusesDamagedAndForeignFiles(t *testing.T) {
	// freelist is the freelist page a case found; FREELIST in a wanted
	// message stands for it.
	var freelist int
	const (
		foreign = "foreign"
		damaged = "damaged"
	)
	tests := []struct {
		name  string
		make  func(t *testing.T, path string)
		kind  string
		wants string // in the message
	}{
		{"empty file", func(t *testing.T, path string) {
			writeFile(t, path, nil)
		}, damaged, "is empty (0 bytes): not a paperfeed history; if a first start was interrupted, remove it"},
		{"random bytes", func(t *testing.T, path string) {
			r := rand.New(rand.NewPCG(1, 2))
			data := make([]byte, 64<<10)
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			writeFile(t, path, data)
		}, foreign, "not a bbolt database"},
		{"short text file", func(t *testing.T, path string) {
			writeFile(t, path, []byte("papers I liked:\n2606.00467\n"))
		}, foreign, "not a bbolt database"},
		{"long text file", func(t *testing.T, path string) {
			writeFile(t, path, bytes.Repeat([]byte("a line of text in a notes file\n"), 1000))
		}, foreign, "not a bbolt database"},
		{"bbolt file of another program", func(t *testing.T, path string) {
			boltFile(t, path, func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("widgets"))
				if err != nil {
					return err
				}
				return b.Put([]byte("k"), []byte("v"))
			})
		}, foreign, `"meta" bucket`},
		{"meta bucket without marker", func(t *testing.T, path string) {
			boltFile(t, path, putMeta(""))
		}, foreign, "no format marker"},
		{"unknown format version", func(t *testing.T, path string) {
			boltFile(t, path, putMeta("paperfeed-store 99"))
		}, foreign, `format "paperfeed-store 99"`},
		{"papers bucket missing", func(t *testing.T, path string) {
			boltFile(t, path, putMeta(formatMarker, "papers"))
		}, damaged, `bucket "papers" is missing`},
		{"index bucket missing", func(t *testing.T, path string) {
			boltFile(t, path, putMeta(formatMarker, "days"))
		}, damaged, `bucket "days" is missing`},
		{"state bucket missing", func(t *testing.T, path string) {
			boltFile(t, path, putMeta(formatMarker, "state"))
		}, damaged, `bucket "state" is missing`},
		{"count missing", func(t *testing.T, path string) {
			boltFile(t, path, putMeta(formatMarker, "count"))
		}, damaged, `meta "count" is 0 bytes`},
		{"format 1 papers bucket missing", func(t *testing.T, path string) {
			boltFile(t, path, func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket(bucketMeta)
				if err != nil {
					return err
				}
				return b.Put(keyFormat, []byte(legacyMarker))
			})
		}, damaged, `bucket "papers" is missing`},
		{"format 1 junk record", func(t *testing.T, path string) {
			boltFile(t, path, legacyMeta)
			boltFile(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketPapers).Put([]byte("2606.1"), []byte("junk"))
			})
		}, damaged, `paper "2606.1"`},
		{"format 1 bucket inside papers", func(t *testing.T, path string) {
			boltFile(t, path, legacyMeta)
			boltFile(t, path, func(tx *bolt.Tx) error {
				_, err := tx.Bucket(bucketPapers).CreateBucket([]byte("2606.1"))
				return err
			})
		}, damaged, "is a bucket"},
		{"truncated store", func(t *testing.T, path string) {
			realStore(t, path, 300)
			info, err := os.Stat(path)
			if err != nil {
				t.Fatalf("stat: %v", err)
			}
			if err := os.Truncate(path, info.Size()/2); err != nil {
				t.Fatalf("truncate: %v", err)
			}
		}, damaged, "truncated"},
		{"truncated to two pages", func(t *testing.T, path string) {
			realStore(t, path, 300)
			if err := os.Truncate(path, 2*4096); err != nil {
				t.Fatalf("truncate: %v", err)
			}
		}, damaged, "truncated"},
		{"page of unknown type", func(t *testing.T, path string) {
			realStore(t, path, 300)
			var root uint64
			var pageSize int
			rawView(t, path, func(tx *bolt.Tx) error {
				root = uint64(tx.Bucket(bucketPapers).Root())
				pageSize = tx.DB().Info().PageSize
				return nil
			})
			data := readFile(t, path)
			// A page header is id (8 bytes), flags (2), count (2), overflow (4).
			binary.LittleEndian.PutUint16(data[int(root)*pageSize+8:], 0x20)
			writeFile(t, path, data)
		}, damaged, "reading it failed"},
		{"freelist page of unknown type", func(t *testing.T, path string) {
			realStore(t, path, 300)
			var pageSize int
			freelist = 0
			rawView(t, path, func(tx *bolt.Tx) error {
				pageSize = tx.DB().Info().PageSize
				for id := 2; ; id++ {
					info, err := tx.Page(id)
					if err != nil || info == nil {
						return err
					}
					if info.Type == "freelist" {
						freelist = id
					}
				}
			})
			if freelist == 0 {
				t.Fatalf("no freelist page found")
			}
			data := readFile(t, path)
			binary.LittleEndian.PutUint16(data[freelist*pageSize+8:], 0x20)
			writeFile(t, path, data)
		}, damaged, "freelist page FREELIST has page type 0x20"},
		{"freelist naming a page past the end", func(t *testing.T, path string) {
			realStore(t, path, 300)
			s := openT(t, path)
			mergeT(t, s, realistic(t, 0, 300), t0) // frees the old pages
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			var freelist, pageSize int
			rawView(t, path, func(tx *bolt.Tx) error {
				pageSize = tx.DB().Info().PageSize
				for id := 2; ; id++ {
					info, err := tx.Page(id)
					if err != nil || info == nil {
						return err
					}
					if info.Type == "freelist" {
						freelist = id
					}
				}
			})
			data := readFile(t, path)
			at := freelist * pageSize
			if freelist == 0 || binary.LittleEndian.Uint16(data[at+10:]) == 0 {
				t.Fatalf("no freelist page with entries found")
			}
			binary.LittleEndian.PutUint64(data[at+16:], 1<<40)
			writeFile(t, path, data)
		}, damaged, "lists page 1099511627776"},
		{"both meta pages damaged", func(t *testing.T, path string) {
			realStore(t, path, 10)
			data := readFile(t, path)
			// Flip a byte of each meta page after its magic and version
			// (the meta follows a 16-byte page header), so both fail
			// their checksums.
			for _, page := range []int{0, 1} {
				data[page*4096+16+24] ^= 0xff
			}
			writeFile(t, path, data)
		}, damaged, "bbolt header"},
	}
	// A reader reads no format 1 record: it refuses the file as older.
	older := map[string]bool{"format 1 junk record": true, "format 1 bucket inside papers": true}
	for _, tt := range tests {
		for _, o := range []Options{{}, {ReadOnly: true}} {
			name := tt.name + "/writer"
			if o.ReadOnly {
				name = tt.name + "/reader"
			}
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "history.db")
				tt.make(t, path)
				before := fileSum(t, path)
				s, err := OpenWith(path, o)
				if err == nil {
					s.Close()
					t.Fatalf("Open succeeded, want a %s error", tt.kind)
				}
				t.Logf("Open error: %v", err)
				kind, wants := tt.kind, []string{"left untouched", strings.ReplaceAll(tt.wants, "FREELIST", strconv.Itoa(freelist))}
				if o.ReadOnly && older[tt.name] {
					kind, wants = "older", []string{"written by an older paperfeed"}
				}
				var d *DamagedError
				switch kind {
				case foreign:
					if !errors.Is(err, ErrForeign) || errors.As(err, &d) || errors.Is(err, ErrDamaged) {
						t.Errorf("Open error = %v, want ErrForeign", err)
					}
				case damaged:
					if !errors.As(err, &d) || !errors.Is(err, ErrDamaged) || errors.Is(err, ErrForeign) {
						t.Errorf("Open error = %v (%T), want a *DamagedError", err, err)
					} else if d.Path != path {
						t.Errorf("DamagedError.Path = %q, want %q", d.Path, path)
					}
				case "older":
					if !errors.Is(err, ErrOlder) {
						t.Errorf("Open error = %v, want ErrOlder", err)
					}
				}
				msg := err.Error()
				if !strings.Contains(msg, path) {
					t.Errorf("Open error %q does not name the file", msg)
				}
				msg = strings.ReplaceAll(msg, path, "")
				for _, want := range wants {
					if !strings.Contains(msg, want) {
						t.Errorf("Open error %q does not contain %q", msg, want)
					}
				}
				if fileSum(t, path) != before {
					t.Errorf("Open changed the file it refused")
				}
				// The refused file is not held, even when bbolt panicked
				// inside bolt.Open.
				f, err := os.Open(path)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer f.Close()
				if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
					t.Errorf("file still locked after the refused Open: %v", err)
				}
			})
		}
	}
}

// TestDamagedRecordIsReportedByReads damages records of a store whose
// structure is sound. Open reads no record, so it succeeds; the first call
// that reads the record (Verify, ForEach, Get, a Merge of that paper) fails
// with a *DamagedError naming the paper, and nothing changes the file.
func TestDamagedRecordIsReportedByReads(t *testing.T) {
	damagedID := realisticID(150)
	tests := []struct {
		name  string
		make  func(t *testing.T, path string)
		id    string // the damaged key
		ahead int    // papers before it
		wants string
	}{
		{"flipped byte in a record", func(t *testing.T, path string) {
			realStore(t, path, 300)
			var value []byte
			rawView(t, path, func(tx *bolt.Tx) error {
				value = bytes.Clone(tx.Bucket(bucketPapers).Get([]byte(damagedID)))
				return nil
			})
			data := readFile(t, path)
			at := bytes.Index(data, value)
			if value == nil || at < 0 {
				t.Fatalf("record of %s not found in the file", damagedID)
			}
			data[at+len(value)/2] ^= 0x01
			writeFile(t, path, data)
		}, damagedID, 150, `paper "2601.00150": record checksum`},
		{"junk record", func(t *testing.T, path string) {
			realStore(t, path, 300)
			boltFile(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketPapers).Put([]byte(damagedID), []byte("junk"))
			})
		}, damagedID, 150, `paper "2601.00150": record of 4 bytes`},
		{"format 1 record in a format 2 store", func(t *testing.T, path string) {
			realStore(t, path, 300)
			p := realistic(t, 150, 1)[0]
			v, err := (&legacyEncoder{}).encode(&p)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			boltFile(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketPapers).Put([]byte(damagedID), v)
			})
		}, damagedID, 150, `paper "2601.00150": record is not a paper`},
		{"bucket inside papers", func(t *testing.T, path string) {
			realStore(t, path, 300)
			boltFile(t, path, func(tx *bolt.Tx) error {
				_, err := tx.Bucket(bucketPapers).CreateBucket([]byte("2601.00150x"))
				return err
			})
		}, "2601.00150x", 151, `key "2601.00150x" is a bucket`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			tt.make(t, path)
			before := fileSum(t, path)
			s := openT(t, path)
			check := func(what string, err error) {
				t.Helper()
				var d *DamagedError
				if !errors.As(err, &d) || d.Path != path {
					t.Errorf("%s = %v, want a *DamagedError of %s", what, err, filepath.Base(path))
					return
				}
				if msg := err.Error(); !strings.Contains(msg, tt.wants) || !strings.Contains(msg, "left untouched") {
					t.Errorf("%s error %q does not contain %q", what, msg, tt.wants)
				}
			}
			check("Verify", s.Verify())
			n := 0
			check("ForEach", s.ForEach(func(*paper.Paper) error {
				n++
				return nil
			}))
			if n != tt.ahead {
				t.Errorf("ForEach gave %d papers before the damaged one, want %d", n, tt.ahead)
			}
			n = 0
			check("ForEachRecord", s.ForEachRecord(func(_ string, _ uint32, decode func() (*paper.Paper, error)) error {
				if _, err := decode(); err != nil {
					return err
				}
				n++
				return nil
			}))
			if n != tt.ahead {
				t.Errorf("ForEachRecord decoded %d papers before the damaged one, want %d", n, tt.ahead)
			}
			_, err := s.Get(realisticID(1), tt.id)
			check("Get", err)
			_, err = s.Merge([]paper.Paper{{ID: realisticID(2), Upvotes: 1000}, {ID: tt.id, Upvotes: 1}}, t0.Add(48*time.Hour))
			check("Merge", err)
			// Papers elsewhere still read.
			if got, err := s.Get(realisticID(1), realisticID(299)); err != nil || len(got) != 2 {
				t.Errorf("Get of sound papers = %d papers, %v", len(got), err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if fileSum(t, path) != before {
				t.Errorf("the file changed")
			}
		})
	}
}
