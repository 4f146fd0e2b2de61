// Package serve is the http.Handler over the output directory that the site
// package writes: index.html, feeds.opml and feeds/<slug>.atom, .rss, .json,
// each feed with a gzip copy <name>.gz beside it, every file written by a
// rename so a name always holds one whole version.
//
// Contract:
//
//   - Bodies stay on disk; net/http's http.ServeContent sends them from the
//     open file. Reload scans the directory and keeps only metadata per file:
//     size, mtime, Content-Type and a strong ETag, the quoted hex of the first
//     16 bytes of the SHA-256 of the file's bytes. A file that is new, or
//     whose size or mtime changed, is read once, streaming, to hash it; an
//     unchanged one keeps what the last Reload learned. The metadata is
//     swapped in whole: a request sees the old set or the new one. Reload is
//     safe to call concurrently with requests and with itself, and the site
//     writer calls it after every write.
//   - The one exception: a verified .gz of at most 256 KB is held in memory,
//     as the Reload that verified it read it, up to 32 MB for the whole set
//     taken in name order (the rest stay on disk), and http.ServeContent
//     sends it from there. It is the bytes its ETag names until the next Reload, which
//     reads a changed .gz again: a .gz replaced or removed on disk since is
//     still sent as it was verified, with its own ETag, never as a mix.
//   - Reload is all or nothing. When the directory, a subdirectory or a file
//     cannot be read (out of file descriptors, no permission, an I/O
//     error), the previous set stays served in full and Reload returns the
//     error, for the caller to report (on /healthz); the next Reload tries
//     again. A name removed while the scan runs, or replaced by something
//     that is not a regular file, is simply gone. Len is the number of
//     files the current set serves: 0 until a Reload has found some, so a
//     caller can show a page of its own while the first site is written.
//   - Only regular files are served. Hidden names (any path element starting
//     with "."; the writer's temporary files are such), symlinks, directories,
//     devices and pipes are 404, and every open goes through an os.Root, so
//     nothing outside the directory is ever opened.
//   - <name>.gz is the gzip encoding of <name>, never a resource of its own:
//     it is 404 under its own name, so each resource has one URL. It is sent
//     in place of <name>, with Content-Encoding: gzip and its own ETag (the
//     hash of the .gz bytes), when Accept-Encoding allows gzip (q-values
//     honoured, "gzip;q=0" refuses it, "*" allows it) and only when Reload
//     verified that it decompresses to exactly <name>'s bytes. A .gz that is
//     stale, truncated or not gzip at all is ignored, with a warning, and
//     <name> is sent as it is.
//   - "/" is index.html; any other path is looked up exactly, after cleaning:
//     404 when Reload did not find it. Only GET and HEAD are allowed (405
//     with Allow otherwise).
//   - A request for anything not held opens the file and fstats it. While
//     its size and mtime are those Reload saw, the response carries the
//     ETag. A file replaced since the last Reload is sent as the open file
//     is, with its own Last-Modified and no ETag, so one version's tag is
//     never sent with another's bytes; a .gz on disk replaced since is not
//     sent at all (<name> is).
//     A file removed since is 404. One that cannot be opened as a file now
//     (out of descriptors, no permission, a directory or a pipe in its
//     place) is 503 with Retry-After: the server's trouble, for a while,
//     not the resource's. The bodies of 404, 405 and 503 are fixed: no path
//     and no error text reaches the client.
//   - http.ServeContent answers If-None-Match (weak comparison) before
//     If-Modified-Since, with 304, and HEAD, Range and If-Range. Responses
//     carry Content-Type, Last-Modified, Cache-Control "public, max-age=N",
//     Vary: Accept-Encoding and X-Content-Type-Options: nosniff.
//   - NewServer and Handler.Server give the http.Server to serve with:
//     timeouts on every phase of a connection, and at most MaxConns client
//     connections open (by default half the soft RLIMIT_NOFILE, the other
//     half left to the refresh's requests and file writes and to Reload).
//     Near the limit, new clients close the connections idle longest; at
//     it, with none idle, a new connection is closed at once rather than
//     left waiting in the listen backlog. Below it, idle connections live
//     for the server's IdleTimeout.
package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
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
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
)

// gzExt ends the name of a file's gzip copy, as nginx's gzip_static expects.
const gzExt = ".gz"

