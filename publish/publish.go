// Package publish is the publishing stage: it makes a prefix of an
// S3-compatible bucket (AWS S3, Cloudflare R2, Backblaze B2, Ceph, MinIO,
// versitygw...) hold the site the site package wrote, so a CDN in front of
// the bucket serves the readers instead of the process.
//
// # Contract
//
// Publish reconciles the local site directory with the bucket prefix, from
// scratch every time: it walks the directory, lists the prefix once and
// reads the manifest (below), then
//
//   - uploads every file whose bytes or headers differ from the object's, or
//     whose object is missing: feeds and every other file first, then
//     feeds.opml, then index.html, so a reader never finds a link to a feed
//     that is not there yet;
//   - deletes the objects under the prefix that the site no longer has (a
//     removed topic's feeds), after index.html stopped linking them.
//
// A failed request stops the Publish where it is: a later step never runs
// over an earlier one that failed, and the next Publish starts again from a
// listing, so a bucket that was down or refused the credentials for any
// number of refreshes is caught up by the first Publish that gets through,
// with nothing skipped. Status says when it last tried and succeeded, the
// last error and how many files are pending.
//
// The prefix belongs to paperfeed: every object under it that the site does
// not have is deleted. Give it a bucket or a prefix of its own, and one
// publishing process.
//
// Each object is the bytes of its local file, with the Content-Type serve
// sends for it, the Config's Cache-Control, and its SHA-256 in
// x-amz-meta-sha256. Hidden files (a name starting with "."), symlinks and
// other non-regular files are not published, nor is any <name>.gz under its
// own name: as in serve, it is an encoding of <name>, not a resource.
//
// # Gzip encoding
//
// A bucket does no content negotiation: an object is sent as it is stored,
// to every client. So there are two choices, Config.GzipEncoding:
//
//   - false (the default): every object holds the plain bytes. Any client
//     can read it; a CDN compresses on its own for clients that accept it
//     (CloudFront's "compress objects automatically", Cloudflare's default)
//     and caches each encoding. The bucket stores and sends the CDN the
//     plain size.
//   - true: each feed object holds its precompressed <name>.gz bytes under
//     the feed's own name, with Content-Encoding: gzip; no .gz objects are
//     made. Feeds are stored and sent at about a tenth of their size, to
//     the CDN and, where the CDN passes them through as they are, to every
//     reader. Feed readers and browsers send Accept-Encoding: gzip and
//     decompress transparently; a client that does not (curl without
//     --compressed, a minimal script) receives gzip bytes. A CDN that
//     recompresses (to Brotli, say) must decompress first; check your CDN's
//     rules for objects stored compressed. A .gz that does not decompress
//     to exactly <name>'s bytes (stale, truncated) is not used: <name> goes
//     up plain, as serve would send it. index.html and feeds.opml have no
//     .gz and go up plain.
//
// # Change detection
//
// A standard listing gives each object's key, size and ETag, but not its
// metadata, and an ETag is the MD5 of the bytes only on some services and
// only for some uploads (not for multipart or SSE-KMS uploads on AWS, nor on
// gateways set to checksum ETags). So Publish keeps a manifest object,
// ".paperfeed-publish.json" under the prefix: for each object it uploaded,
// the SHA-256 of its bytes, its headers, its size and the ETag the service
// answered. A file is skipped when the manifest's entry has the file's hash
// and headers and the listing shows the object with that entry's ETag and
// size, which also catches an object replaced or removed by hand. A missing
// or unreadable manifest makes every file go up once, and is written again.
// An unchanged Publish costs one list request (one per thousand objects)
// and one get of the manifest; a changed one adds a put per changed file, a
// delete per removed object and a put of the manifest.
package publish

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/serve"
)

// ManifestName is the manifest object's name under the prefix. Hidden
// local files are never published, so no site file can take its name.
const ManifestName = ".paperfeed-publish.json"

