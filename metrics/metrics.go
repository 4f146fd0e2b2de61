// Package metrics is paperfeed's /metrics: counters, gauges and histograms
// in the Prometheus text format, through the Prometheus client library.
//
// # Contract
//
// A Metrics holds its own registry (never the library's global one), so
// tests and several instances in one process do not share values. Its
// Handler serves that registry; its methods are what the app calls as it
// works, and are safe for concurrent use.
//
// Names follow Prometheus's naming guide: the paperfeed_ prefix, base units
// in the name (_seconds, _bytes), _total on counters, _timestamp_seconds on
// times. Every label has a bounded set of values, so the number of series
// is bounded by the config: source, topic and target come from it, and
// reason, outcome, result, kind and route from the fixed sets below; a value
// outside its set is recorded as "other". HTTP requests are labelled by
// route, never by path, and by status code. A source, topic or target
// removed from the config disappears from the metrics at the next
// SetSources, Topics or SetTargets.
//
//	paperfeed_scrape_duration_seconds{source}                histogram
//	paperfeed_scrape_errors_total{source,reason}             counter
//	paperfeed_scrape_last_success_timestamp_seconds{source}  gauge
//	paperfeed_scrape_papers_seen_total{source}               counter: papers the source listed
//	paperfeed_scrape_papers_new_total{source}                counter: of those, papers the history lacked
//	paperfeed_refresh_duration_seconds                       histogram
//	paperfeed_refreshes_total{outcome}                       counter
//	paperfeed_topic_items{topic}                             gauge: items in the topic's feeds
//	paperfeed_delivery_attempts_total{target,result}         counter
//	paperfeed_delivery_queue_length{target}                  gauge
//	paperfeed_publish_attempts_total{result}                 counter
//	paperfeed_publish_pending_files                          gauge
//	paperfeed_publish_last_success_timestamp_seconds         gauge
//	paperfeed_publish_requests_total{kind}                   counter
//	paperfeed_publish_uploaded_bytes_total                   counter
//	paperfeed_http_requests_total{route,code}                counter
//
// and the Go runtime (go_*) and process (process_*) collectors.
package metrics

import (
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "paperfeed"

// Other is the value recorded for a label value outside its set.
const Other = "other"

// Reasons a scrape failed, for paperfeed_scrape_errors_total.
const (
	ReasonTimeout    = "timeout"     // the source did not answer in time
	ReasonNetwork    = "network"     // no connection, DNS, TLS, a reset
	ReasonHTTPStatus = "http_status" // an answer other than 200
	ReasonRobots     = "robots"      // disallowed by robots.txt
	ReasonTooLarge   = "too_large"   // a body over the limit
	ReasonParse      = "parse"       // an answer that held no papers
)

var reasons = []string{ReasonTimeout, ReasonNetwork, ReasonHTTPStatus, ReasonRobots, ReasonTooLarge, ReasonParse, Other}

// Outcomes of a refresh, for paperfeed_refreshes_total.
const (
	OutcomeOK      = "ok"      // every source worked
	OutcomePartial = "partial" // some sources failed
	OutcomeFailed  = "failed"  // no source worked, or the history or site could not be written
)

var outcomes = []string{OutcomeOK, OutcomePartial, OutcomeFailed, Other}

// Results of a delivery or publish attempt.
const (
	ResultOK          = "ok"
	ResultError       = "error"
	ResultRateLimited = "rate_limited" // the target said to wait (HTTP 429)
)

var results = []string{ResultOK, ResultError, ResultRateLimited, Other}

// Kinds of requests a publish sends to the bucket.
const (
	KindList   = "list"
	KindGet    = "get"
	KindPut    = "put"
	KindDelete = "delete"
)

var kinds = []string{KindList, KindGet, KindPut, KindDelete, Other}

// Routes of the HTTP server, for paperfeed_http_requests_total.
const (
	RouteFeed    = "feed"
	RouteIndex   = "index"
	RouteOPML    = "opml"
	RouteHealthz = "healthz"
	RouteMetrics = "metrics"
)

var routes = []string{RouteFeed, RouteIndex, RouteOPML, RouteHealthz, RouteMetrics, Other}

// Buckets of the duration histograms, in seconds. A scrape is one polite
// request or a few (with delays between them); a refresh is every scrape
// and a site build.
var (
	scrapeBuckets  = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	refreshBuckets = []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}
)

