package learn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"

	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

// cachedPass is one pass over s with a Learner of NewCached given c: it
// returns the results, the Inputs, the papers taken from c and the Cache
// for the next pass, encoded and read back.
func cachedPass(t *testing.T, s *store.Store, c *Cache) (res []Result, inputs []string, fromCache, decoded int, next *Cache) {
	t.Helper()
	r, err := topic.Compile(reuseSpecs)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewCached(r, reuseTopics(), like.Options{}, c)
	if err != nil {
		t.Fatal(err)
	}
	err = s.ForEachRecord(func(id string, sum uint32, decode func() (*paper.Paper, error)) error {
		hit, err := l.AddRecord(id, sum, func() (*paper.Paper, error) {
			decoded++
			return decode()
		})
		if hit {
			fromCache++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := l.WriteCache(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, buf.Len())
	}
	if next, err = ReadCache(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	inputs = l.Inputs()
	if res, err = l.Train(); err != nil {
		t.Fatal(err)
	}
	return res, inputs, fromCache, decoded, next
}

// TestCache: a pass that takes unchanged papers from the last pass's Cache
// learns what a pass that reads every paper learns, bit for bit, and
// tokenises only the papers whose records changed.
func TestCache(t *testing.T) {
	h := upvoted()
	s := storeOf(t, h)
	fresh := func() ([]Result, []string) {
		t.Helper()
		l := learner(t, reuseSpecs, reuseTopics(), nil)
		if err := s.ForEach(l.Add); err != nil {
			t.Fatal(err)
		}
		inputs := l.Inputs()
		res, err := l.Train()
		if err != nil {
			t.Fatal(err)
		}
		return res, inputs
	}
	res, inputs, hits, _, c := cachedPass(t, s, nil)
	want, wantInputs := fresh()
	if hits != 0 || !reflect.DeepEqual(res, want) || !reflect.DeepEqual(inputs, wantInputs) {
		t.Fatalf("first pass: %d from the cache; results or inputs differ from a plain pass's", hits)
	}
	if c.Len() != len(h) {
		t.Fatalf("the cache holds %d papers, want %d", c.Len(), len(h))
	}

	// A new title, new upvotes (topic b's rules read them) and a new
	// paper: those three are read, the rest come from the cache.
	if _, err := s.Merge([]paper.Paper{
		{ID: h[7].ID, Title: h[7].Title + " and retrieval"},
		{ID: h[1].ID, Upvotes: 11},
		{ID: "2606.00009", Day: day2, Title: "Diffusion models for robot planning", Abstract: "A robot arm plans with denoising diffusion models."},
	}, day2); err != nil {
		t.Fatal(err)
	}
	res, inputs, hits, decoded, c2 := cachedPass(t, s, c)
	want, wantInputs = fresh()
	if !reflect.DeepEqual(res, want) || !reflect.DeepEqual(inputs, wantInputs) {
		t.Errorf("with the cache: results %+v\ninputs %q\nwant %+v\n%q", res, inputs, want, wantInputs)
	}
	if hits != len(h)-2 {
		t.Errorf("%d papers from the cache, want %d", hits, len(h)-2)
	}
	// Topic b has rules, which read every paper.
	if decoded != len(h)+1 {
		t.Errorf("%d papers decoded, want all %d", decoded, len(h)+1)
	}
	// The next cache has the new paper's words after the earlier ones.
	if c2.Len() != len(h)+1 || len(c2.words) <= len(c.words) || !reflect.DeepEqual(c2.words[:len(c.words)], c.words) {
		t.Errorf("the next cache: %d papers, %d words after %d", c2.Len(), len(c2.words), len(c.words))
	}
}

// TestCacheWithoutRules: with no topic with rules, a cached paper is not
// even decoded.
func TestCacheWithoutRules(t *testing.T) {
	s := storeOf(t, history())
	r, err := topic.Compile(reuseSpecs)
	if err != nil {
		t.Fatal(err)
	}
	topics := reuseTopics()[:1]
	pass := func(c *Cache) (*Cache, int, []Result) {
		l, err := NewCached(r, topics, like.Options{}, c)
		if err != nil {
			t.Fatal(err)
		}
		decoded := 0
		err = s.ForEachRecord(func(id string, sum uint32, decode func() (*paper.Paper, error)) error {
			_, err := l.AddRecord(id, sum, func() (*paper.Paper, error) { decoded++; return decode() })
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := l.WriteCache(&buf); err != nil {
			t.Fatal(err)
		}
		res, err := l.Train()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.WriteCache(&buf); err == nil {
			t.Error("WriteCache after Train worked")
		}
		next, err := ReadCache(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return next, decoded, res
	}
	c, decoded, first := pass(nil)
	if decoded != len(history()) {
		t.Fatalf("first pass decoded %d papers", decoded)
	}
	_, decoded, again := pass(c)
	if decoded != 0 || !reflect.DeepEqual(again, first) {
		t.Errorf("second pass decoded %d papers; results equal: %v", decoded, reflect.DeepEqual(again, first))
	}
}

func TestAddRecordErrors(t *testing.T) {
	r, err := topic.Compile(reuseSpecs)
	if err != nil {
		t.Fatal(err)
	}
	p := history()[0]
	decode := func() (*paper.Paper, error) { return &p, nil }
	plain := learner(t, reuseSpecs, reuseTopics(), nil)
	if _, err := plain.AddRecord(p.ID, 1, decode); err == nil {
		t.Error("AddRecord of a Learner of New worked")
	}
	if _, err := plain.WriteCache(&bytes.Buffer{}); err == nil {
		t.Error("WriteCache of a Learner of New worked")
	}
	l, err := NewCached(r, reuseTopics(), like.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddRecord("2606.99999", 1, decode); err == nil || !strings.Contains(err.Error(), `holds paper "2606.00001"`) {
		t.Errorf("a record of another paper: %v", err)
	}
	bad := errors.New("damaged")
	if _, err := l.AddRecord(p.ID, 1, func() (*paper.Paper, error) { return nil, bad }); err != bad {
		t.Errorf("decode's error: %v, want it as is", err)
	}
	if _, err := NewCached(r, reuseTopics(), like.Options{}, &Cache{words: []string{"the"}}); err == nil || !strings.Contains(err.Error(), "stop word") {
		t.Errorf("a cache of a stop word: %v", err)
	}
}

// sealed is body after the magic, with its checksum.
func sealed(body ...[]byte) []byte {
	b := []byte(cacheMagic)
	for _, p := range body {
		b = append(b, p...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func uv(xs ...uint64) []byte {
	var b []byte
	for _, x := range xs {
		b = binary.AppendUvarint(b, x)
	}
	return b
}

func TestReadCacheErrors(t *testing.T) {
	var good bytes.Buffer
	c := &Cache{words: []string{"robot"}, papers: []cached{{toks: []int32{0, -1, 0}}}, order: []string{"a"}}
	if _, err := c.WriteTo(&good); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCache(good.Bytes())
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("ReadCache of a good cache = %+v, %v", got, err)
	}
	flipped := bytes.Clone(good.Bytes())
	flipped[len(cacheMagic)+3] ^= 1
	paperHead := make([]byte, 4+32+1)
	for _, tt := range []struct {
		name, data, want string
	}{
		{"empty", "", "not a like-topics cache"},
		{"another file", "{}\n", "not a like-topics cache"},
		{"a flipped byte", string(flipped), "checksum"},
		{"cut", string(good.Bytes()[:good.Len()-3]), "checksum"},
		{"another format", string(sealed(uv(2, ModelVersion, 0, 0))), "another version"},
		{"another model", string(sealed(uv(cacheFormat, ModelVersion+1, 0, 0))), "another version"},
		{"a count past the end", string(sealed(uv(cacheFormat, ModelVersion, 1000))), "more than the"},
		{"a token out of range", string(sealed(uv(cacheFormat, ModelVersion, 1, 5), []byte("robot"), uv(1, 1), []byte("a"), paperHead, uv(1, 2))), "token 1 of 1 words"},
		{"papers out of order", string(sealed(uv(cacheFormat, ModelVersion, 0, 2, 1), []byte("b"), paperHead, uv(0, 1), []byte("a"), paperHead, uv(0))), `"a": empty, repeated or out of order`},
		{"a bad day flag", string(sealed(uv(cacheFormat, ModelVersion, 0, 1, 1), []byte("a"), append(bytes.Clone(paperHead[:36]), 7), uv(0))), "day flag 7"},
		{"bytes after the papers", string(sealed(uv(cacheFormat, ModelVersion, 0, 0, 9))), "bytes after the papers"},
		{"a stop word for a word", string(sealed(uv(cacheFormat, ModelVersion, 1, 3), []byte("the"), uv(0))), `word 0, "the", is a stop word`},
		{"cut in a paper", string(sealed(uv(cacheFormat, ModelVersion, 0, 1, 1), []byte("a"), paperHead[:10])), "cut short"},
	} {
		_, err := ReadCache([]byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
		if strings.Contains(tt.want, "version") && !errors.Is(err, ErrCacheVersion) {
			t.Errorf("%s: %v is not ErrCacheVersion", tt.name, err)
		}
	}
}

// FuzzReadCache: ReadCache never panics, and what it reads encodes to what
// it reads again.
func FuzzReadCache(f *testing.F) {
	var good bytes.Buffer
	c := &Cache{words: []string{"robot", "arm"}, papers: []cached{
		{sum: 7, toks: []int32{0, 1, -1, 1}},
		{day: day1, toks: nil},
	}, order: []string{"a", "b"}}
	if _, err := c.WriteTo(&good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ReadCache(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		again, err := ReadCache(buf.Bytes())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("read %+v, then %+v (%v)", c, again, err)
		}
	})
}
