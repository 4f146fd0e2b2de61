package scrape

import (
	"context"
	"errors"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/arxiv"
	"github.com/paperfeed/paperfeed/scrape/listing"
)

// closedPort is an address on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return addr
}

// localResolver makes the process resolve names through a DNS server on
// 127.0.0.1 that answers every question with NXDOMAIN, until the test ends,
// so that a lookup of a name under .invalid fails as it does on a real
// resolver without a packet leaving the machine. It reports how many
// queries the server answered.
func localResolver(t *testing.T) func() int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	var (
		mu      sync.Mutex
		queries int
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed at the end of the test
			}
			if resp := nxdomain(buf[:n]); resp != nil {
				if _, err := pc.WriteTo(resp, from); err != nil {
					return
				}
				mu.Lock()
				queries++
				mu.Unlock()
			}
		}
	}()
	addr := pc.LocalAddr().String()
	saved := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
	t.Cleanup(func() {
		net.DefaultResolver = saved
		pc.Close()
		<-done
	})
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return queries
	}
}

// nxdomain is the answer "no such name" to the DNS query q: its header
// and question, flagged as an authoritative response with RCODE 3.
func nxdomain(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	end := 12
	for end < len(q) && q[end] != 0 {
		end += int(q[end]) + 1
	}
	end += 5 // the root label, QTYPE and QCLASS
	if end > len(q) {
		return nil
	}
	resp := append([]byte(nil), q[:end]...)
	resp[2] = 0x84 | q[2]&0x79 // QR and AA, the query's opcode and RD
	resp[3] = 0x83             // RA, NXDOMAIN
	resp[4], resp[5] = 0, 1    // one question
	clear(resp[6:12])          // no answer, authority or additional records
	return resp
}

// machineDetail finds what Public must never show: IP addresses, ports,
// dial details and the words of Go's errors.
var machineDetail = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|:\d+|dial|tcp|lookup|\n|Get "|/`)

func TestPublic(t *testing.T) {
	closed := closedPort(t)
	loopSrv := newTestServer(t, redirectTo(func(r *http.Request) string { return r.URL.RequestURI() }))
	// offSrv is asked for as localhost and redirects to 127.0.0.1.
	var offSrv *testServer
	offSrv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		redirectTo(func(*http.Request) string { return offSrv.URL + "/x" })(w, r)
	})
	tests := []struct {
		name    string
		srv     http.HandlerFunc // nil: base is used as is
		base    string           // with localhost for the server's host
		opt     func(*Options)
		via     string
		want    string
		wantErr func(error) bool
	}{
		{name: "closed port", base: "http://localhost:" + portOf(closed),
			want: "cannot reach localhost: connection refused"},
		{name: "server that hangs", srv: hang, opt: func(o *Options) { o.Timeout = 50 * time.Millisecond },
			want: "localhost timed out", wantErr: isTimeout},
		{name: "503", srv: status(http.StatusServiceUnavailable),
			want: "localhost answered 503 Service Unavailable", wantErr: isStatus(503)},
		{name: "429", srv: status(http.StatusTooManyRequests, "Retry-After", "120"),
			want: "localhost rate-limited us (429)", wantErr: isStatus(429)},
		{name: "404", srv: status(http.StatusNotFound),
			want: "localhost answered 404 Not Found", wantErr: isStatus(404)},
		{name: "redirect loop", base: "http://localhost:" + portOf(loopSrv.Listener.Addr().String()),
			want: "redirect loop at localhost", wantErr: func(err error) bool { return errors.Is(err, ErrRedirectLoop) }},
		{name: "redirect off-host", base: "http://localhost:" + portOf(offSrv.Listener.Addr().String()),
			want: "redirect from localhost to another host refused", wantErr: func(err error) bool { return errors.Is(err, ErrRedirectRefused) }},
		{name: "bad json", srv: body("application/json", []byte(`[{"paper":`)),
			want: "answer from localhost is not valid JSON"},
		{name: "json of the wrong shape", srv: body("application/json", []byte(`{"error":"Invalid date"}`)),
			want: "answer from localhost is not valid JSON"},
		{name: "every entry unreadable", srv: body("application/json", []byte(`[{"paper":{"id":"2606.00001","upvotes":"12"}}]`)),
			want: "no entry of the answer from localhost could be read", wantErr: func(err error) bool { return errors.Is(err, ErrBadEntries) }},
		{name: "answer too large", srv: body("application/json", []byte(`[]`+strings.Repeat(" ", 100))), opt: func(o *Options) { o.MaxBody = 10 },
			want: "answer from localhost too large", wantErr: func(err error) bool { return errors.Is(err, ErrBodyTooLarge) }},
		{name: "robots.txt disallows", via: "html", srv: func(w http.ResponseWriter, r *http.Request) {
			serveBytes(w, "text/plain", []byte("User-agent: *\nDisallow: /\n"))
		}, want: "localhost disallows the page in robots.txt", wantErr: func(err error) bool { return errors.Is(err, ErrDisallowed) }},
		{name: "misconfigured", base: "ftp://localhost/", want: "source misconfigured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base
			if tt.srv != nil {
				srv := newTestServer(t, tt.srv)
				base = "http://localhost:" + portOf(srv.Listener.Addr().String())
			}
			opt := testOptions()
			opt.Retries = -1
			if tt.opt != nil {
				tt.opt(&opt)
			}
			_, err := HuggingFace{Name: "hf", BaseURL: base, Via: tt.via, Days: 1}.Scrape(context.Background(), sunday, opt)
			if err == nil {
				t.Fatal("Scrape: no error")
			}
			if tt.wantErr != nil && !tt.wantErr(err) {
				t.Errorf("error %v is not the one wanted: Public must not cost errors.Is/As", err)
			}
			got := Public(err)
			if got != tt.want {
				t.Errorf("Public(%q)\n = %q\nwant %q", err, got, tt.want)
			}
			if m := machineDetail.FindString(got); m != "" {
				t.Errorf("Public(%q) = %q shows %q", err, got, m)
			}
		})
	}
}