// A verified .gz of at most maxHeldFile bytes is held in memory, up to
// maxHeld bytes for the whole set, and sent from there; anything else is
// sent from disk. This is the one place the handler departs from "bodies
// stay on disk", because the gzip budget of issue 9 (at least half of
// nginx gzip_static's req/s, serve/loadtest/run.sh) is further out of reach
// without it: per gzip request of run.sh's 100 KB feed (a 15 KB .gz), the
// open through the root (two openat and a close), fstat, ServeContent's
// two seeks and its 512-byte read cost as much as the header write and
// sendfile that follow. Measured with run.sh, gzip case, ROUNDS=3, 5 s,
// builds run back to back on 2 shared cores (load average 0.2 to 11); the
// medians of all runs, the range in brackets:
//
//	                           req/s vs nginx     server CPU per request
//	.gz from disk (23 runs)    0.35x [0.25-0.46]  54 us [45-63]
//	held, net/http's copy (8)  0.37x [0.09-0.42]  48 us [43-63]
//	held, heldWriter (21)      0.45x [0.33-0.68]  37 us [31-44]
//	nginx                                         17-22 us
//
// The ratio follows the neighbours' tests more than the code (one build
// measured 0.33x and 0.68x within the hour); CPU per request is the steadier
// figure: nginx's is half of held's, and a third of from disk's. Plain and
// 304 requests do not touch this code: 0.72x and 0.50x (medians of 9 runs)
// against 0.71x and 0.56x before, at the same CPU per request (48-68 us
// and 28-38 us).
//
// A held *os.File per file instead (pread through an io.SectionReader, no
// open per request) measured 0.25-0.39x and 48-59 us: it loses sendfile and
// copies through the same per-response buffer. A handler that does nothing
// but set fixed headers and Write the body measured 0.40-0.54x and 41-45 us:
// what is left is net/http's own work (reading the request, two writes per
// response, deadlines), so no handler on net/http gets much further.
//
// Every feed's .gz fits under maxHeldFile: the largest feed of a 100-topic
// site at the default limit (100 papers) is 294 KB, whose .gz is 34 KB with
// the synthetic history and about 70 KB of real abstracts (4:1). maxHeld
// bounds the memory whatever the topic count: that site holds its 600 .gz
// in 5.2 MB (synthetic history; about 17 MB of real abstracts); 1,000
// topics would want ten times that and hold the first 32 MB of it.
const (
	maxHeldFile = 256 << 10
	maxHeld     = 32 << 20
)

// Options configures a Handler.
type Options struct {
	// MaxAge is the Cache-Control max-age, tied to the refresh interval by
	// the caller. It is sent in whole seconds; zero or negative sends 0.
	MaxAge time.Duration
	// Logger receives one debug line per Reload and a warning for each .gz
	// it ignores, and errors opening a file for a request; the server of
	// Handler.Server logs net/http's errors and the connection limit's
	// warnings to it. Nil discards.
	Logger *slog.Logger
	// MaxConns bounds the client connections Handler.Server keeps open at
	// once. Zero or less derives it from RLIMIT_NOFILE: half the soft
	// limit, leaving the other half to the refresh and to Reload.
	MaxConns int
}

// Handler serves the files of one directory. Create it with New.
type Handler struct {
	dir      string
	log      *slog.Logger
	maxConns int

	// holdFile and holdTotal are maxHeldFile and maxHeld; tests set them
	// before the first Reload.
	holdFile, holdTotal int64

	cacheControl []string

	mu  sync.Mutex // serialises Reload so each builds on the last
	cur atomic.Pointer[snapshot]
}

// snapshot is what one Reload found; never modified once stored.
type snapshot struct {
	// root is the directory, open. A Reload that finds the same directory
	// keeps it; one that finds another in its place (the directory was
	// moved) swaps in the new root and leaves the old one to its finalizer,
	// since requests that loaded the old snapshot may still open files in it.
	root   *os.Root // nil before the first Reload
	routes map[string]*route
	files  int   // files served; routes also holds "/" for index.html
	held   int64 // bytes of the .gz bodies held
}

// route is one resource: its file and the verified gzip copy, if any.
type route struct {
	plain *file
	gz    *file // nil when there is no .gz that may be sent
	// gzSeen is the .gz sibling as the last Reload saw it, verified or not,
	// so an unchanged pair is not checked again; zero when there was none.
	gzSeen stamp
	// gzBody is gz's bytes when they are held (see maxHeld), nil when gz
	// is sent from disk.
	gzBody []byte
	ctype  []string
}

// stamp tells one version of a file from another: a writer that replaces a
// file by a rename gives it a new mtime.
type stamp struct {
	size  int64
	mtime time.Time
}