// manifestVersion is the manifest's format version; a manifest of another
// version is treated as missing.
const manifestVersion = 1

// awsEndpoint is where an empty Config.Endpoint sends requests.
const awsEndpoint = "https://s3.amazonaws.com"

// maxAttempts is how often the client tries one request: a transient
// error or 5xx is retried twice within a Publish, and a bucket that stays
// down is retried by the next Publish, so a down server costs a Publish
// seconds, not minutes of backoff.
const maxAttempts = 3

// gzExt ends the name of a file's gzip copy.
const gzExt = ".gz"

// ErrCredentials is wrapped by the errors of a Publish whose credentials
// the service refused.
var ErrCredentials = errors.New("credentials refused")

// Config says where and how to publish.
type Config struct {
	// URL is s3://bucket or s3://bucket/prefix.
	URL string
	// Endpoint is the service's URL, such as https://<account>.r2.cloudflarestorage.com
	// or http://127.0.0.1:7070; a bare host[:port] means https. Empty: AWS S3.
	Endpoint string
	// Region is the bucket's region; empty asks the service once.
	Region string
	// AccessKey and SecretKey are required; SessionToken goes with
	// temporary credentials.
	AccessKey, SecretKey, SessionToken string
	// PathStyle addresses the bucket as endpoint/bucket instead of
	// bucket.endpoint. Otherwise the client chooses: virtual-hosted on
	// AWS, path style elsewhere.
	PathStyle bool
	// GzipEncoding uploads each feed's .gz bytes with Content-Encoding:
	// gzip (see the package comment).
	GzipEncoding bool
	// CacheControl is every object's Cache-Control; empty sets none.
	CacheControl string
	// Now is the clock of Status; nil is time.Now.
	Now func() time.Time
}

// String describes the config without its secrets, so it can be logged.
func (c Config) String() string {
	return fmt.Sprintf("{URL:%s Endpoint:%s Region:%s AccessKey:%s PathStyle:%t GzipEncoding:%t CacheControl:%q}",
		c.URL, cmp.Or(c.Endpoint, awsEndpoint), c.Region, c.AccessKey, c.PathStyle, c.GzipEncoding, c.CacheControl)
}

// Publisher publishes one site directory to one bucket prefix. Its methods
// are safe for concurrent use; Publish calls run one at a time.
type Publisher struct {
	cfg      Config
	bucket   string
	prefix   string // "" or ending in "/"
	target   string // s3://bucket/prefix at endpoint, for messages
	client   *minio.Client
	requests *counter

	mu    sync.Mutex        // held for a whole Publish
	known map[string]object // the bucket as last seen, by name; nil before the first listing

	stMu sync.Mutex
	st   Status
}

// Status is the outcome of the Publishes so far, for /healthz, the index
// and metrics.
type Status struct {
	Target      string    `json:"target"` // the bucket, prefix and endpoint, never a credential
	LastAttempt time.Time `json:"last_attempt"`
	LastSuccess time.Time `json:"last_success"`
	// LastError is the last attempt's error on one line; empty when it
	// succeeded.
	LastError string `json:"last_error,omitempty"`
	// Failures counts the attempts that failed since the last success.
	Failures int `json:"failures"`
	// Pending is how many files (uploads and deletions) the bucket lacks
	// as far as the last attempt knew; 0 after a success.
	Pending int `json:"pending"`
}

// Result is what one Publish did.
type Result struct {
	Requests      Requests // HTTP requests sent, retries included
	Uploaded      int      // objects put (the manifest not counted)
	Deleted       int      // objects deleted
	UploadedBytes int64    // bytes of the objects put (the manifest not counted)
	Unchanged     int      // files the bucket already had
	Pending       int      // uploads and deletions not done when it stopped
	// Rebuilt is set when the manifest was missing or unreadable, so every
	// file went up again.
	Rebuilt bool
}

// Requests counts HTTP requests by kind.
type Requests struct {
	List, Get, Put, Delete int
	Other                  int // the bucket's region, asked once when Config.Region is empty
}