// TestPublicDNS resolves a name under .invalid through a resolver on
// 127.0.0.1 that answers NXDOMAIN, as every real resolver does for .invalid.
func TestPublicDNS(t *testing.T) {
	queries := localResolver(t)
	opt := testOptions()
	opt.Retries = -1
	_, err := HuggingFace{Name: "hf", BaseURL: "http://paperfeed-test.invalid", Days: 1}.Scrape(context.Background(), sunday, opt)
	var dns *net.DNSError
	if !errors.As(err, &dns) || !dns.IsNotFound {
		t.Fatalf("got error %v, want a *net.DNSError for a name not found", err)
	}
	if queries() == 0 {
		t.Fatal("the local resolver answered no query: the lookup went elsewhere")
	}
	if got, want := Public(err), "cannot reach paperfeed-test.invalid: DNS lookup failed"; got != want {
		t.Errorf("Public(%q) = %q, want %q", err, got, want)
	}
}

// TestPublicDetails fails the pages of Details in every way but one.
func TestPublicDetails(t *testing.T) {
	abs := readTestdata(t, absFixture) // about 2512.04392
	srv := pagesServer(t, robotsAllowing, map[string]http.HandlerFunc{
		"/abs/2512.04392": body("text/html", abs),
		"/abs/2512.00001": body("text/html", abs),
		"/abs/2512.00002": body("text/html", []byte("<html><body>down for maintenance</body></html>")),
		"/p/":             body("text/html", []byte("<html><body>nothing</body></html>")),
	})
	link := srv.URL + "/p/"
	in := []paper.Paper{
		{ID: "2512.04392"}, {ID: "2512.00001"}, {ID: "2512.00002"}, {ID: "2512.00003"},
		{ID: "url-p", Link: link}, {ID: "url-x"}, {ID: "url-y", Link: srv.URL + "/x.pdf"},
	}
	_, err := Details{ArxivURL: srv.URL}.Fetch(context.Background(), in, testOptions())
	var p *Partial
	if !errors.As(err, &p) {
		t.Fatalf("got error %v, want a *Partial", err)
	}
	wantFailed := []string{
		"url-x: no page to fetch",
		"url-y: link is a PDF, not a page",
		"2512.00001: page from 127.0.0.1 is about another paper",
		"2512.00002: page from 127.0.0.1 is not an arXiv abstract page",
		"2512.00003: 127.0.0.1 answered 404 Not Found",
		"url-p: page from 127.0.0.1 has no abstract, authors or date",
	}
	if !reflect.DeepEqual(p.Failed, wantFailed) {
		t.Errorf("Failed =\n%q\nwant\n%q", p.Failed, wantFailed)
	}
	want := "url-x: no page to fetch; url-y: link is a PDF, not a page; 2512.00001: page from 127.0.0.1 is about another paper; and 3 more"
	if got := Public(err); got != want {
		t.Errorf("Public = %q\nwant %q", got, want)
	}
}

func TestPublicOfOtherErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"a partial without its error", &Partial{Failed: []string{"a: x"}}, "a: x"},
		{"a partial lists its lines", &Partial{Failed: []string{"a: x", "b: y"}, Err: errors.New("e")}, "a: x; b: y"},
		{"a wrapped partial too", oneLine(errors.Join(errors.New("ctx"), &Partial{Failed: []string{"a: x"}, Err: errors.New("e")})), "a: x"},
		{"the same failure of three days is told once", errors.Join(
			&urlError{"https://huggingface.co/api/daily_papers?date=2026-06-14", ErrBodyTooLarge},
			&urlError{"https://huggingface.co/api/daily_papers?date=2026-06-13", ErrBodyTooLarge}),
			"answer from huggingface.co too large"},
		{"cancelled", &urlError{"https://arxiv.org/list/cs/new", context.Canceled}, "fetch from arxiv.org cancelled"},
		{"not an arXiv listing", &urlError{"https://arxiv.org/list/cs/new", errors.Join(errors.New("parse"), arxiv.ErrNotListing)}, "page from arxiv.org is not an arXiv listing"},
		{"a selector that matches nothing", &urlError{"https://lab.example.org/pubs", &listing.SelectorError{Field: "title", Selector: "h9", Err: listing.ErrNoMatch}},
			"page from lab.example.org: the title selector matches nothing"},
		{"anything else names the host only", &urlError{"https://lab.example.org:8443/pubs", errors.New("open /var/lib/x: permission denied")}, "fetch from lab.example.org failed"},
		{"without a url", errors.New("dial tcp 10.0.0.1:53: i/o"), "fetch from the source failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Public(tt.err); got != tt.want {
				t.Errorf("Public(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestPartialError(t *testing.T) {
	tests := []struct {
		name string
		p    *Partial
		want string
	}{
		{"its error on one line", &Partial{Failed: []string{"a: x"}, Err: errors.Join(errors.New("one"), errors.New("two"))}, "one; two"},
		{"without an error, its lines", &Partial{Failed: []string{"a: x", "b: y"}}, "partly failed: a: x; b: y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if tt.p.Unwrap() != tt.p.Err {
				t.Error("Unwrap is not Err")
			}
		})
	}
}

func TestRetryAfterOfErrors(t *testing.T) {
	tests := []struct {
		name   string
		srv    http.HandlerFunc
		want   time.Duration
		wantOK bool
	}{
		{"429 with seconds", status(http.StatusTooManyRequests, "Retry-After", "120"), 2 * time.Minute, true},
		{"503 with a date", status(http.StatusServiceUnavailable, "Retry-After", "Sat, 13 Jun 2026 12:01:30 GMT", "Date", "Sat, 13 Jun 2026 12:01:00 GMT"), 30 * time.Second, true},
		{"429 without Retry-After", status(http.StatusTooManyRequests), 0, false},
		{"500 with Retry-After is no rate limit", status(http.StatusInternalServerError, "Retry-After", "60"), 0, false},
		{"404", status(http.StatusNotFound), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.srv)
			opt := testOptions() // retries wait MaxWait, not the Retry-After
			_, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1}.Scrape(context.Background(), sunday, opt)
			got, ok := RetryAfter(err)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfter(%v) = %v, %v; want %v, %v", err, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	t.Run("the longest of a partial answer", func(t *testing.T) {
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Query().Get("date") {
			case "2026-06-14":
				status(http.StatusTooManyRequests, "Retry-After", "30")(w, r)
			case "2026-06-13":
				status(http.StatusServiceUnavailable, "Retry-After", "90")(w, r)
			default:
				serveBytes(w, "application/json", []byte(`[]`))
			}
		})
		_, err := HuggingFace{Name: "hf", BaseURL: srv.URL}.Scrape(context.Background(), sunday, testOptions())
		var p *Partial
		if !errors.As(err, &p) {
			t.Fatalf("got error %v, want a *Partial", err)
		}
		if got, ok := RetryAfter(err); got != 90*time.Second || !ok {
			t.Errorf("RetryAfter = %v, %v; want 1m30s, true", got, ok)
		}
	})
	if got, ok := RetryAfter(nil); got != 0 || ok {
		t.Errorf("RetryAfter(nil) = %v, %v; want 0, false", got, ok)
	}
}