func stampOf(fi fs.FileInfo) stamp {
	return stamp{size: fi.Size(), mtime: fi.ModTime()}
}

func (s stamp) same(fi fs.FileInfo) bool {
	return s.size == fi.Size() && s.mtime.Equal(fi.ModTime())
}

// file is what Reload learned of one file: never its bytes.
type file struct {
	stamp
	name   string   // slash-separated, relative to the root
	sum    digest   // of the file's bytes
	crc    uint32   // CRC-32 (IEEE) of the file's bytes, which a .gz copy is checked against
	etag   []string // {quoted hex of sum}, ready for a header
	length []string // {size}, ready for a header
}

// digest is the first half of a SHA-256: plenty to tell versions of one
// file apart, and the ETag stays short.
type digest [16]byte

func digestOf(h hash.Hash) digest {
	var d digest
	copy(d[:], h.Sum(nil))
	return d
}

func newFile(name string, fi fs.FileInfo, sum digest, crc uint32) *file {
	return &file{
		stamp:  stampOf(fi),
		name:   name,
		sum:    sum,
		crc:    crc,
		etag:   []string{`"` + hex.EncodeToString(sum[:]) + `"`},
		length: []string{strconv.FormatInt(fi.Size(), 10)},
	}
}

// Header values shared by every response; never modified. Each slice has
// cap equal to len, so an append by a wrapping handler copies.
var (
	hdrVary    = []string{"Accept-Encoding"}
	hdrNosniff = []string{"nosniff"}
	hdrGzip    = []string{"gzip"}
	hdrAllow   = []string{"GET, HEAD"}
)

// New returns a handler over dir. It serves nothing (404 for every path) until
// Reload is called.
func New(dir string, opt Options) *Handler {
	maxAge := max(int64(opt.MaxAge/time.Second), 0)
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		dir:          dir,
		log:          log,
		maxConns:     opt.MaxConns,
		holdFile:     maxHeldFile,
		holdTotal:    maxHeld,
		cacheControl: []string{"public, max-age=" + strconv.FormatInt(maxAge, 10)},
	}
	h.cur.Store(&snapshot{routes: map[string]*route{}})
	return h
}

// Reload scans the directory recursively and swaps in what it found:
// unchanged files (same size and mtime) keep their metadata, new or changed
// ones are hashed, removed ones are dropped, and every .gz is checked against
// its file again when either changed; a small one is then held in memory.
//
// Reload is all or nothing: when the directory, a subdirectory or a file
// cannot be read (out of descriptors, no permission, an I/O error), the
// previous set stays served in full and the error is returned. A file or
// directory removed while the scan runs, or replaced by something that is
// not a regular file, is simply gone.
func (h *Handler) Reload() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	root, err := h.openRoot()
	if err != nil {
		return err
	}
	return h.load(root, root.FS())
}

// Len is the number of files the current set serves, their .gz copies not
// counted: 0 before the first Reload that succeeds, and while the directory
// holds nothing to serve (before the first site is written).
func (h *Handler) Len() int {
	return h.cur.Load().files
}

// Has reports whether the current set serves the URL path.
func (h *Handler) Has(urlPath string) bool {
	if urlPath == "" || urlPath[0] != '/' {
		urlPath = "/" + urlPath
	}
	return h.cur.Load().routes[path.Clean(urlPath)] != nil
}

// openRoot opens the directory. When it is the one the current set has open,
// that root is returned and the new one closed.
func (h *Handler) openRoot() (*os.Root, error) {
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		return nil, fmt.Errorf("serve: open %s: %w", h.dir, err)
	}
	if old := h.cur.Load().root; old != nil && sameDir(old, root) {
		if err := root.Close(); err != nil {
			return nil, fmt.Errorf("serve: close %s: %w", h.dir, err)
		}
		return old, nil
	}
	return root, nil
}

// load scans fsys, the files of root, and makes what it found the current
// set. On any error the current set stays, and root is closed unless the
// current set holds it. Callers hold h.mu.
func (h *Handler) load(root *os.Root, fsys fs.FS) error {
	next, err := h.scan(fsys)
	if err != nil {
		if root != h.cur.Load().root {
			err = errors.Join(err, root.Close())
		}
		return err
	}
	next.root = root
	h.cur.Store(next)
	return nil
}

