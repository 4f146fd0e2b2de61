// Package serve is the http.Handler over the output directory that the feed
// package writes (index.html, feeds.opml, feeds/<slug>.atom, .rss, .json).
//
// Contract:
//
//   - Nothing is read from disk per request. Reload scans the directory and
//     builds, once per new or changed file, an immutable entry: the body, a
//     gzip body (kept only when smaller), a strong ETag for each variant,
//     Last-Modified, Content-Type and every header value as a ready string.
//     The set of entries is swapped in atomically, so a request sees either
//     the old set or the new one, never a half-built one. Reload is safe to
//     call concurrently with requests and with itself.
//   - Reload skips hidden names (any path element starting with "."; the feed
//     writer's temporary files are such), symlinks and anything that is not a
//     regular file, and reads through an os.Root so nothing outside the
//     directory is ever opened.
//   - Requests are answered by an exact lookup of the cleaned URL path in that
//     set: "/" is index.html; everything else not in the set, directories
//     included, is 404. Only GET and HEAD are allowed (405 with Allow
//     otherwise).
//   - Responses carry ETag, Last-Modified, Content-Length, Content-Type,
//     Cache-Control "public, max-age=N", Vary: Accept-Encoding and
//     X-Content-Type-Options: nosniff. The gzip variant is sent when
//     Accept-Encoding allows gzip (q-values honoured, "gzip;q=0" refuses it)
//     and has its own ETag. If-None-Match (weak comparison, lists, "*") and,
//     only when it is absent, If-Modified-Since give 304 Not Modified, as
//     RFC 9110 orders them. Range requests are not supported: the whole body
//     is always sent.
//   - Over a Coalesce listener, with ConnContext as the http.Server's
//     ConnContext, a 200 answer to an HTTP/1.x GET whose body is at most 64 KB
//     (the gzip feeds) leaves in one write: status line, headers and body
//     together, where net/http alone writes its 4 KB buffer and then the
//     rest. The bytes sent are the same either way. Larger bodies, HEAD, 304,
//     errors, HTTP/2 and servers without the listener are written by net/http
//     as usual. A failed write of a held response closes the connection.
package serve

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxFileSize bounds the size of one served file when
// Options.MaxFileSize is zero. The site is a handful of feeds of at most a few
// hundred kilobytes; anything far larger is a mistake that should not be held
// in memory twice (plain and gzip).
const DefaultMaxFileSize = 32 << 20

// Options configures a Handler.
type Options struct {
	// MaxAge is the Cache-Control max-age, tied to the refresh interval by
	// the caller. It is sent in whole seconds; zero or negative sends 0.
	MaxAge time.Duration
	// MaxFileSize is the largest file Reload loads; larger files are skipped
	// and reported in Reload's error. Zero means DefaultMaxFileSize.
	MaxFileSize int64
	// Logger receives one debug line per Reload. Nil discards.
	Logger *slog.Logger
}

// Handler serves the files of one directory from memory. Create it with New.
type Handler struct {
	dir     string
	maxSize int64
	log     *slog.Logger

	cacheControl []string

	mu  sync.Mutex // serialises Reload so each builds on the last
	set atomic.Pointer[map[string]*entry]
}

// variant is one encoding of a file's bytes with its ready header values.
type variant struct {
	body   []byte
	etag   string   // quoted strong entity tag
	etagH  []string // {etag}
	length []string // {Content-Length}
}

// entry is one file as served. It is never modified once built, so requests
// may read it without locks and its header slices may be put straight into a
// response header (their cap equals their len, so an append by a wrapping
// handler copies rather than writes into them).
type entry struct {
	plain   variant
	gz      *variant // nil when gzip is not smaller
	ctype   []string
	lastMod []string
	modTime time.Time // mtime truncated to the second, for If-Modified-Since

	// size and mtime are the file's stat values, to tell a changed file.
	size  int64
	mtime time.Time
}

// Header values shared by every response; never modified.
var (
	hdrVary    = []string{"Accept-Encoding"}
	hdrNosniff = []string{"nosniff"}
	hdrGzip    = []string{"gzip"}
	hdrAllow   = []string{"GET, HEAD"}
)

// New returns a handler over dir. It serves nothing (404 for every path) until
// Reload is called.
func New(dir string, opt Options) *Handler {
	maxAge := int64(opt.MaxAge / time.Second)
	if maxAge < 0 {
		maxAge = 0
	}
	maxSize := opt.MaxFileSize
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		dir:          dir,
		maxSize:      maxSize,
		log:          log,
		cacheControl: []string{"public, max-age=" + strconv.FormatInt(maxAge, 10)},
	}
	empty := map[string]*entry{}
	h.set.Store(&empty)
	return h
}