// TestErrorsOneLine checks that what Scrape returns is one line whatever
// it joins: three days that cannot connect, selectors that are all wrong.
func TestErrorsOneLine(t *testing.T) {
	closed := "http://" + closedPort(t)
	_, hfErr := HuggingFace{Name: "hf", BaseURL: closed}.Scrape(context.Background(), sunday, testOptions())
	_, listErr := Listing{Name: "lab", URL: closed, Selectors: listing.Selectors{Item: "li[", Title: "::x"}}.Scrape(context.Background(), sunday, testOptions())
	_, detErr := Details{ArxivURL: closed}.Fetch(context.Background(), []paper.Paper{{ID: "url-a"}, {ID: "url-b"}}, testOptions())
	tests := []struct {
		name  string
		err   error
		check func(error) bool
		parts int
	}{
		{"three days offline", hfErr, func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }, 3},
		{"two bad selectors", listErr, func(err error) bool {
			var se *listing.SelectorError
			return errors.As(err, &se)
		}, 2},
		{"two papers without pages", detErr, func(err error) bool { return errors.Is(err, ErrNoPage) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			msg := tt.err.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error has several lines:\n%s", msg)
			}
			if n := strings.Count(msg, "; ") + 1; n != tt.parts {
				t.Errorf("error %q has %d parts, want %d", msg, n, tt.parts)
			}
			if !tt.check(tt.err) {
				t.Errorf("error %q lost what it wraps", msg)
			}
			var p *Partial
			if errors.As(tt.err, &p) {
				t.Errorf("error %q is a *Partial, but every part failed", msg)
			}
		})
	}
	if got := Public(listErr); got != "source misconfigured" {
		t.Errorf("Public(%q) = %q, want source misconfigured", listErr, got)
	}
}

// TestPartialDays fails one day of three: the papers of the others come
// with a *Partial that names the failed day.
func TestPartialDays(t *testing.T) {
	fixture := readTestdata(t, apiFixture)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("date") {
		case "2026-06-11":
			status(http.StatusServiceUnavailable)(w, r)
		default:
			serveBytes(w, "application/json", fixture)
		}
	})
	opt := testOptions()
	opt.Retries = -1
	got, err := HuggingFace{Name: "hf", BaseURL: srv.URL}.Scrape(context.Background(), time.Date(2026, 6, 12, 23, 0, 0, 0, time.UTC), opt)
	var p *Partial
	if !errors.As(err, &p) {
		t.Fatalf("got error %v, want a *Partial", err)
	}
	if want := []string{"2026-06-11: 127.0.0.1 answered 503 Service Unavailable"}; !reflect.DeepEqual(p.Failed, want) {
		t.Errorf("Failed = %q, want %q", p.Failed, want)
	}
	if len(got) != 30 {
		t.Errorf("got %d papers, want the fixture's 30", len(got))
	}
	want := "scrape hf: " + srv.URL + "/api/daily_papers?date=2026-06-11: http status 503 Service Unavailable"
	if err.Error() != want || p.Unwrap() != p.Err {
		t.Errorf("error = %q, want %q", err, want)
	}
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 {
		t.Errorf("error %v: no *HTTPError 503 inside", err)
	}
	if got := Public(err); got != p.Failed[0] {
		t.Errorf("Public = %q, want the failed line %q", got, p.Failed[0])
	}
}

// TestPartialDetails fails one page of three.
func TestPartialDetails(t *testing.T) {
	page := readTestdata(t, absFixture)
	srv := pagesServer(t, robotsAllowing, map[string]http.HandlerFunc{
		"/abs/2512.04392": body("text/html", page),
		"/abs/2512.00002": status(http.StatusNotFound),
	})
	in := []paper.Paper{{ID: "2512.04392"}, {ID: "2512.00002"}}
	got, err := Details{ArxivURL: srv.URL}.Fetch(context.Background(), in, testOptions())
	var p *Partial
	if !errors.As(err, &p) {
		t.Fatalf("got error %v, want a *Partial", err)
	}
	if want := []string{"2512.00002: 127.0.0.1 answered 404 Not Found"}; !reflect.DeepEqual(p.Failed, want) {
		t.Errorf("Failed = %q, want %q", p.Failed, want)
	}
	if got[0].Abstract == "" {
		t.Error("the page that answered gave no abstract")
	}
	// Every page failing is not partial.
	_, err = Details{Name: "ax", ArxivURL: srv.URL}.Fetch(context.Background(), in[1:], testOptions())
	if err == nil || errors.As(err, &p) || !strings.HasPrefix(err.Error(), "details ax: details of 2512.00002: ") {
		t.Errorf("got error %v, want a plain error when every page failed, naming the source", err)
	}
}

func isStatus(code int) func(error) bool {
	return func(err error) bool {
		var he *HTTPError
		return errors.As(err, &he) && he.StatusCode == code
	}
}

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		panic(err)
	}
	return port
}
