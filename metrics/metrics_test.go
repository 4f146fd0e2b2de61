package metrics

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var fixedNow = time.Date(2026, 6, 12, 8, 30, 0, 0, time.UTC)

func newTest() *Metrics {
	m := New()
	m.now = func() time.Time { return fixedNow }
	return m
}

// scrape fetches /metrics from a real server over m and parses it with the
// client library's own text parser.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q; want the text format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// exercise calls every method once or more, with fixed values.
func exercise(m *Metrics) {
	m.SetSources([]string{"hf", "arxiv"})
	m.ObserveScrape("hf", 1200*time.Millisecond, "")
	m.ObserveScrape("arxiv", 30*time.Second, ReasonTimeout)
	m.ObserveScrape("arxiv", 200*time.Millisecond, "a reason outside the set")
	m.ScrapePapers("hf", 50, 7)
	m.ScrapePapers("arxiv", 120, 0)
	m.Refresh(42*time.Second, OutcomePartial)
	m.Topics(map[string]int{"llm": 100, "vision": 12})
	m.SetTargets([]string{"slack-ml"})
	m.Delivery("slack-ml", ResultRateLimited, 3)
	m.Delivery("slack-ml", ResultOK, 0)
	m.Publish(ResultError, 9)
	m.Publish(ResultOK, 0)
	m.PublishRequests(KindList, 1)
	m.PublishRequests(KindPut, 12)
	m.PublishUploaded(34567)
}

// value is one sample's labels and value, as text, for comparing.
func samples(f *dto.MetricFamily) []string {
	var out []string
	for _, mt := range f.GetMetric() {
		var labels []string
		for _, l := range mt.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		var v string
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			v = fmt.Sprint(mt.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			v = fmt.Sprint(mt.GetGauge().GetValue())
		case dto.MetricType_HISTOGRAM:
			h := mt.GetHistogram()
			v = fmt.Sprintf("count=%d sum=%g", h.GetSampleCount(), h.GetSampleSum())
			for _, b := range h.GetBucket() {
				v += fmt.Sprintf(" le%g=%d", b.GetUpperBound(), b.GetCumulativeCount())
			}
		}
		out = append(out, "{"+strings.Join(labels, ",")+"} "+v)
	}
	slices.Sort(out)
	return out
}

// TestGolden checks every paperfeed_ family, with its type, help, labels
// and values, against testdata/metrics.golden (go test -update rewrites it).
func TestGolden(t *testing.T) {
	m := newTest()
	exercise(m)
	families := scrape(t, m)
	var names []string
	for name := range families {
		if strings.HasPrefix(name, "paperfeed_") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		f := families[name]
		fmt.Fprintf(&b, "%s %s: %s\n", name, f.GetType(), f.GetHelp())
		for _, s := range samples(f) {
			fmt.Fprintf(&b, "\t%s\n", s)
		}
	}
	const golden = "testdata/metrics.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("/metrics differs from %s (go test -update rewrites it):\n%s", golden, b.String())
	}
}