// Total is the number of requests of every kind.
func (r Requests) Total() int { return r.List + r.Get + r.Put + r.Delete + r.Other }

func (r Requests) sub(s Requests) Requests {
	return Requests{r.List - s.List, r.Get - s.Get, r.Put - s.Put, r.Delete - s.Delete, r.Other - s.Other}
}

// New checks cfg and makes a Publisher. It sends no request: a bucket
// that is down or refuses the credentials fails the first Publish, not New.
func New(cfg Config) (*Publisher, error) {
	bucket, prefix, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	endpoint, secure, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, fmt.Errorf("publish to s3://%s: an access key and a secret key are both required", bucket)
	}
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("publish: transport: %w", err)
	}
	counter := &counter{next: tr}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Secure:       secure,
		Transport:    counter,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   maxAttempts,
	})
	if err != nil {
		return nil, fmt.Errorf("publish: endpoint %q: %w", cfg.Endpoint, err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	scheme := "https://"
	if !secure {
		scheme = "http://"
	}
	p := &Publisher{
		cfg:      cfg,
		bucket:   bucket,
		prefix:   prefix,
		target:   "s3://" + bucket + "/" + prefix + " at " + scheme + endpoint,
		client:   client,
		requests: counter,
	}
	p.st.Target = p.target
	return p, nil
}

// parseURL splits s3://bucket/prefix into the bucket and a prefix that is
// empty or ends in "/".
func parseURL(raw string) (bucket, prefix string, err error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("publish: url %q: %s", raw, fmt.Sprintf(format, args...))
	}
	if raw == "" {
		return "", "", errors.New("publish: no url: want s3://bucket or s3://bucket/prefix")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", errors.New("publish: url: want s3://bucket/prefix")
	}
	raw = u.Redacted() // a password in it is never shown
	switch {
	case u.Scheme != "s3":
		return "", "", bad("want s3://bucket/prefix, not scheme %q", u.Scheme)
	case u.Host == "":
		return "", "", bad("no bucket")
	case u.User != nil, u.Port() != "", u.RawQuery != "", u.Fragment != "", u.Opaque != "":
		return "", "", bad("want only s3://bucket/prefix: no user, port, query or fragment")
	}
	if err := s3utils.CheckValidBucketNameStrict(u.Host); err != nil {
		return "", "", bad("bucket %q: %v", u.Host, err)
	}
	prefix = strings.Trim(u.Path, "/")
	for _, el := range strings.Split(prefix, "/") {
		if prefix != "" && (el == "" || el == "." || el == "..") {
			return "", "", bad("prefix %q has an empty, . or .. element", prefix)
		}
	}
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// parseEndpoint turns Config.Endpoint into the host[:port] the client
// wants and whether it is https.
func parseEndpoint(raw string) (host string, secure bool, err error) {
	raw = cmp.Or(raw, awsEndpoint)
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, errors.New("publish: endpoint: want https://host[:port]")
	}
	raw = u.Redacted() // a password in it is never shown
	if u.Host == "" {
		return "", false, fmt.Errorf("publish: endpoint %q: want https://host[:port]", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, fmt.Errorf("publish: endpoint %q: want an http or https URL, not scheme %q", raw, u.Scheme)
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
		return "", false, fmt.Errorf("publish: endpoint %q: want only a scheme, host and port (the bucket goes in the url)", raw)
	}
	return u.Host, u.Scheme == "https", nil
}

// Status is the outcome of the Publishes so far.
func (p *Publisher) Status() Status {
	p.stMu.Lock()
	defer p.stMu.Unlock()
	return p.st
}

// object is one object of the bucket as Publish knows it.
type object struct {
	SHA256          string `json:"sha256"`
	Size            int64  `json:"size"`
	ETag            string `json:"etag"`
	ContentType     string `json:"content_type"`
	CacheControl    string `json:"cache_control,omitempty"`
	ContentEncoding string `json:"content_encoding,omitempty"`
}

// same reports whether o has what f would upload.
func (o object) same(f *localFile) bool {
	return o.SHA256 == f.sum && o.Size == f.size && o.ContentType == f.contentType &&
		o.CacheControl == f.cacheControl && o.ContentEncoding == f.contentEncoding
}

// manifest is the stored form of what Publish uploaded.
type manifest struct {
	Version int               `json:"version"`
	Objects map[string]object `json:"objects"`
}

// localFile is one object the site wants.
type localFile struct {
	name            string // slash-separated, relative to the site directory and the prefix
	source          string // slash-separated name of the file whose bytes go up: name or name.gz
	sum             string // hex SHA-256 of those bytes
	size            int64
	contentType     string
	cacheControl    string
	contentEncoding string
}

// stage orders uploads: feeds and other files, then the OPML, then the
// index that links both.
func stage(name string) int {
	switch name {
	case feed.OPMLName:
		return 1
	case feed.IndexName:
		return 2
	}
	return 0
}

// Publish makes the bucket prefix hold the site in dir. It returns what it
// did, also when it fails part-way; ctx bounds the whole Publish.
func (p *Publisher) Publish(ctx context.Context, dir string) (Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	before := p.requests.load()
	res, err := p.publish(ctx, dir)
	res.Requests = p.requests.load().sub(before)
	p.record(res, err)
	if err != nil {
		return res, fmt.Errorf("publish to %s: %w", p.target, err)
	}
	return res, nil
}

func (p *Publisher) record(res Result, err error) {
	p.stMu.Lock()
	defer p.stMu.Unlock()
	now := p.cfg.Now()
	p.st.LastAttempt = now
	p.st.Pending = res.Pending
	if err != nil {
		p.st.LastError = oneLine("publish to " + p.target + ": " + err.Error())
		p.st.Failures++
		return
	}
	p.st.LastSuccess, p.st.LastError, p.st.Failures = now, "", 0
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (p *Publisher) publish(ctx context.Context, dir string) (res Result, err error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		res.Pending = p.Status().Pending
		return res, fmt.Errorf("read site: %w", err)
	}
	defer root.Close()
	fsys := root.FS()
	files, err := p.walk(fsys)
	if err != nil {
		// Nothing is known about what the site wants: keep the last count.
		res.Pending = p.Status().Pending
		return res, err
	}
	listed, err := p.list(ctx)
	if err != nil {
		res.Pending = p.pending(files)
		return res, err
	}
	m, ok, err := p.readManifest(ctx, listed)
	if err != nil {
		res.Pending = p.pending(files)
		return res, err
	}
	res.Rebuilt = !ok
	// What the bucket holds that Publish can vouch for: the manifest's
	// entries whose objects are still as uploaded.
	known := map[string]object{}
	for name, o := range m.Objects {
		if l, ok := listed[name]; ok && l.ETag == o.ETag && l.Size == o.Size {
			known[name] = o
		}
	}
	p.known = known
	dirty := !ok || len(known) != len(m.Objects)

	var uploads []*localFile
	want := map[string]bool{}
	for _, f := range files {
		want[f.name] = true
		if o, ok := known[f.name]; ok && o.same(f) {
			res.Unchanged++
			continue
		}
		uploads = append(uploads, f)
	}
	var deletes []string
	for name := range listed {
		if !want[name] && name != ManifestName {
			deletes = append(deletes, name)
		}
	}
	slices.Sort(deletes)
	res.Pending = len(uploads) + len(deletes)

	// Whatever happens below, the manifest records what was done, so a
	// Publish stopped part-way does not upload those files again.
	defer func() {
		if dirty {
			if werr := p.writeManifest(ctx); werr != nil && err != nil {
				err = fmt.Errorf("%w; then %w", err, werr) // one line
			} else if werr != nil {
				err = werr
			}
		}
	}()
	for _, f := range uploads {
		n, err := p.upload(ctx, fsys, f)
		if err != nil {
			return res, err
		}
		dirty = true
		res.Uploaded++
		res.UploadedBytes += n
		res.Pending--
	}
	for _, name := range deletes {
		if err := p.client.RemoveObject(ctx, p.bucket, p.prefix+name, minio.RemoveObjectOptions{}); err != nil {
			return res, p.requestError("delete "+name, err)
		}
		delete(p.known, name)
		dirty = true
		res.Deleted++
		res.Pending--
	}
	return res, nil
}

// pending counts the uploads and deletions files need against the bucket
// as last seen, when the bucket cannot be asked.
func (p *Publisher) pending(files []*localFile) int {
	n := 0
	want := map[string]bool{}
	for _, f := range files {
		want[f.name] = true
		if o, ok := p.known[f.name]; !ok || !o.same(f) {
			n++
		}
	}
	for name := range p.known {
		if !want[name] {
			n++
		}
	}
	return n
}

// walk lists the objects the site in fsys wants, in upload order, with the
// hash of the bytes each would upload.
func (p *Publisher) walk(fsys fs.FS) ([]*localFile, error) {
	regular := map[string]bool{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			regular[name] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read site: %w", err)
	}
	var files []*localFile
	for name := range regular {
		if strings.HasSuffix(name, gzExt) {
			continue // an encoding of its sibling, not a resource
		}
		f, err := p.localFile(fsys, name, regular[name+gzExt])
		if err != nil {
			return nil, fmt.Errorf("read site: %w", err)
		}
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b *localFile) int {
		return cmp.Or(cmp.Compare(stage(a.name), stage(b.name)), strings.Compare(a.name, b.name))
	})
	return files, nil
}