// Reload scans the directory recursively and swaps in a new set of entries:
// unchanged files (same size and mtime) keep their entry, new or changed ones
// are read, hashed and compressed, removed ones are dropped.
//
// If the directory cannot be opened the old set stays and the error is
// returned. A file that cannot be read keeps its old entry, if it had one, and
// its error is returned joined with any others after the new set is in place;
// a file removed while the scan runs is simply gone.
func (h *Handler) Reload() error {
	h.mu.Lock()
	defer h.mu.Unlock()

	root, err := os.OpenRoot(h.dir)
	if err != nil {
		return fmt.Errorf("serve: open %s: %w", h.dir, err)
	}
	defer root.Close()
	return h.reload(root.FS())
}

// reload is Reload over any file system; Reload gives it the os.Root's, so
// every open stays inside the directory.
func (h *Handler) reload(fsys fs.FS) error {
	old := *h.set.Load()
	var c compressor
	next := make(map[string]*entry, len(old))
	var errs []error
	loaded, kept := 0, 0
	walkErr := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == "." {
				return err
			}
			errs = append(errs, fmt.Errorf("serve: scan %s: %w", name, err))
			return nil
		}
		if name == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // directories are walked; symlinks, devices, pipes skipped
		}
		key := "/" + name // fs.FS names are slash-separated
		prev := old[key]
		if prev != nil {
			// The cheap check first: an lstat, no open.
			if fi, err := d.Info(); err == nil && prev.same(fi) {
				next[key] = prev
				kept++
				return nil
			}
		}
		e, err := h.load(fsys, name, prev, &c)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			errs = append(errs, err)
			if prev != nil {
				next[key] = prev
			}
			return nil
		}
		if e == prev {
			kept++
		} else {
			loaded++
		}
		next[key] = e
		return nil
	})
	if walkErr != nil {
		return fmt.Errorf("serve: scan %s: %w", h.dir, walkErr)
	}
	if idx, ok := next["/index.html"]; ok {
		next["/"] = idx
	}
	h.set.Store(&next)
	h.log.Debug("serve reloaded", "dir", h.dir, "files", len(next), "loaded", loaded, "kept", kept)
	return errors.Join(errs...)
}