// Metrics is paperfeed's metrics and the registry that holds them. Create
// it with New.
type Metrics struct {
	reg *prometheus.Registry
	now func() time.Time

	scrapeDuration    *prometheus.HistogramVec
	scrapeErrors      *prometheus.CounterVec
	scrapeLastSuccess *prometheus.GaugeVec
	papersSeen        *prometheus.CounterVec
	papersNew         *prometheus.CounterVec

	refreshDuration prometheus.Histogram
	refreshes       *prometheus.CounterVec

	topicItems *prometheus.GaugeVec

	deliveryAttempts *prometheus.CounterVec
	deliveryQueue    *prometheus.GaugeVec

	publishAttempts    *prometheus.CounterVec
	publishPending     prometheus.Gauge
	publishLastSuccess prometheus.Gauge
	publishRequests    *prometheus.CounterVec
	publishBytes       prometheus.Counter

	httpRequests *prometheus.CounterVec

	mu      sync.Mutex // over the sets below
	sources map[string]bool
	topics  map[string]bool
	targets map[string]bool
}

// New makes the metrics, registered with a registry of their own together
// with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		now: time.Now,

		scrapeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "scrape", Name: "duration_seconds",
			Help:    "Time one source's scrape took, failed or not.",
			Buckets: scrapeBuckets,
		}, []string{"source"}),
		scrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "scrape", Name: "errors_total",
			Help: "Scrapes that failed, by source and reason.",
		}, []string{"source", "reason"}),
		scrapeLastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "scrape", Name: "last_success_timestamp_seconds",
			Help: "When the source last answered without an error, in Unix seconds.",
		}, []string{"source"}),
		papersSeen: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "scrape", Name: "papers_seen_total",
			Help: "Papers the source listed, known or not.",
		}, []string{"source"}),
		papersNew: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "scrape", Name: "papers_new_total",
			Help: "Papers the source listed that the history did not have.",
		}, []string{"source"}),

		refreshDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "refresh", Name: "duration_seconds",
			Help:    "Time one refresh took: every scrape, the merge and the site build.",
			Buckets: refreshBuckets,
		}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "refreshes_total",
			Help: "Refreshes, by outcome.",
		}, []string{"outcome"}),

		topicItems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "topic", Name: "items",
			Help: "Items in the topic's feeds after the last build.",
		}, []string{"topic"}),

		deliveryAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "delivery", Name: "attempts_total",
			Help: "Attempts to deliver to the target, by result.",
		}, []string{"target", "result"}),
		deliveryQueue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "delivery", Name: "queue_length",
			Help: "Messages waiting to be delivered to the target.",
		}, []string{"target"}),

		publishAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "publish", Name: "attempts_total",
			Help: "Attempts to publish the site to the bucket, by result.",
		}, []string{"result"}),
		publishPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "publish", Name: "pending_files",
			Help: "Uploads and deletions the bucket lacks after the last attempt.",
		}),
		publishLastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "publish", Name: "last_success_timestamp_seconds",
			Help: "When the site was last published whole, in Unix seconds.",
		}),
		publishRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "publish", Name: "requests_total",
			Help: "Requests sent to the bucket, by kind.",
		}, []string{"kind"}),
		publishBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "publish", Name: "uploaded_bytes_total",
			Help: "Bytes of the objects uploaded to the bucket.",
		}),

		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),

		sources: map[string]bool{},
		topics:  map[string]bool{},
		targets: map[string]bool{},
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.scrapeDuration, m.scrapeErrors, m.scrapeLastSuccess, m.papersSeen, m.papersNew,
		m.refreshDuration, m.refreshes,
		m.topicItems,
		m.deliveryAttempts, m.deliveryQueue,
		m.publishAttempts, m.publishPending, m.publishLastSuccess, m.publishRequests, m.publishBytes,
		m.httpRequests,
	)
	// Series of fixed label sets start at zero, so a rate over them is
	// right from the first event.
	for _, o := range outcomes[:len(outcomes)-1] {
		m.refreshes.WithLabelValues(o)
	}
	for _, r := range []string{ResultOK, ResultError} {
		m.publishAttempts.WithLabelValues(r)
	}
	for _, k := range kinds[:len(kinds)-1] {
		m.publishRequests.WithLabelValues(k)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format (or another
// format the scraper asks for).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// bounded is v when it is in set, else Other.
func bounded(v string, set []string) string {
	if slices.Contains(set, v) {
		return v
	}
	return Other
}

// SetSources says which sources are configured: the series of any other
// source are removed, and each source's error counters start at zero.
func (m *Metrics) SetSources(names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources = keep(m.sources, names, func(name string) {
		l := prometheus.Labels{"source": name}
		m.scrapeDuration.DeletePartialMatch(l)
		m.scrapeErrors.DeletePartialMatch(l)
		m.scrapeLastSuccess.DeletePartialMatch(l)
		m.papersSeen.DeletePartialMatch(l)
		m.papersNew.DeletePartialMatch(l)
	})
	for _, name := range names {
		for _, r := range reasons[:len(reasons)-1] {
			m.scrapeErrors.WithLabelValues(name, r)
		}
		m.papersSeen.WithLabelValues(name)
		m.papersNew.WithLabelValues(name)
	}
}

// keep returns the set of names, calling drop for each member of old that
// is not among them.
func keep(old map[string]bool, names []string, drop func(string)) map[string]bool {
	now := make(map[string]bool, len(names))
	for _, n := range names {
		now[n] = true
	}
	for n := range old {
		if !now[n] {
			drop(n)
		}
	}
	return now
}

// ObserveScrape records one source's scrape and how long it took. reason
// is "" when it succeeded, else one of the Reason constants; a source that
// answered part-way failed, with the reason of its failed part.
func (m *Metrics) ObserveScrape(source string, d time.Duration, reason string) {
	m.scrapeDuration.WithLabelValues(source).Observe(d.Seconds())
	if reason != "" {
		m.scrapeErrors.WithLabelValues(source, bounded(reason, reasons)).Inc()
		return
	}
	m.scrapeLastSuccess.WithLabelValues(source).Set(unixSeconds(m.now()))
}

// ScrapePapers records the papers one scrape of source listed, and how
// many of them the history did not have.
func (m *Metrics) ScrapePapers(source string, seen, added int) {
	m.papersSeen.WithLabelValues(source).Add(float64(max(seen, 0)))
	m.papersNew.WithLabelValues(source).Add(float64(max(added, 0)))
}

// Refresh records a refresh, how long it took and its outcome (one of the
// Outcome constants).
func (m *Metrics) Refresh(d time.Duration, outcome string) {
	m.refreshDuration.Observe(d.Seconds())
	m.refreshes.WithLabelValues(bounded(outcome, outcomes)).Inc()
}

// Topics sets the items of every configured topic's feeds, by slug. The
// series of a topic not in items is removed: a topic removed from the
// config leaves the metrics.
func (m *Metrics) Topics(items map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	slugs := make([]string, 0, len(items))
	for slug, n := range items {
		slugs = append(slugs, slug)
		m.topicItems.WithLabelValues(slug).Set(float64(n))
	}
	m.topics = keep(m.topics, slugs, func(slug string) { m.topicItems.DeleteLabelValues(slug) })
}

// SetTargets says which delivery targets are configured: the series of any
// other target are removed.
func (m *Metrics) SetTargets(names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.targets = keep(m.targets, names, func(name string) {
		l := prometheus.Labels{"target": name}
		m.deliveryAttempts.DeletePartialMatch(l)
		m.deliveryQueue.DeletePartialMatch(l)
	})
	for _, name := range names {
		for _, r := range []string{ResultOK, ResultError, ResultRateLimited} {
			m.deliveryAttempts.WithLabelValues(name, r)
		}
		m.deliveryQueue.WithLabelValues(name)
	}
}

// Delivery records an attempt to deliver to target, its result (one of
// the Result constants), and the messages still queued for it after.
func (m *Metrics) Delivery(target, result string, queued int) {
	m.deliveryAttempts.WithLabelValues(target, bounded(result, results)).Inc()
	m.deliveryQueue.WithLabelValues(target).Set(float64(queued))
}

// Publish records an attempt to publish the site, its result (ResultOK or
// ResultError) and the files still pending after it.
func (m *Metrics) Publish(result string, pending int) {
	result = bounded(result, results)
	m.publishAttempts.WithLabelValues(result).Inc()
	m.publishPending.Set(float64(pending))
	if result == ResultOK {
		m.publishLastSuccess.Set(unixSeconds(m.now()))
	}
}

// PublishRequests records n requests of a kind (one of the Kind constants)
// sent to the bucket.
func (m *Metrics) PublishRequests(kind string, n int) {
	m.publishRequests.WithLabelValues(bounded(kind, kinds)).Add(float64(max(n, 0)))
}

// PublishUploaded records bytes of objects uploaded to the bucket.
func (m *Metrics) PublishUploaded(bytes int64) {
	m.publishBytes.Add(float64(max(bytes, 0)))
}

// Middleware counts the requests h serves, by the route that route names
// for each (one of the Route constants; anything else counts as Other) and
// by status code.
func (m *Metrics) Middleware(route func(*http.Request) string, h http.Handler) http.Handler {
	byRoute := make(map[string]http.Handler, len(routes))
	for _, r := range routes {
		byRoute[r] = promhttp.InstrumentHandlerCounter(m.httpRequests.MustCurryWith(prometheus.Labels{"route": r}), h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		byRoute[bounded(route(r), routes)].ServeHTTP(w, r)
	})
}

// Route names the route of a request to paperfeed's server: /healthz,
// /metrics, the index ("/" and /index.html), /feeds.opml, a feed under
// /feeds/ (with the extension of a feed format), or Other.
func Route(r *http.Request) string {
	p := r.URL.Path
	switch p {
	case "/healthz":
		return RouteHealthz
	case "/metrics":
		return RouteMetrics
	case "/", "/index.html":
		return RouteIndex
	case "/feeds.opml":
		return RouteOPML
	}
	if strings.HasPrefix(p, "/feeds/") {
		switch path.Ext(p) {
		case ".atom", ".rss", ".json":
			return RouteFeed
		}
	}
	return Other
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