// sameDir reports whether a and b are the same directory.
func sameDir(a, b *os.Root) bool {
	fa, err := a.Stat(".")
	if err != nil {
		return false
	}
	fb, err := b.Stat(".")
	return err == nil && os.SameFile(fa, fb)
}

// scan builds the routes of fsys, reusing the current set's metadata. It
// stops at the first directory or file that cannot be read and returns its
// error, with no set.
func (h *Handler) scan(fsys fs.FS) (*snapshot, error) {
	old := h.cur.Load().routes
	type found struct {
		name string
		d    fs.DirEntry
	}
	var (
		plains []found
		gzs    = map[string]fs.DirEntry{}
	)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && name == ".":
			return fmt.Errorf("serve: scan %s: %w", h.dir, err)
		case errors.Is(err, fs.ErrNotExist):
			return nil // removed while the scan runs
		case err != nil:
			return fmt.Errorf("serve: scan %s: %w", name, err)
		case name == ".":
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case !d.Type().IsRegular():
			// Directories are walked; symlinks, devices, pipes skipped.
		case strings.HasSuffix(name, gzExt):
			gzs[name] = d
		default:
			plains = append(plains, found{name, d})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	next := &snapshot{routes: make(map[string]*route, len(plains)+1)}
	read, kept, gzipped, ignored, held := 0, 0, 0, 0, 0
	budget := h.holdTotal
	for _, p := range plains {
		name := p.name
		prev := old["/"+name]
		plain, err := h.plainFile(fsys, name, p.d, prev)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return nil, err
		}
		if prev != nil && plain == prev.plain {
			kept++
		} else {
			read++
		}
		r := &route{plain: plain, ctype: []string{ContentType(name)}}
		if d := gzs[name+gzExt]; d != nil {
			err := h.gzipFile(fsys, name+gzExt, d, r, prev, &budget)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				return nil, err
			case r.gz != nil:
				gzipped++
			default:
				ignored++
			}
			if r.gzBody != nil {
				held++
			}
		}
		next.routes["/"+name] = r
	}
	next.files = len(next.routes)
	next.held = h.holdTotal - budget
	if r := next.routes["/index.html"]; r != nil {
		next.routes["/"] = r
	}
	h.log.Debug("serve reloaded", "dir", h.dir, "files", next.files, "read", read, "kept", kept,
		"gzip", gzipped, "gzip_ignored", ignored, "gzip_held", held, "held_bytes", next.held)
	return next, nil
}