func TestNamesAndTypes(t *testing.T) {
	m := newTest()
	exercise(m)
	families := scrape(t, m)
	tests := []struct {
		name   string
		typ    dto.MetricType
		labels []string
	}{
		{"paperfeed_scrape_duration_seconds", dto.MetricType_HISTOGRAM, []string{"source"}},
		{"paperfeed_scrape_errors_total", dto.MetricType_COUNTER, []string{"reason", "source"}},
		{"paperfeed_scrape_last_success_timestamp_seconds", dto.MetricType_GAUGE, []string{"source"}},
		{"paperfeed_scrape_papers_seen_total", dto.MetricType_COUNTER, []string{"source"}},
		{"paperfeed_scrape_papers_new_total", dto.MetricType_COUNTER, []string{"source"}},
		{"paperfeed_refresh_duration_seconds", dto.MetricType_HISTOGRAM, nil},
		{"paperfeed_refreshes_total", dto.MetricType_COUNTER, []string{"outcome"}},
		{"paperfeed_topic_items", dto.MetricType_GAUGE, []string{"topic"}},
		{"paperfeed_delivery_attempts_total", dto.MetricType_COUNTER, []string{"result", "target"}},
		{"paperfeed_delivery_queue_length", dto.MetricType_GAUGE, []string{"target"}},
		{"paperfeed_publish_attempts_total", dto.MetricType_COUNTER, []string{"result"}},
		{"paperfeed_publish_pending_files", dto.MetricType_GAUGE, nil},
		{"paperfeed_publish_last_success_timestamp_seconds", dto.MetricType_GAUGE, nil},
		{"paperfeed_publish_requests_total", dto.MetricType_COUNTER, []string{"kind"}},
		{"paperfeed_publish_uploaded_bytes_total", dto.MetricType_COUNTER, nil},
		// The Go runtime and process collectors.
		{"go_goroutines", dto.MetricType_GAUGE, nil},
		{"process_cpu_seconds_total", dto.MetricType_COUNTER, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := families[tt.name]
			if !ok {
				t.Fatalf("no family %s", tt.name)
			}
			if f.GetType() != tt.typ {
				t.Errorf("type %s; want %s", f.GetType(), tt.typ)
			}
			for _, mt := range f.GetMetric() {
				var got []string
				for _, l := range mt.GetLabel() {
					got = append(got, l.GetName())
				}
				if !slices.Equal(got, tt.labels) {
					t.Errorf("labels %q; want %q", got, tt.labels)
				}
			}
		})
	}
}

