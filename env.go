package main

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Env is the process environment paperfeed reads. The desc tags feed -h.
type Env struct {
	Config         string        `env:"PAPERFEED_CONFIG" desc:"path of the YAML config (empty: the config embedded in the binary)"`
	Addr           string        `env:"PAPERFEED_ADDR" envDefault:":8080" desc:"listen address"`
	BaseURL        string        `env:"PAPERFEED_BASE_URL" desc:"public URL of the site, used in self links and OPML (empty: http://localhost:<port>, or the host of PAPERFEED_ADDR when it names one)"`
	OutDir         string        `env:"PAPERFEED_OUT_DIR" envDefault:"public" desc:"where the static site is written"`
	DataDir        string        `env:"PAPERFEED_DATA_DIR" envDefault:"data" desc:"where state (the paper history) is kept"`
	Interval       time.Duration `env:"PAPERFEED_INTERVAL" envDefault:"1h" desc:"time between refreshes (Go duration)"`
	RefreshTimeout time.Duration `env:"PAPERFEED_REFRESH_TIMEOUT" envDefault:"15m" desc:"deadline of a whole refresh, every source included (Go duration)"`
	RetryMin       time.Duration `env:"PAPERFEED_RETRY_MIN" envDefault:"2m" desc:"shortest wait before a failed source is tried again, before the next refresh (Go duration)"`
	RetryMax       time.Duration `env:"PAPERFEED_RETRY_MAX" envDefault:"30m" desc:"longest wait before a failed source is tried again, at least PAPERFEED_RETRY_MIN (Go duration)"`
	MaxPapers      int           `env:"PAPERFEED_MAX_PAPERS" envDefault:"5000" desc:"most papers taken from one refresh, all sources together"`
	Retention      time.Duration `env:"PAPERFEED_RETENTION" envDefault:"2160h" desc:"drop a paper once both its date and the last time a source listed it are older than this (0 keeps everything)"`
	HFURL          string        `env:"PAPERFEED_HF_URL" envDefault:"https://huggingface.co" desc:"Hugging Face base URL (mirrors, tests)"`
	ArxivURL       string        `env:"PAPERFEED_ARXIV_URL" envDefault:"https://arxiv.org" desc:"arXiv base URL (mirrors, tests)"`
	UserAgent      string        `env:"PAPERFEED_USER_AGENT" envDefault:"paperfeed/0.1 (+https://github.com/paperfeed/paperfeed)" desc:"User-Agent sent to sources"`
	LogLevel       string        `env:"PAPERFEED_LOG_LEVEL" envDefault:"info" desc:"debug, info, warn or error"`
	LogFormat      string        `env:"PAPERFEED_LOG_FORMAT" envDefault:"text" desc:"text or json"`

	WebSubHub string `env:"PAPERFEED_WEBSUB_HUB" desc:"WebSub hub named in every feed and told when feeds change, e.g. https://pubsubhubbub.appspot.com/ (empty: none)"`

	PublishURL      string `env:"PAPERFEED_PUBLISH_URL" desc:"s3://bucket/prefix: after each refresh, upload what changed in the site to this S3-compatible bucket (empty: no publishing)"`
	S3Endpoint      string `env:"PAPERFEED_S3_ENDPOINT" desc:"URL of the S3-compatible service, e.g. https://ACCOUNT.r2.cloudflarestorage.com (empty: AWS S3)"`
	S3PathStyle     bool   `env:"PAPERFEED_S3_PATH_STYLE" envDefault:"false" desc:"address the bucket in the path (https://host/bucket/key), as MinIO, Ceph and versitygw want"`
	PublishGzip     bool   `env:"PAPERFEED_PUBLISH_GZIP" envDefault:"false" desc:"upload each feed gzipped, with Content-Encoding: gzip (see the README: Hosting behind a CDN)"`
	AWSAccessKey    string `env:"AWS_ACCESS_KEY_ID" desc:"access key of the bucket (with PAPERFEED_PUBLISH_URL)"`
	AWSSecretKey    string `env:"AWS_SECRET_ACCESS_KEY" desc:"secret key of the bucket (never logged)"`
	AWSSessionToken string `env:"AWS_SESSION_TOKEN" desc:"session token, for temporary credentials"`
	AWSRegion       string `env:"AWS_REGION" desc:"region of the bucket (empty: asked of the service; auto for R2)"`
}