// plainFile returns prev's file when the file at name still has its size and
// mtime, otherwise new metadata read from the file.
func (h *Handler) plainFile(fsys fs.FS, name string, d fs.DirEntry, prev *route) (*file, error) {
	if prev != nil {
		// The cheap check first: an lstat, no open.
		if fi, err := d.Info(); err == nil && prev.plain.same(fi) {
			return prev.plain, nil
		}
	}
	f, fi, err := openRegular(fsys, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if prev != nil && prev.plain.same(fi) {
		return prev.plain, nil
	}
	cr := &countReader{r: f}
	sum, crc := sha256.New(), crc32.NewIEEE()
	if _, err := io.Copy(io.MultiWriter(sum, crc), cr); err != nil {
		return nil, fmt.Errorf("serve: read %s: %w", name, err)
	}
	if err := unchanged(f, fi, cr.n, name); err != nil {
		return nil, err
	}
	return newFile(name, fi, digestOf(sum), crc.Sum32()), nil
}

// gzipFile sets r.gz to the .gz at name when it decompresses to exactly
// r.plain's bytes, and r.gzSeen to its stamp either way. When neither it nor
// r.plain changed since prev, prev's verdict stands without a read.
//
// A verified .gz is held in r.gzBody when it fits: at most h.holdFile bytes
// and no more than budget, what the set may still hold, which it then
// reduces. The scan goes in name order, so the set holds the first ones
// that fit, whatever earlier Reloads held: an unchanged .gz that was held
// stays held while it fits, and one that was not is read again once it
// fits (others were removed).
func (h *Handler) gzipFile(fsys fs.FS, name string, d fs.DirEntry, r, prev *route, budget *int64) error {
	if prev != nil && prev.plain == r.plain {
		if fi, err := d.Info(); err == nil && prev.gzSeen.same(fi) {
			fits := fi.Size() <= h.holdFile && fi.Size() <= *budget
			if prev.gz == nil || prev.gzBody != nil || !fits {
				r.gz, r.gzSeen = prev.gz, prev.gzSeen
				if prev.gzBody != nil && fits {
					r.gzBody = prev.gzBody
					*budget -= fi.Size()
				}
				return nil
			}
		}
	}
	f, fi, err := openRegular(fsys, name)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := &countReader{r: f}
	raw := sha256.New()
	src := io.TeeReader(cr, raw)
	var body *bytes.Buffer
	if n := fi.Size(); n <= h.holdFile && n <= *budget {
		body = bytes.NewBuffer(make([]byte, 0, n))
		src = io.TeeReader(src, body)
	}
	ok := gunzipsTo(src, r.plain)
	if cr.err != nil {
		return fmt.Errorf("serve: read %s: %w", name, cr.err)
	}
	if !ok {
		r.gzSeen = stampOf(fi)
		h.log.Warn("gzip copy ignored: it does not decompress to its file, which is sent uncompressed",
			"file", name, "dir", h.dir)
		return nil
	}
	if err := unchanged(f, fi, cr.n, name); err != nil {
		return err
	}
	r.gz, r.gzSeen = newFile(name, fi, digestOf(raw), 0), stampOf(fi)
	if body != nil {
		// unchanged checked that body holds the whole file, as hashed.
		r.gzBody = body.Bytes()
		*budget -= int64(len(r.gzBody))
	}
	return nil
}

// gunzipsTo reports whether src is a gzip stream (one or more members, and
// nothing after them) of plain's bytes: as many, with the same CRC-32. It
// decompresses at most one byte more than plain holds, so a .gz of
// something larger costs no more.
//
// The check is the CRC-32 and the length, not the SHA-256 of the ETag:
// every refresh rewrites most feeds and their copies, and the server checks
// each copy again. Decompressing with klauspost/compress and checking the
// CRC, rather than compress/gzip and a second SHA-256 of the feed, takes a
// refresh of 100 topics (565 files changed) from 0.29 s of the server's CPU
// to 0.21 s (CPU profiles of six refreshes each). A stale copy (the feed
// rewritten by something else) has another length or CRC: two texts of one
// length share a CRC-32 by chance once in four billion.
func gunzipsTo(src io.Reader, plain *file) bool {
	zr, err := gzip.NewReader(src)
	if err != nil {
		return false
	}
	crc := crc32.NewIEEE()
	// gzip.Reader returns io.EOF (io.Copy's nil) only once each member's
	// trailer (its CRC and length) checked out and src ended.
	n, err := io.Copy(crc, io.LimitReader(zr, plain.size+1))
	return err == nil && n == plain.size && crc.Sum32() == plain.crc
}

// openRegular opens name and fstats it. A name that is no longer a regular
// file is reported as not existing.
func openRegular(fsys fs.FS, name string) (fs.File, fs.FileInfo, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("serve: open %s: %w", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("serve: stat %s: %w", name, err), f.Close())
	}
	if !fi.Mode().IsRegular() {
		// Replaced by something else between the scan and the open.
		return nil, nil, errors.Join(fmt.Errorf("serve: %s: %w", name, fs.ErrNotExist), f.Close())
	}
	return f, fi, nil
}

// unchanged checks that the n bytes just read from f are the whole file
// that fi described: a file written in place while it was read would give
// metadata that fits neither version.
func unchanged(f fs.File, fi fs.FileInfo, n int64, name string) error {
	after, err := f.Stat()
	if err != nil {
		return fmt.Errorf("serve: stat %s: %w", name, err)
	}
	if n != fi.Size() || !stampOf(fi).same(after) {
		return fmt.Errorf("serve: read %s: changed while read (%d bytes read, size %d)", name, n, fi.Size())
	}
	return nil
}

// countReader counts the bytes read and keeps the error of the reader
// beneath, so a read error is told from a gzip format error above it.
type countReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// ContentType is the Content-Type the server sends for a file name (and
// publish uploads it with): the feed formats named exactly (mime's tables
// differ between systems and lack feed+json), mime for the rest.
func ContentType(name string) string {
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

// ServeHTTP answers GET and HEAD from the files of the current site.
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
	s := h.cur.Load()
	rt := s.routes[path.Clean(p)]
	if rt == nil {
		http.NotFound(w, r)
		return
	}
	if rt.gz != nil && acceptsGzip(r.Header["Accept-Encoding"]) && h.serveGzip(w, r, s.root, rt) {
		return
	}
	f, fi, err := open(s.root, rt.plain.name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Removed since the last Reload, which will drop it.
		http.NotFound(w, r)
		return
	case err != nil:
		h.log.Warn("serve request", "file", rt.plain.name, "err", err)
		unavailable(w)
		return
	}
	defer f.Close()
	h.setHeader(w.Header(), rt)
	if rt.plain.same(fi) {
		w.Header()["Etag"] = rt.plain.etag
	}
	// Otherwise the file was replaced since Reload: its bytes go out with
	// their own Last-Modified and no ETag until the next Reload hashes them.
	http.ServeContent(w, r, rt.plain.name, fi.ModTime(), f)
}