// TestLint checks the names, types, help and units against the client
// library's linter, which encodes Prometheus's naming guide.
func TestLint(t *testing.T) {
	m := newTest()
	exercise(m)
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "paperfeed_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

// find is the value of the sample of family name with the given labels,
// and whether there is one.
func find(families map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f, ok := families[name]
	if !ok {
		return 0, false
	}
next:
	for _, mt := range f.GetMetric() {
		if len(mt.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range mt.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return mt.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return mt.GetGauge().GetValue(), true
		case dto.MetricType_HISTOGRAM:
			return float64(mt.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestValues(t *testing.T) {
	m := newTest()
	exercise(m)
	families := scrape(t, m)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"paperfeed_scrape_last_success_timestamp_seconds", map[string]string{"source": "hf"}, float64(fixedNow.Unix())},
		{"paperfeed_scrape_errors_total", map[string]string{"source": "arxiv", "reason": "timeout"}, 1},
		{"paperfeed_scrape_errors_total", map[string]string{"source": "arxiv", "reason": "other"}, 1},
		{"paperfeed_scrape_errors_total", map[string]string{"source": "hf", "reason": "timeout"}, 0},
		{"paperfeed_scrape_duration_seconds", map[string]string{"source": "arxiv"}, 2},
		{"paperfeed_scrape_papers_new_total", map[string]string{"source": "hf"}, 7},
		{"paperfeed_scrape_papers_seen_total", map[string]string{"source": "arxiv"}, 120},
		{"paperfeed_refreshes_total", map[string]string{"outcome": "partial"}, 1},
		{"paperfeed_refreshes_total", map[string]string{"outcome": "ok"}, 0},
		{"paperfeed_topic_items", map[string]string{"topic": "llm"}, 100},
		{"paperfeed_delivery_attempts_total", map[string]string{"target": "slack-ml", "result": "rate_limited"}, 1},
		{"paperfeed_delivery_queue_length", map[string]string{"target": "slack-ml"}, 0},
		{"paperfeed_publish_attempts_total", map[string]string{"result": "error"}, 1},
		{"paperfeed_publish_pending_files", nil, 0},
		{"paperfeed_publish_last_success_timestamp_seconds", nil, float64(fixedNow.Unix())},
		{"paperfeed_publish_requests_total", map[string]string{"kind": "put"}, 12},
		{"paperfeed_publish_uploaded_bytes_total", nil, 34567},
	}
	for _, tt := range tests {
		got, ok := find(families, tt.name, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %g (found %t); want %g", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	// No series is left for the raw reason.
	if _, ok := find(families, "paperfeed_scrape_errors_total", map[string]string{"source": "arxiv", "reason": "a reason outside the set"}); ok {
		t.Error("a reason outside the set has its own series")
	}
}

// TestRemovedFromConfig checks that a topic, source or target no longer
// configured leaves the metrics, and the others stay.
func TestRemovedFromConfig(t *testing.T) {
	m := newTest()
	exercise(m)
	m.Topics(map[string]int{"llm": 99})
	m.SetSources([]string{"hf"})
	m.SetTargets(nil)
	families := scrape(t, m)
	gone := []struct {
		name   string
		labels map[string]string
	}{
		{"paperfeed_topic_items", map[string]string{"topic": "vision"}},
		{"paperfeed_scrape_duration_seconds", map[string]string{"source": "arxiv"}},
		{"paperfeed_scrape_errors_total", map[string]string{"source": "arxiv", "reason": "timeout"}},
		{"paperfeed_scrape_papers_seen_total", map[string]string{"source": "arxiv"}},
		{"paperfeed_delivery_queue_length", map[string]string{"target": "slack-ml"}},
		{"paperfeed_delivery_attempts_total", map[string]string{"target": "slack-ml", "result": "ok"}},
	}
	for _, g := range gone {
		if v, ok := find(families, g.name, g.labels); ok {
			t.Errorf("%s%v = %g; want it gone", g.name, g.labels, v)
		}
	}
	if v, ok := find(families, "paperfeed_topic_items", map[string]string{"topic": "llm"}); !ok || v != 99 {
		t.Errorf("llm items = %g (found %t); want 99", v, ok)
	}
	if v, ok := find(families, "paperfeed_scrape_papers_new_total", map[string]string{"source": "hf"}); !ok || v != 7 {
		t.Errorf("hf new papers = %g (found %t); want 7, kept", v, ok)
	}
}

func TestMiddleware(t *testing.T) {
	m := newTest()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/feeds/llm.atom" || r.URL.Path == "/" {
			io.WriteString(w, "ok")
			return
		}
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(m.Middleware(Route, mux))
	defer srv.Close()
	for _, p := range []string{"/", "/feeds/llm.atom", "/feeds/llm.atom", "/healthz", "/wp-login.php", "/feeds/a/b/c.txt"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	families := scrape(t, m)
	tests := []struct {
		route, code string
		want        float64
	}{
		{"index", "200", 1},
		{"feed", "200", 2},
		{"healthz", "503", 1},
		{"other", "404", 2},
	}
	for _, tt := range tests {
		got, ok := find(families, "paperfeed_http_requests_total", map[string]string{"route": tt.route, "code": tt.code})
		if !ok || got != tt.want {
			t.Errorf("requests{route=%s,code=%s} = %g (found %t); want %g", tt.route, tt.code, got, ok, tt.want)
		}
	}
	if n := len(families["paperfeed_http_requests_total"].GetMetric()); n != len(tests) {
		t.Errorf("%d request series; want %d (no series per path)", n, len(tests))
	}
}

func TestRoute(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/", RouteIndex},
		{"/index.html", RouteIndex},
		{"/feeds.opml", RouteOPML},
		{"/feeds/llm.atom", RouteFeed},
		{"/feeds/llm.rss", RouteFeed},
		{"/feeds/llm.json", RouteFeed},
		{"/feeds/llm.atom.gz", Other},
		{"/feeds/", Other},
		{"/healthz", RouteHealthz},
		{"/metrics", RouteMetrics},
		{"/llm.atom", Other},
		{"/favicon.ico", Other},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, tt.path, nil)
		if got := Route(r); got != tt.want {
			t.Errorf("Route(%s) = %q; want %q", tt.path, got, tt.want)
		}
	}
}

// TestRegistryOwn checks that two Metrics do not share values.
func TestRegistryOwn(t *testing.T) {
	a, b := newTest(), newTest()
	a.Refresh(time.Second, OutcomeOK)
	if v, _ := find(scrape(t, b), "paperfeed_refreshes_total", map[string]string{"outcome": "ok"}); v != 0 {
		t.Errorf("b's refreshes = %g after a's refresh; want 0", v)
	}
}
