package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/paperfeed/paperfeed/internal/testsrv"
	"github.com/paperfeed/paperfeed/serve"
)

const (
	testBucket = "site"
	testPrefix = "paperfeed/"
	testCache  = "public, max-age=360"
)

// env is a running gateway with a bucket, and a client of the test's own
// to look at what Publish left there.
type env struct {
	gw     *testsrv.Gateway
	client *minio.Client
	site   string // the local site directory
}

func newEnv(t *testing.T, gatewayOptions ...string) *env {
	t.Helper()
	gw := testsrv.StartVersitygw(t, gatewayOptions...)
	client, err := minio.New(strings.TrimPrefix(gw.Endpoint, "http://"), &minio.Options{
		Creds:  credentials.NewStaticV4(gw.Access, gw.Secret, ""),
		Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.MakeBucket(context.Background(), testBucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	return &env{gw: gw, client: client, site: t.TempDir()}
}

func (e *env) config(gzip bool) Config {
	return Config{
		URL:          "s3://" + testBucket + "/" + testPrefix,
		Endpoint:     e.gw.Endpoint,
		Region:       "us-east-1",
		AccessKey:    e.gw.Access,
		SecretKey:    e.gw.Secret,
		PathStyle:    true,
		GzipEncoding: gzip,
		CacheControl: testCache,
	}
}

func (e *env) publisher(t *testing.T, gzip bool) *Publisher {
	t.Helper()
	p, err := New(e.config(gzip))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// publish publishes and fails the test on an error.
func publish(t *testing.T, p *Publisher, dir string) Result {
	t.Helper()
	res, err := p.Publish(context.Background(), dir)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return res
}

// writeSite writes a site like the one the site package writes: an index
// and OPML linking each topic's three feeds, each feed with a gzip copy.
// version changes every file's content.
func writeSite(t *testing.T, dir string, version string, topics ...string) {
	t.Helper()
	var links []string
	for _, slug := range topics {
		for _, ext := range []string{"atom", "rss", "json"} {
			name := "feeds/" + slug + "." + ext
			links = append(links, name)
			// Big enough to compress, different per topic and version.
			body := strings.Repeat(fmt.Sprintf("<entry>%s %s %s</entry>\n", slug, ext, version), 50)
			writeFile(t, dir, name, []byte(body))
			writeFile(t, dir, name+".gz", gzipped(t, []byte(body)))
		}
	}
	writeFile(t, dir, "feeds.opml", []byte("<opml>"+strings.Join(links, " ")+" "+version+"</opml>"))
	writeFile(t, dir, "index.html", []byte("<html>"+strings.Join(links, " ")+" "+version+"</html>"))
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeTopic(t *testing.T, dir, slug string) {
	t.Helper()
	for _, ext := range []string{"atom", "rss", "json"} {
		for _, name := range []string{slug + "." + ext, slug + "." + ext + ".gz"} {
			if err := os.Remove(filepath.Join(dir, "feeds", name)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wantObject is what one object should be.
type wantObject struct {
	data            []byte
	contentType     string
	contentEncoding string
}

// expected is what the bucket prefix should hold for the site in dir: every
// file but the .gz copies, which in gzip mode replace their feed's bytes.
func expected(t *testing.T, dir string, gz bool) map[string]wantObject {
	t.Helper()
	want := map[string]wantObject{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".gz") || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
			return nil // hidden
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		w := wantObject{data: data, contentType: serve.ContentType(name)}
		if gzData, err := os.ReadFile(path + ".gz"); gz && err == nil {
			w.data, w.contentEncoding = gzData, "gzip"
		}
		want[name] = w
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// checkBucket checks that the prefix holds exactly want (and the manifest),
// byte for byte, with the headers, reading every object back.
func (e *env) checkBucket(t *testing.T, want map[string]wantObject) {
	t.Helper()
	ctx := context.Background()
	got := map[string]bool{}
	for o := range e.client.ListObjectsIter(ctx, testBucket, minio.ListObjectsOptions{Prefix: testPrefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list: %v", o.Err)
		}
		got[strings.TrimPrefix(o.Key, testPrefix)] = true
	}
	if !got[ManifestName] {
		t.Errorf("no manifest %s in the bucket", ManifestName)
	}
	delete(got, ManifestName)
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("bucket has %s, which the site does not", name)
		}
	}
	for name, w := range want {
		if !got[name] {
			t.Errorf("bucket lacks %s", name)
			continue
		}
		obj, err := e.client.GetObject(ctx, testBucket, testPrefix+name, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(obj)
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		info, err := obj.Stat()
		if err != nil {
			t.Fatal(err)
		}
		obj.Close()
		if !bytes.Equal(data, w.data) {
			t.Errorf("%s: object holds %d bytes that differ from the local %d", name, len(data), len(w.data))
		}
		sum := sha256.Sum256(w.data)
		for header, want := range map[string]string{
			"Content-Type":      w.contentType,
			"Cache-Control":     testCache,
			"Content-Encoding":  w.contentEncoding,
			"X-Amz-Meta-Sha256": hex.EncodeToString(sum[:]),
		} {
			if got := info.Metadata.Get(header); got != want {
				t.Errorf("%s: %s = %q; want %q", name, header, got, want)
			}
		}
	}
}

func TestFirstPublishEqualsSite(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%t", gz), func(t *testing.T) {
			e := newEnv(t)
			writeSite(t, e.site, "v1", "llm", "vision")
			p := e.publisher(t, gz)
			res := publish(t, p, e.site)
			want := expected(t, e.site, gz)
			e.checkBucket(t, want)
			var bytes int64
			for _, w := range want {
				bytes += int64(len(w.data))
			}
			if res.Uploaded != len(want) || res.UploadedBytes != bytes || res.Deleted != 0 || res.Unchanged != 0 || !res.Rebuilt || res.Pending != 0 {
				t.Errorf("result %+v; want %d uploaded, %d bytes, nothing else, rebuilt", res, len(want), bytes)
			}
			// One put per file and one for the manifest; one list.
			if r := res.Requests; r.List != 1 || r.Put != len(want)+1 || r.Get != 0 || r.Delete != 0 {
				t.Errorf("requests %+v; want 1 list, %d puts", r, len(want)+1)
			}
		})
	}
}

func TestUnchangedPublishPutsNothing(t *testing.T) {
	for _, gatewayOptions := range [][]string{nil, {"--data-integrity-etag"}} {
		// With checksum ETags, the ETag is not the MD5 of the bytes: the
		// manifest, not the ETag, says what an object holds.
		t.Run(fmt.Sprintf("gateway %q", gatewayOptions), func(t *testing.T) {
			e := newEnv(t, gatewayOptions...)
			writeSite(t, e.site, "v1", "llm", "vision")
			p := e.publisher(t, true)
			first := publish(t, p, e.site)
			res := publish(t, p, e.site)
			if r := res.Requests; r != (Requests{List: 1, Get: 1}) {
				t.Errorf("requests %+v; want one list and one get of the manifest", r)
			}
			if res.Uploaded != 0 || res.Deleted != 0 || res.Unchanged != first.Uploaded || res.Rebuilt {
				t.Errorf("result %+v; want all %d files unchanged", res, first.Uploaded)
			}
			// A new Publisher (a restarted process) knows only the bucket.
			res = publish(t, e.publisher(t, true), e.site)
			if res.Requests.Put != 0 || res.Uploaded != 0 {
				t.Errorf("new publisher: %+v; want nothing uploaded", res)
			}
		})
	}
}

func TestChangedFileOnly(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm", "vision")
	p := e.publisher(t, true)
	publish(t, p, e.site)
	body := []byte("<feed>new</feed>")
	writeFile(t, e.site, "feeds/llm.atom", body)
	writeFile(t, e.site, "feeds/llm.atom.gz", gzipped(t, body))
	res := publish(t, p, e.site)
	// The feed and the manifest.
	if res.Uploaded != 1 || res.Requests.Put != 2 || res.UploadedBytes != int64(len(gzipped(t, body))) {
		t.Errorf("result %+v; want the one changed feed uploaded", res)
	}
	e.checkBucket(t, expected(t, e.site, true))
}

// recorder records the requests a Publisher sends, in order.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Method+" "+strings.TrimPrefix(req.URL.Path, "/"+testBucket+"/"+testPrefix))
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func record(p *Publisher) *recorder {
	r := &recorder{next: p.requests.next}
	p.requests.next = r
	return r
}

func TestRemovedTopicDeletedAfterIndex(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm", "vision", "robots")
	p := e.publisher(t, false)
	publish(t, p, e.site)
	removeTopic(t, e.site, "vision")
	writeSite(t, e.site, "v2", "llm", "robots")
	rec := record(p)
	res := publish(t, p, e.site)
	if res.Deleted != 3 || res.Requests.Delete != 3 {
		t.Errorf("result %+v; want vision's three feeds deleted", res)
	}
	e.checkBucket(t, expected(t, e.site, false))
	// Feeds, then the OPML, then the index, then deletions, then the manifest.
	var order []string
	for _, s := range rec.seen {
		method, name, _ := strings.Cut(s, " ")
		switch {
		case method == http.MethodPut && name == ManifestName:
			order = append(order, "manifest")
		case method == http.MethodPut && strings.HasPrefix(name, "feeds/"):
			order = append(order, "feed")
		case method == http.MethodPut:
			order = append(order, name)
		case method == http.MethodDelete:
			order = append(order, "delete")
		}
	}
	order = slices.Compact(order)
	want := []string{"feed", "feeds.opml", "index.html", "delete", "manifest"}
	if !slices.Equal(order, want) {
		t.Errorf("order of writes %q; want %q (requests %q)", order, want, rec.seen)
	}
}

func TestOutageCaughtUp(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm", "vision")
	p := e.publisher(t, true)
	publish(t, p, e.site)
	files := len(expected(t, e.site, true))

	e.gw.Stop()
	// Two refreshes while the bucket is down: the second removes a topic
	// and adds one.
	writeSite(t, e.site, "v2", "llm", "vision")
	for i, step := range []func(){
		func() {},
		func() { removeTopic(t, e.site, "vision"); writeSite(t, e.site, "v3", "llm", "robots") },
	} {
		step()
		res, err := p.Publish(context.Background(), e.site)
		if err == nil {
			t.Fatalf("publish %d to a stopped server: no error", i+1)
		}
		for _, want := range []string{"s3://" + testBucket + "/" + testPrefix, e.gw.Endpoint, "connection refused"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("publish %d: error %q does not say %q", i+1, err, want)
			}
		}
		st := p.Status()
		if st.Failures != i+1 || st.LastError == "" || strings.Contains(st.LastError, "\n") || st.LastSuccess.After(st.LastAttempt) {
			t.Errorf("publish %d: status %+v; want %d failures and a one-line error", i+1, st, i+1)
		}
		// Every file changed since the last publish, and vision's three
		// feeds are to go in the second.
		if wantPending := []int{files, files + 3}[i]; st.Pending != wantPending || res.Pending != wantPending {
			t.Errorf("publish %d: pending %d (result %d); want %d", i+1, st.Pending, res.Pending, wantPending)
		}
	}

	e.gw.Start()
	res := publish(t, p, e.site)
	if res.Deleted != 3 || res.Pending != 0 {
		t.Errorf("result after the outage %+v; want vision deleted, nothing pending", res)
	}
	e.checkBucket(t, expected(t, e.site, true))
	st := p.Status()
	if st.Failures != 0 || st.LastError != "" || st.Pending != 0 || !st.LastSuccess.Equal(st.LastAttempt) {
		t.Errorf("status after catching up: %+v", st)
	}
}

func TestWrongCredentials(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm")
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"wrong secret", func(c *Config) { c.SecretKey = "not-the-secret-4f9a1c" }},
		{"unknown access key", func(c *Config) { c.AccessKey, c.SecretKey = "nobody", "some-secret-77d2e0" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := e.config(false)
			tt.edit(&cfg)
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Publish(context.Background(), e.site)
			if !errors.Is(err, ErrCredentials) {
				t.Fatalf("error %v; want ErrCredentials", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans lines", msg)
			}
			for _, want := range []string{"s3://" + testBucket + "/" + testPrefix, e.gw.Endpoint, "credentials refused"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			for _, secret := range []string{cfg.SecretKey, e.gw.Secret} {
				if strings.Contains(msg, secret) || strings.Contains(p.Status().LastError, secret) || strings.Contains(fmt.Sprint(cfg), secret) {
					t.Errorf("a secret shows in the error %q, the status or the config", msg)
				}
			}
		})
	}
}

// TestDownServerTimesOut publishes to a server that accepts connections
// and never answers: the context's deadline ends the Publish.
func TestDownServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	site := t.TempDir()
	writeSite(t, site, "v1", "llm")
	p, err := New(Config{URL: "s3://" + testBucket, Endpoint: "http://" + ln.Addr().String(), AccessKey: "a", SecretKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	_, err = p.Publish(ctx, site)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v; want the context's deadline", err)
	}
	if took > timeout+2*time.Second {
		t.Errorf("publish took %s with a %s deadline", took, timeout)
	}
}

func TestManifestLostOrDamaged(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, e *env)
	}{
		{"removed", func(t *testing.T, e *env) {
			if err := e.client.RemoveObject(context.Background(), testBucket, testPrefix+ManifestName, minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"not json", func(t *testing.T, e *env) { e.put(t, ManifestName, "{not json") }},
		{"another version", func(t *testing.T, e *env) { e.put(t, ManifestName, `{"version": 99, "objects": {}}`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			writeSite(t, e.site, "v1", "llm")
			p := e.publisher(t, false)
			first := publish(t, p, e.site)
			tt.damage(t, e)
			res := publish(t, p, e.site)
			if !res.Rebuilt || res.Uploaded != first.Uploaded {
				t.Errorf("result %+v; want every file uploaded again, rebuilt", res)
			}
			e.checkBucket(t, expected(t, e.site, false))
			if res := publish(t, p, e.site); res.Uploaded != 0 || res.Rebuilt {
				t.Errorf("publish after the rebuild: %+v; want nothing uploaded", res)
			}
		})
	}
}

func (e *env) put(t *testing.T, name, body string) {
	t.Helper()
	if _, err := e.client.PutObject(context.Background(), testBucket, testPrefix+name, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestObjectChangedByHand checks that an object replaced or removed behind
// paperfeed's back is put back, though the manifest says it is there.
func TestObjectChangedByHand(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm")
	p := e.publisher(t, false)
	publish(t, p, e.site)
	e.put(t, "feeds/llm.rss", "edited by hand")
	if err := e.client.RemoveObject(context.Background(), testBucket, testPrefix+"index.html", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	e.put(t, "feeds/stray.atom", "left by someone")
	res := publish(t, p, e.site)
	if res.Uploaded != 2 || res.Deleted != 1 {
		t.Errorf("result %+v; want the edited and the removed object put back, the stray one deleted", res)
	}
	e.checkBucket(t, expected(t, e.site, false))
}

func TestHeadersChange(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm")
	publish(t, e.publisher(t, false), e.site)
	want := len(expected(t, e.site, false))

	// Gzip on: the feeds go up again as gzip; index and OPML stay.
	res := publish(t, e.publisher(t, true), e.site)
	if res.Uploaded != want-2 {
		t.Errorf("gzip on: %d uploaded; want the %d feeds", res.Uploaded, want-2)
	}
	e.checkBucket(t, expected(t, e.site, true))

	// Another Cache-Control (the refresh interval changed): everything.
	cfg := e.config(true)
	cfg.CacheControl = "public, max-age=60"
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res := publish(t, p, e.site); res.Uploaded != want {
		t.Errorf("new Cache-Control: %d uploaded; want all %d", res.Uploaded, want)
	}
}

// TestStaleGzipNotUsed checks that a .gz that is not the gzip of its feed
// never reaches the bucket: the feed goes up plain, as serve would send it.
func TestStaleGzipNotUsed(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm")
	writeFile(t, e.site, "feeds/llm.rss.gz", gzipped(t, []byte("an older feed")))
	writeFile(t, e.site, "feeds/llm.json.gz", []byte("not gzip"))
	publish(t, e.publisher(t, true), e.site)
	want := expected(t, e.site, true)
	for _, name := range []string{"feeds/llm.rss", "feeds/llm.json"} {
		data, err := os.ReadFile(filepath.Join(e.site, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		want[name] = wantObject{data: data, contentType: serve.ContentType(name)}
	}
	e.checkBucket(t, want)
}

// TestNotPublished checks that hidden files and directories, symlinks and
// lone .gz files stay local.
func TestNotPublished(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm")
	writeFile(t, e.site, "feeds/.tmp-llm.atom-123", []byte("half written"))
	writeFile(t, e.site, ".cache/x.atom", []byte("hidden dir"))
	writeFile(t, e.site, "feeds/orphan.atom.gz", gzipped(t, []byte("orphan")))
	if err := os.Symlink(filepath.Join(e.site, "index.html"), filepath.Join(e.site, "link.html")); err != nil {
		t.Fatal(err)
	}
	publish(t, e.publisher(t, false), e.site)
	e.checkBucket(t, expected(t, e.site, false))
}

// TestWholeBucket publishes to a bucket without a prefix.
func TestWholeBucket(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm")
	cfg := e.config(false)
	cfg.URL = "s3://" + testBucket
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := publish(t, p, e.site)
	obj, err := e.client.StatObject(context.Background(), testBucket, "feeds/llm.atom", minio.StatObjectOptions{})
	if err != nil || res.Uploaded != 5 {
		t.Errorf("stat feeds/llm.atom: %v; result %+v", err, res)
	}
	if obj.ContentType != serve.ContentType("x.atom") {
		t.Errorf("Content-Type %q", obj.ContentType)
	}
	if res := publish(t, p, e.site); res.Uploaded != 0 || res.Deleted != 0 {
		t.Errorf("second publish %+v; want nothing done", res)
	}
}

func TestSiteMissing(t *testing.T) {
	e := newEnv(t)
	p := e.publisher(t, false)
	_, err := p.Publish(context.Background(), filepath.Join(e.site, "absent"))
	if err == nil || !strings.Contains(err.Error(), "read site") {
		t.Errorf("error %v; want it to say the site could not be read", err)
	}
	if st := p.Status(); st.Failures != 1 || !st.LastSuccess.IsZero() {
		t.Errorf("status %+v; want one failure", st)
	}
}

// TestContentTypesAsServe checks that an object's Content-Type is the one
// serve sends for the same file.
func TestContentTypesAsServe(t *testing.T) {
	site := t.TempDir()
	writeSite(t, site, "v1", "llm")
	writeFile(t, site, "style.css", []byte("body{}"))
	h := serve.New(site, serve.Options{})
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	p := &Publisher{}
	files, err := p.walk(os.DirFS(site))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Fatalf("walk found %d files; want 6", len(files))
	}
	for _, f := range files {
		resp, err := http.Get(srv.URL + "/" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Type"); got != f.contentType {
			t.Errorf("%s: serve sends Content-Type %q, publish uploads %q", f.name, got, f.contentType)
		}
	}
}

func TestNewErrors(t *testing.T) {
	const secret = "s3cr3t-d0-not-print"
	good := Config{URL: "s3://bucket/prefix", AccessKey: "key", SecretKey: secret}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no url", func(c *Config) { c.URL = "" }, "no url"},
		{"http url", func(c *Config) { c.URL = "https://bucket/prefix" }, `not scheme "https"`},
		{"no bucket", func(c *Config) { c.URL = "s3:///prefix" }, "no bucket"},
		{"bucket name", func(c *Config) { c.URL = "s3://Bad_Bucket/p" }, `bucket "Bad_Bucket"`},
		{"port", func(c *Config) { c.URL = "s3://bucket:9000/p" }, "no user, port"},
		{"query", func(c *Config) { c.URL = "s3://bucket/p?x=1" }, "no user, port, query"},
		{"dot dot", func(c *Config) { c.URL = "s3://bucket/a/../b" }, "empty, . or .. element"},
		{"empty element", func(c *Config) { c.URL = "s3://bucket/a//b" }, "empty, . or .. element"},
		{"endpoint scheme", func(c *Config) { c.Endpoint = "ftp://host" }, `not scheme "ftp"`},
		{"endpoint path", func(c *Config) { c.Endpoint = "https://host/bucket" }, "only a scheme, host and port"},
		{"password in url", func(c *Config) { c.URL = "s3://key:" + secret + "@bucket/p" }, "no user, port"},
		{"password in endpoint", func(c *Config) { c.Endpoint = "https://key:" + secret + "@host" }, "only a scheme, host and port"},
		{"no access key", func(c *Config) { c.AccessKey = "" }, "access key and a secret key are both required"},
		{"no secret key", func(c *Config) { c.SecretKey = "" }, "access key and a secret key are both required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			_, err := New(cfg)
			if err == nil {
				t.Fatalf("New(%v): no error; want %q", cfg, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want it to say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
	if _, err := New(good); err != nil {
		t.Errorf("New(good): %v", err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		url, bucket, prefix string
	}{
		{"s3://bkt", "bkt", ""},
		{"s3://bkt/", "bkt", ""},
		{"s3://bkt/p", "bkt", "p/"},
		{"s3://my.bucket-1/p/q/", "my.bucket-1", "p/q/"},
	}
	for _, tt := range tests {
		bucket, prefix, err := parseURL(tt.url)
		if err != nil || bucket != tt.bucket || prefix != tt.prefix {
			t.Errorf("parseURL(%q) = %q, %q, %v; want %q, %q", tt.url, bucket, prefix, err, tt.bucket, tt.prefix)
		}
	}
	endpoints := []struct {
		in     string
		host   string
		secure bool
	}{
		{"", "s3.amazonaws.com", true},
		{"http://127.0.0.1:7070", "127.0.0.1:7070", false},
		{"https://acct.r2.cloudflarestorage.com/", "acct.r2.cloudflarestorage.com", true},
		{"s3.eu-central-003.backblazeb2.com", "s3.eu-central-003.backblazeb2.com", true},
	}
	for _, tt := range endpoints {
		host, secure, err := parseEndpoint(tt.in)
		if err != nil || host != tt.host || secure != tt.secure {
			t.Errorf("parseEndpoint(%q) = %q, %t, %v; want %q, %t", tt.in, host, secure, err, tt.host, tt.secure)
		}
	}
}

func TestNoSuchBucket(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm")
	cfg := e.config(false)
	cfg.URL = "s3://absent-bucket/p"
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Publish(context.Background(), e.site)
	if err == nil || !strings.Contains(err.Error(), "s3://absent-bucket/p/") || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("error %v; want NoSuchBucket naming the bucket", err)
	}
	if errors.Is(err, ErrCredentials) {
		t.Errorf("error %v is ErrCredentials; the credentials are good", err)
	}
}

// TestRegionAsked checks that without a region the client asks the bucket's
// once, and the publish works.
func TestRegionAsked(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm")
	cfg := e.config(false)
	cfg.Region = ""
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res := publish(t, p, e.site); res.Requests.Other != 1 || res.Uploaded != 5 {
		t.Errorf("first publish %+v; want one region request and 5 uploads", res)
	}
	if res := publish(t, p, e.site); res.Requests != (Requests{List: 1, Get: 1}) {
		t.Errorf("second publish requests %+v; want the region remembered", res.Requests)
	}
	e.checkBucket(t, expected(t, e.site, false))
}

// TestStatusDuringPublish reads Status while Publish runs: go test -race
// finds a Status that reads what Publish writes unguarded.
func TestStatusDuringPublish(t *testing.T) {
	e := newEnv(t)
	writeSite(t, e.site, "v1", "llm", "vision")
	p := e.publisher(t, true)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
				p.Status()
			}
		}
	}()
	publish(t, p, e.site)
	close(done)
	<-stopped
	if st := p.Status(); st.LastSuccess.IsZero() || st.Pending != 0 || st.Failures != 0 {
		t.Errorf("status %+v; want a success", st)
	}
}