// localFile reads name, and its gzip copy when there is one and it is to
// be used, and says what would be uploaded.
func (p *Publisher) localFile(fsys fs.FS, name string, hasGz bool) (*localFile, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	f := &localFile{name: name, source: name, contentType: serve.ContentType(name), cacheControl: p.cfg.CacheControl}
	if p.cfg.GzipEncoding && hasGz {
		gz, err := fs.ReadFile(fsys, name+gzExt)
		if err != nil {
			return nil, err
		}
		if decompressesTo(gz, data) {
			f.source, f.contentEncoding, data = name+gzExt, "gzip", gz
		}
	}
	sum := sha256.Sum256(data)
	f.sum, f.size = hex.EncodeToString(sum[:]), int64(len(data))
	return f, nil
}

// decompressesTo reports whether gz is a gzip encoding of exactly plain.
func decompressesTo(gz, plain []byte) bool {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return false
	}
	got, err := io.ReadAll(io.LimitReader(zr, int64(len(plain))+1))
	return err == nil && bytes.Equal(got, plain)
}

// list lists the prefix: each object's name under it, size and ETag.
func (p *Publisher) list(ctx context.Context) (map[string]object, error) {
	listed := map[string]object{}
	for o := range p.client.ListObjectsIter(ctx, p.bucket, minio.ListObjectsOptions{Prefix: p.prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, p.requestError("list", o.Err)
		}
		listed[strings.TrimPrefix(o.Key, p.prefix)] = object{Size: o.Size, ETag: o.ETag}
	}
	return listed, nil
}