// SiteURL is the public URL of the site, without a trailing slash:
// PAPERFEED_BASE_URL when set, else the listen address as a browser on
// this machine reaches it (http://localhost:8080 for ":8080", "0.0.0.0:8080"
// or "[::]:8080"; http://192.0.2.1:8080 for that host).
func (e Env) SiteURL() string {
	if e.BaseURL != "" {
		return strings.TrimRight(e.BaseURL, "/")
	}
	host, port, err := net.SplitHostPort(e.Addr)
	if err != nil { // parseEnv refuses such an address
		return "http://" + e.Addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// envPrefix starts every variable paperfeed reads; another one that starts
// with it is a mistake.
const envPrefix = "PAPERFEED_"

// parseEnv reads Env from environ and checks every value. Each error is
// one line that names the variable, its value and the form it takes; all of
// them come at once, joined.
func parseEnv(environ map[string]string) (Env, error) {
	var e Env
	var errs []error
	failed := map[string]bool{} // variables already reported
	bad := func(name, format string, args ...any) {
		failed[name] = true
		errs = append(errs, fmt.Errorf("environment: %s=%q: %s", name, environ[name], fmt.Sprintf(format, args...)))
	}
	if err := env.ParseWithOptions(&e, env.Options{Environment: environ}); err != nil {
		for _, err := range unjoin(err) {
			var pe env.ParseError
			var f reflect.StructField
			ok := errors.As(err, &pe)
			if ok {
				f, ok = reflect.TypeFor[Env]().FieldByName(pe.Name)
			}
			if !ok {
				errs = append(errs, fmt.Errorf("environment: %w", err))
				continue
			}
			name := f.Tag.Get("env")
			bad(name, "%s", notA(f.Type, environ[name], f.Tag.Get("envDefault")))
		}
	}
	if _, _, err := net.SplitHostPort(e.Addr); err != nil {
		bad("PAPERFEED_ADDR", "not a listen address; use host:port such as :8080 or 127.0.0.1:8080")
	}
	for _, u := range []struct {
		name    string
		v       *string
		example string
	}{
		{"PAPERFEED_BASE_URL", &e.BaseURL, "https://feeds.example.org"},
		{"PAPERFEED_HF_URL", &e.HFURL, "https://huggingface.co"},
		{"PAPERFEED_ARXIV_URL", &e.ArxivURL, "https://arxiv.org"},
		{"PAPERFEED_WEBSUB_HUB", &e.WebSubHub, "https://pubsubhubbub.appspot.com/"},
	} {
		if *u.v == "" && (u.name == "PAPERFEED_BASE_URL" || u.name == "PAPERFEED_WEBSUB_HUB") {
			continue // optional: SiteURL follows the listen address; no hub
		}
		p, err := url.Parse(*u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad(u.name, "not an http(s) URL; use a URL such as %s", u.example)
		}
		*u.v = strings.TrimRight(*u.v, "/")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"PAPERFEED_INTERVAL", e.Interval}, {"PAPERFEED_REFRESH_TIMEOUT", e.RefreshTimeout},
		{"PAPERFEED_RETRY_MIN", e.RetryMin}, {"PAPERFEED_RETRY_MAX", e.RetryMax},
	} {
		if d.v <= 0 && !failed[d.name] {
			f, _ := fieldByEnv(d.name)
			bad(d.name, "must be positive, such as %s", f.Tag.Get("envDefault"))
		}
	}
	if e.RetryMin > 0 && e.RetryMax > 0 && e.RetryMax < e.RetryMin {
		// Blame the one that was set.
		if environ["PAPERFEED_RETRY_MAX"] != "" {
			bad("PAPERFEED_RETRY_MAX", "must be at least PAPERFEED_RETRY_MIN (%s)", formatDuration(e.RetryMin))
		} else {
			bad("PAPERFEED_RETRY_MIN", "must be at most PAPERFEED_RETRY_MAX (%s)", formatDuration(e.RetryMax))
		}
	}
	if e.MaxPapers <= 0 && !failed["PAPERFEED_MAX_PAPERS"] {
		bad("PAPERFEED_MAX_PAPERS", "must be positive, such as 5000")
	}
	if e.Retention < 0 {
		bad("PAPERFEED_RETENTION", "must not be negative; 0 keeps everything")
	}
	if _, err := logLevel(e.LogLevel); err != nil {
		bad("PAPERFEED_LOG_LEVEL", "not a log level; use debug, info, warn or error")
	}
	if e.LogFormat != "text" && e.LogFormat != "json" {
		bad("PAPERFEED_LOG_FORMAT", "use text or json")
	}
	if e.PublishURL != "" {
		// publish.New checks the URL and endpoint themselves; what
		// is missing altogether is named here.
		for name, v := range map[string]string{"AWS_ACCESS_KEY_ID": e.AWSAccessKey, "AWS_SECRET_ACCESS_KEY": e.AWSSecretKey} {
			if v == "" {
				errs = append(errs, fmt.Errorf("environment: %s is required with PAPERFEED_PUBLISH_URL", name))
			}
		}
	}
	errs = append(errs, unknownVariables(environ)...)
	return e, errors.Join(errs...)
}

// unknownVariables are the errors for variables that look like paperfeed's
// and are not, in name order: a misspelt one would be silently ignored.
func unknownVariables(environ map[string]string) []error {
	var known, rest []string
	t := reflect.TypeFor[Env]()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("env")
		if !strings.HasPrefix(name, envPrefix) {
			continue // AWS_*: the standard names, not ours to police
		}
		known = append(known, name)
		rest = append(rest, strings.TrimPrefix(name, envPrefix))
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(environ)) {
		if !strings.HasPrefix(name, envPrefix) || slices.Contains(known, name) {
			continue
		}
		// Every name shares the prefix: compare what follows it.
		if best, ok := nearest(strings.TrimPrefix(name, envPrefix), rest); ok {
			errs = append(errs, fmt.Errorf("environment: %s is not a paperfeed variable; did you mean %s?", name, envPrefix+best))
		} else {
			errs = append(errs, fmt.Errorf("environment: %s is not a paperfeed variable; paperfeed reads %s", name, strings.Join(known, ", ")))
		}
	}
	return errs
}