// load returns prev when the file at name still has prev's size and mtime,
// otherwise a new entry read from the file. Size and mtime come from the open
// file, so they describe exactly the bytes read.
func (h *Handler) load(fsys fs.FS, name string, prev *entry, c *compressor) (*entry, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("serve: open %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("serve: stat %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		// Replaced by something else between the scan and the open.
		return nil, fmt.Errorf("serve: %s: %w", name, fs.ErrNotExist)
	}
	if prev != nil && prev.same(fi) {
		return prev, nil
	}
	if fi.Size() > h.maxSize {
		return nil, fmt.Errorf("serve: %s: size %d over limit %d", name, fi.Size(), h.maxSize)
	}
	body, err := io.ReadAll(io.LimitReader(f, h.maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("serve: read %s: %w", name, err)
	}
	if int64(len(body)) > h.maxSize {
		return nil, fmt.Errorf("serve: %s: grew over limit %d while read", name, h.maxSize)
	}
	return newEntry(name, body, fi.Size(), fi.ModTime(), c)
}

// newEntry builds the immutable entry for a file's bytes.
func newEntry(name string, body []byte, size int64, mtime time.Time, c *compressor) (*entry, error) {
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	e := &entry{
		plain:   newVariant(body, `"`+tag+`"`),
		ctype:   []string{contentType(name)},
		lastMod: []string{mtime.UTC().Format(http.TimeFormat)},
		modTime: mtime.Truncate(time.Second),
		size:    size,
		mtime:   mtime,
	}
	gz, err := c.gzip(body)
	if err != nil {
		return nil, fmt.Errorf("serve: gzip %s: %w", name, err)
	}
	if len(gz) < len(body) {
		v := newVariant(gz, `"`+tag+`-gz"`)
		e.gz = &v
	}
	return e, nil
}

// same reports whether fi has the size and mtime the entry was read with.
func (e *entry) same(fi fs.FileInfo) bool {
	return e.size == fi.Size() && e.mtime.Equal(fi.ModTime())
}

func newVariant(body []byte, etag string) variant {
	return variant{
		body:   body,
		etag:   etag,
		etagH:  []string{etag},
		length: []string{strconv.Itoa(len(body))},
	}
}

// compressor reuses one gzip writer and buffer for every file of a Reload:
// a BestCompression writer carries about a megabyte of state. Compression is
// paid once per file version, so the smallest output is worth the time.
type compressor struct {
	zw  *gzip.Writer
	buf bytes.Buffer
}

func (c *compressor) gzip(b []byte) ([]byte, error) {
	c.buf.Reset()
	if c.zw == nil {
		zw, err := gzip.NewWriterLevel(&c.buf, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		c.zw = zw
	} else {
		c.zw.Reset(&c.buf)
	}
	if _, err := c.zw.Write(b); err != nil {
		return nil, err
	}
	if err := c.zw.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(c.buf.Bytes()), nil
}

// contentType names the feed formats exactly (mime's tables differ between
// systems and lack feed+json) and falls back to mime for the rest.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".atom":
		return "application/atom+xml; charset=utf-8"
	case ".rss":
		return "application/rss+xml; charset=utf-8"
	case ".json":
		return "application/feed+json; charset=utf-8"
	case ".opml":
		return "text/x-opml; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// ServeHTTP answers GET and HEAD from the current set of entries.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header()["Allow"] = hdrAllow
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	e := (*h.set.Load())[path.Clean(p)]
	if e == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}

	v := &e.plain
	if e.gz != nil && acceptsGzip(r.Header["Accept-Encoding"]) {
		v = e.gz
	}
	hdr := w.Header()
	hdr["Etag"] = v.etagH
	hdr["Cache-Control"] = h.cacheControl
	hdr["Vary"] = hdrVary
	hdr["X-Content-Type-Options"] = hdrNosniff
	hdr["Last-Modified"] = e.lastMod
	if notModified(r, v.etag, e.modTime) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr["Content-Type"] = e.ctype
	hdr["Content-Length"] = v.length
	if v != &e.plain {
		hdr["Content-Encoding"] = hdrGzip
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// A failed write means the client went away; there is no one to tell.
	if err := writeBody(w, r, v.body); err != nil {
		return
	}
}

// writeBody writes the body of a 200 response whose header is set. When the
// request came on a Coalesce conn it holds the conn, so the status line,
// headers and body leave in one write: net/http sends nothing before the
// first Write.
func writeBody(w http.ResponseWriter, r *http.Request, body []byte) error {
	var c *conn
	if len(body) <= maxHeldBody && r.ProtoMajor == 1 {
		if c = requestConn(r.Context()); c != nil && !c.hold() {
			c = nil
		}
	}
	_, err := w.Write(body)
	if c == nil {
		return err
	}
	// net/http may still buffer the end of the body: push it into the held
	// bytes, then send them. A held conn is always released.
	if err == nil {
		err = http.NewResponseController(w).Flush()
	}
	return errors.Join(err, c.release())
}

// notModified applies RFC 9110 section 13.2.2: If-None-Match when present,
// otherwise If-Modified-Since.
func notModified(r *http.Request, etag string, modTime time.Time) bool {
	if inm := r.Header["If-None-Match"]; len(inm) > 0 {
		for _, line := range inm {
			if etagMatch(line, etag) {
				return true
			}
		}
		return false
	}
	ims := r.Header["If-Modified-Since"]
	if len(ims) != 1 {
		return false // absent, or ambiguous: ignore
	}
	t, err := http.ParseTime(ims[0])
	if err != nil {
		return false // an invalid date is ignored (RFC 9110 13.1.3)
	}
	return !modTime.After(t)
}

// etagMatch reports whether the If-None-Match field value list matches etag
// (a quoted strong tag) under weak comparison: "*" matches, and W/"x" matches
// "x". A malformed list matches nothing from the malformed element on.
func etagMatch(list, etag string) bool {
	s := list
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return false
		}
		if s[0] == '*' {
			return true
		}
		s = strings.TrimPrefix(s, "W/")
		if s == "" || s[0] != '"' {
			return false
		}
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return false
		}
		if s[:end+2] == etag {
			return true
		}
		s = s[end+2:]
	}
}

// acceptsGzip reports whether the Accept-Encoding field lines allow gzip: a
// "gzip" or "x-gzip" coding, or failing those "*", with a q-value above zero.
// An element with a malformed q-value is taken as not acceptable.
func acceptsGzip(lines []string) bool {
	star := false
	for _, line := range lines {
		for line != "" {
			var elem string
			elem, line, _ = strings.Cut(line, ",")
			coding, params, _ := strings.Cut(elem, ";")
			coding = strings.TrimSpace(coding)
			switch {
			case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
				return qPositive(params)
			case coding == "*":
				star = qPositive(params)
			}
		}
	}
	return star
}

// qPositive reports whether the parameters of one Accept-Encoding element
// ("q=0.5", " q=0 ", "") give a q-value above zero. No q means 1.
func qPositive(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, val, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || q != q || q < 0 || q > 1 {
			return false
		}
		return q > 0
	}
	return true
}