// readManifest reads the manifest when the listing has one. ok is false
// when there is none or it cannot be decoded: then it is empty.
func (p *Publisher) readManifest(ctx context.Context, listed map[string]object) (m manifest, ok bool, err error) {
	m.Objects = map[string]object{}
	if _, found := listed[ManifestName]; !found {
		return m, false, nil
	}
	obj, err := p.client.GetObject(ctx, p.bucket, p.prefix+ManifestName, minio.GetObjectOptions{})
	if err != nil {
		return m, false, p.requestError("read manifest", err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return m, false, nil
		}
		return m, false, p.requestError("read manifest", err)
	}
	var stored manifest
	if err := json.Unmarshal(data, &stored); err != nil || stored.Version != manifestVersion || stored.Objects == nil {
		return m, false, nil
	}
	return stored, true, nil
}

// writeManifest stores what p.known holds.
func (p *Publisher) writeManifest(ctx context.Context) error {
	data, err := json.MarshalIndent(manifest{Version: manifestVersion, Objects: p.known}, "", "\t")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	_, err = p.client.PutObject(ctx, p.bucket, p.prefix+ManifestName, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/json", CacheControl: "no-cache", DisableContentSha256: true, SendContentMd5: true})
	if err != nil {
		return p.requestError("write manifest", err)
	}
	return nil
}

// upload puts f's bytes, read again so the object holds exactly what is
// hashed, and records the object. It returns the bytes uploaded.
func (p *Publisher) upload(ctx context.Context, fsys fs.FS, f *localFile) (int64, error) {
	data, err := fs.ReadFile(fsys, f.source)
	if err != nil {
		return 0, fmt.Errorf("read site: %w", err)
	}
	// The site may have been rebuilt since the walk: what goes up is
	// described by what was read now.
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.sum {
		f.sum, f.size = hex.EncodeToString(sum[:]), int64(len(data))
	}
	info, err := p.client.PutObject(ctx, p.bucket, p.prefix+f.name, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:     f.contentType,
		CacheControl:    f.cacheControl,
		ContentEncoding: f.contentEncoding,
		UserMetadata:    map[string]string{"sha256": f.sum},
		// One plain PUT with Content-MD5 for integrity on every service.
		// Over http the client would otherwise stream a signed aws-chunked
		// body, and some services (versitygw 1.8.0 among them) keep
		// "aws-chunked" in the object's Content-Encoding, which readers
		// then cannot decode.
		DisableContentSha256: true,
		SendContentMd5:       true,
	})
	if err != nil {
		return 0, p.requestError("upload "+f.name, err)
	}
	p.known[f.name] = object{
		SHA256: f.sum, Size: f.size, ETag: info.ETag,
		ContentType: f.contentType, CacheControl: f.cacheControl, ContentEncoding: f.contentEncoding,
	}
	return f.size, nil
}