// fieldByEnv is the Env field read from the variable name.
func fieldByEnv(name string) (reflect.StructField, bool) {
	t := reflect.TypeFor[Env]()
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("env") == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// daysRE matches a number of days, which Go durations lack.
var daysRE = regexp.MustCompile(`^(\d+)\s*d$`)

// notA says what a value that does not parse as t should look like. def is
// the variable's default, the first example.
func notA(t reflect.Type, value, def string) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		example := def
		if m := daysRE.FindStringSubmatch(strings.TrimSpace(value)); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n < 100000 {
				example = formatDuration(time.Duration(n) * 24 * time.Hour)
			}
		}
		if d, err := time.ParseDuration(example); err == nil && d >= 48*time.Hour && d%(24*time.Hour) == 0 {
			example += fmt.Sprintf(" (%d days)", d/(24*time.Hour))
		}
		other := "30m"
		if example == other {
			other = "1h"
		}
		return fmt.Sprintf("not a duration; use Go durations such as %s or %s", example, other)
	case t.Kind() == reflect.Int:
		return fmt.Sprintf("not a whole number; use digits such as %s", def)
	case t.Kind() == reflect.Bool:
		return "not true or false; use true or false"
	}
	return fmt.Sprintf("cannot be read as %s", t)
}

// formatDuration prints d as a variable would give it: 2160h, 1h30m, 15m,
// without Duration.String's trailing zero units.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("unknown log level %q", s)
	}
	return l, nil
}