// serveGzip sends rt's .gz and reports true, or reports false when the .gz
// on disk is gone or was replaced since Reload, which never checked the new
// one against its file. A held .gz is always sent.
func (h *Handler) serveGzip(w http.ResponseWriter, r *http.Request, root *os.Root, rt *route) bool {
	if rt.gzBody != nil {
		h.setGzipHeader(w.Header(), rt)
		http.ServeContent(heldWriter{w}, r, rt.gz.name, rt.gz.mtime, bytes.NewReader(rt.gzBody))
		return true
	}
	f, fi, err := open(root, rt.gz.name)
	if err != nil {
		return false
	}
	defer f.Close()
	if !rt.gz.same(fi) {
		return false
	}
	h.setGzipHeader(w.Header(), rt)
	http.ServeContent(w, r, rt.gz.name, fi.ModTime(), f)
	return true
}

// setGzipHeader sets the header fields of a response that sends rt's .gz.
func (h *Handler) setGzipHeader(hdr http.Header, rt *route) {
	h.setHeader(hdr, rt)
	hdr["Etag"] = rt.gz.etag
	hdr["Content-Encoding"] = hdrGzip
	// ServeContent leaves Content-Length out when Content-Encoding is set
	// (for wrappers that compress on the fly); a range sets its own.
	hdr["Content-Length"] = rt.gz.length
}

// heldWriter is the ResponseWriter a held .gz is sent through.
// http.ServeContent copies the body with io.CopyN, which reaches net/http's
// ReadFrom: for a reader that is not a file, that allocates a copy buffer of
// the body's size, up to 32 KB, for every response, and the garbage takes
// back most of what holding saves (48 us per request instead of 37, see
// maxHeld). Its ReadFrom hands the rest of the held bytes to one Write
// instead; a range that ends before the end takes the plain copy.
type heldWriter struct{ http.ResponseWriter }

func (w heldWriter) ReadFrom(src io.Reader) (int64, error) {
	if lr, ok := src.(*io.LimitedReader); ok {
		if br, ok := lr.R.(*bytes.Reader); ok && int64(br.Len()) == lr.N {
			n, err := br.WriteTo(w.ResponseWriter)
			lr.N -= n
			return n, err
		}
	}
	return io.Copy(w.ResponseWriter, src)
}

// retryAfter is the Retry-After of a 503, in seconds: by then every response
// that held a descriptor when the file could not be opened has ended (the
// server's WriteTimeout), and a site being rewritten has been reloaded.
const retryAfter = writeTimeout / time.Second

var (
	hdrRetryAfter = []string{strconv.Itoa(int(retryAfter))}
	hdrNoStore    = []string{"no-store"}
)

// unavailable answers 503 for a file of the current set that cannot be
// opened now: the error is the server's, for a while, not the resource's.
// The body is fixed, so no path or error text reaches the client.
func unavailable(w http.ResponseWriter) {
	hdr := w.Header()
	hdr["Retry-After"] = hdrRetryAfter
	hdr["Cache-Control"] = hdrNoStore
	http.Error(w, "503 service unavailable", http.StatusServiceUnavailable)
}

// setHeader sets the header fields every response to a file carries.
func (h *Handler) setHeader(hdr http.Header, rt *route) {
	hdr["Cache-Control"] = h.cacheControl
	hdr["Vary"] = hdrVary
	hdr["X-Content-Type-Options"] = hdrNosniff
	hdr["Content-Type"] = rt.ctype
}

// errNotRegular reports a file of the current set that is no longer a
// regular file on disk: replaced since Reload by a directory, a pipe or a
// device.
var errNotRegular = errors.New("not a regular file")

// open opens name in root for a request. O_NONBLOCK keeps a file replaced
// by a named pipe since Reload from blocking the request (it is then not
// regular); on regular files it changes nothing, and it spares the two fcntl
// calls os.File makes to try the poller.
func open(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, errors.Join(err, f.Close())
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, errors.Join(errNotRegular, f.Close())
	}
	return f, fi, nil
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
