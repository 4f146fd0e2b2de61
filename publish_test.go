package main

// End-to-end tests of publishing and metrics (issue 12): the real binary's
// run() against a real S3-compatible server (versitygw) on 127.0.0.1.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/paperfeed/paperfeed/internal/testsrv"
)

// bucketEnv starts a gateway with a bucket "site" and returns the
// environment that publishes to it, and a client to look at it.
func bucketEnv(t *testing.T, hfURL string) (map[string]string, *minio.Client, *testsrv.Gateway) {
	t.Helper()
	gw := testsrv.StartVersitygw(t)
	client, err := minio.New(strings.TrimPrefix(gw.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(gw.Access, gw.Secret, ""), Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.MakeBucket(context.Background(), "site", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	env := testEnv(t, hfURL)
	env["PAPERFEED_PUBLISH_URL"] = "s3://site/feeds/"
	env["PAPERFEED_S3_ENDPOINT"] = gw.Endpoint
	env["PAPERFEED_S3_PATH_STYLE"] = "true"
	env["AWS_ACCESS_KEY_ID"] = gw.Access
	env["AWS_SECRET_ACCESS_KEY"] = gw.Secret
	env["AWS_REGION"] = "us-east-1"
	return env, client, gw
}

// -once publishes the site it wrote, byte for byte, and a wrong secret is
// a clear failure that names the bucket and not the secret.
func TestOncePublishesTheSite(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env, client, gw := bucketEnv(t, hf.URL)
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("-once: %d %s", code, stderr)
	}
	local := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	for _, name := range []string{"index.html", "feeds.opml", "feeds/all.atom", "feeds/all.rss", "feeds/all.json"} {
		obj, err := client.GetObject(context.Background(), "site", "feeds/"+name, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(obj)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(data, local[name]) {
			t.Errorf("%s in the bucket differs from the local file (%d vs %d bytes)", name, len(data), len(local[name]))
		}
	}

	// The second run's index says when the site was last published.
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("second -once: %d %s", code, stderr)
	}
	if index := siteFiles(t, env["PAPERFEED_OUT_DIR"])["index.html"]; !bytes.Contains(index, []byte("Published copy: last published <time")) {
		t.Errorf("index.html does not show the published copy's state")
	}

	env["AWS_SECRET_ACCESS_KEY"] = "wrong-" + gw.Secret
	code, stderr := runOnce(t, env)
	if code != 1 || !strings.Contains(stderr, "site") || strings.Contains(stderr, gw.Secret) {
		t.Errorf("-once with a wrong secret: %d %q; want 1, the bucket named, the secret not", code, stderr)
	}
}

// The server publishes after its refresh, reports it on /healthz, and
// serves /metrics that a Prometheus parser reads.
func TestServerPublishesAndServesMetrics(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env, client, _ := bucketEnv(t, hf.URL)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	s := startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatal(err)
	}
	get(t, s.url+"/feeds/all.atom", nil)
	// The publish runs beside the loop: wait for /healthz to show it.
	var raw string
	for range 100 {
		_, _, raw = getHealth(t, s.url)
		if strings.Contains(raw, `"last_success":"`) && strings.Contains(raw, `"publish":{`) && !strings.Contains(raw, `"publish":{"target":"s3://site/feeds/","last_attempt":"0001`) {
			if _, err := client.StatObject(context.Background(), "site", "feeds/index.html", minio.StatObjectOptions{}); err == nil {
				break
			}
		}
		sleepBriefly()
	}
	if _, err := client.StatObject(context.Background(), "site", "feeds/index.html", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("the server did not publish: %v; healthz %s", err, raw)
	}

	resp := get(t, s.url+"/metrics", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, name := range []string{"paperfeed_refreshes_total", "paperfeed_scrape_duration_seconds", "paperfeed_topic_items", "paperfeed_http_requests_total", "paperfeed_publish_attempts_total", "go_goroutines"} {
		if families[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	found := false
	for _, m := range families["paperfeed_topic_items"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "topic" && l.GetValue() == "all" && m.GetGauge().GetValue() == 30 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("paperfeed_topic_items{topic=\"all\"} is not 30")
	}
	feedOK := false
	for _, m := range families["paperfeed_http_requests_total"].GetMetric() {
		labels := model.LabelSet{}
		for _, l := range m.GetLabel() {
			labels[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
		}
		if labels["route"] == "feed" && labels["code"] == "200" && m.GetCounter().GetValue() >= 1 {
			feedOK = true
		}
	}
	if !feedOK {
		t.Error("the feed request is not counted by route and code")
	}
}

// sleepBriefly paces a poll of the server's status.
func sleepBriefly() { time.Sleep(50 * time.Millisecond) }

// With a hub, every feed names it, -once pings it once per feed whose bytes
// changed, and a run that changes nothing pings nothing.
func TestWebSubHubIsPinged(t *testing.T) {
	var mu sync.Mutex
	var pinged []string
	hub := newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.Form.Get("hub.mode") != "publish" {
			http.Error(w, "bad ping", http.StatusBadRequest)
			return
		}
		mu.Lock()
		pinged = append(pinged, r.Form.Get("hub.url"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	env["PAPERFEED_WEBSUB_HUB"] = hub.URL + "/hub"
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("-once: %d %s", code, stderr)
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	feeds := 0
	for name, data := range files {
		if strings.HasPrefix(name, "feeds/") && !strings.HasSuffix(name, ".gz") {
			feeds++
			if !bytes.Contains(data, []byte(hub.URL+"/hub")) {
				t.Errorf("%s does not name the hub", name)
			}
		}
	}
	mu.Lock()
	got := slices.Clone(pinged)
	mu.Unlock()
	if len(got) != feeds || !slices.Contains(got, "https://feeds.example.org/feeds/all.atom") {
		t.Errorf("%d pings for %d feeds: %v", len(got), feeds, got)
	}
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("second -once: %d %s", code, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pinged) != len(got) {
		t.Errorf("an unchanged run pinged %d feeds", len(pinged)-len(got))
	}
}