// credentialCodes are the error codes that refuse a request's
// credentials. Services add their own: versitygw answers an unknown access
// key with 404 XAdminUserNotFound.
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"AccessDenied":          true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"XAdminUserNotFound":    true,
}

// requestError describes a failed request on one line, saying so when the
// service refused the credentials: one of credentialCodes, or any 401 or
// 403. The client's errors never hold the secret key.
func (p *Publisher) requestError(what string, err error) error {
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "":
		return fmt.Errorf("%s: %w", what, err)
	case credentialCodes[resp.Code], resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: %w (%s: %s)", what, ErrCredentials, resp.Code, oneLine(resp.Message))
	}
	return fmt.Errorf("%s: %s: %s", what, resp.Code, oneLine(resp.Message))
}

// counter is the client's transport; it counts requests by kind.
type counter struct {
	next                           http.RoundTripper
	list, get, put, delete, others atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	switch {
	case q.Has("location"):
		c.others.Add(1)
	case r.Method == http.MethodGet && (q.Has("list-type") || q.Has("prefix")):
		c.list.Add(1)
	case r.Method == http.MethodGet:
		c.get.Add(1)
	case r.Method == http.MethodPut:
		c.put.Add(1)
	case r.Method == http.MethodDelete, r.Method == http.MethodPost && q.Has("delete"):
		c.delete.Add(1)
	default:
		c.others.Add(1)
	}
	return c.next.RoundTrip(r)
}

func (c *counter) load() Requests {
	return Requests{
		List: int(c.list.Load()), Get: int(c.get.Load()), Put: int(c.put.Load()),
		Delete: int(c.delete.Load()), Other: int(c.others.Load()),
	}
}
