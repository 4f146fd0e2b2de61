package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseEnvDefaults(t *testing.T) {
	e, err := parseEnv(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	want := Env{
		Addr: ":8080", BaseURL: "", OutDir: "public", DataDir: "data",
		Interval: time.Hour, RefreshTimeout: 15 * time.Minute, RetryMin: 2 * time.Minute, RetryMax: 30 * time.Minute,
		MaxPapers: 5000, Retention: 2160 * time.Hour, HFURL: "https://huggingface.co", ArxivURL: "https://arxiv.org",
		UserAgent: "paperfeed/0.1 (+https://github.com/paperfeed/paperfeed)", LogLevel: "info", LogFormat: "text",
	}
	if e != want {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
	if got := e.SiteURL(); got != "http://localhost:8080" {
		t.Errorf("SiteURL with the defaults: got %q, want http://localhost:8080", got)
	}
}

func TestParseEnvValues(t *testing.T) {
	e, err := parseEnv(map[string]string{
		"PAPERFEED_BASE_URL": "https://feeds.example.org/", "PAPERFEED_HF_URL": "http://127.0.0.1:9/",
		"PAPERFEED_REFRESH_TIMEOUT": "5m", "PAPERFEED_RETRY_MIN": "1m", "PAPERFEED_RETRY_MAX": "1m",
		"PAPERFEED_MAX_PAPERS": "20", "PAPERFEED_RETENTION": "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.BaseURL != "https://feeds.example.org" || e.HFURL != "http://127.0.0.1:9" {
		t.Errorf("got %q %q, want the URLs without trailing slashes", e.BaseURL, e.HFURL)
	}
	if e.RefreshTimeout != 5*time.Minute || e.RetryMin != time.Minute || e.RetryMax != time.Minute || e.MaxPapers != 20 || e.Retention != 0 {
		t.Errorf("got timeout %v, retry %v-%v, max papers %d, retention %v; want 5m, 1m-1m, 20, 0",
			e.RefreshTimeout, e.RetryMin, e.RetryMax, e.MaxPapers, e.Retention)
	}
}

func TestParseEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // the whole error
	}{
		{"days are not a duration", map[string]string{"PAPERFEED_RETENTION": "90d"},
			`environment: PAPERFEED_RETENTION="90d": not a duration; use Go durations such as 2160h (90 days) or 30m`},
		{"days become hours in the example", map[string]string{"PAPERFEED_INTERVAL": "2d"},
			`environment: PAPERFEED_INTERVAL="2d": not a duration; use Go durations such as 48h (2 days) or 30m`},
		{"bad duration", map[string]string{"PAPERFEED_INTERVAL": "soon"},
			`environment: PAPERFEED_INTERVAL="soon": not a duration; use Go durations such as 1h or 30m`},
		{"bad refresh timeout", map[string]string{"PAPERFEED_REFRESH_TIMEOUT": "15"},
			`environment: PAPERFEED_REFRESH_TIMEOUT="15": not a duration; use Go durations such as 15m or 30m`},
		{"bad retry max", map[string]string{"PAPERFEED_RETRY_MAX": "half an hour"},
			`environment: PAPERFEED_RETRY_MAX="half an hour": not a duration; use Go durations such as 30m or 1h`},
		{"zero interval", map[string]string{"PAPERFEED_INTERVAL": "0s"},
			`environment: PAPERFEED_INTERVAL="0s": must be positive, such as 1h`},
		{"negative refresh timeout", map[string]string{"PAPERFEED_REFRESH_TIMEOUT": "-1m"},
			`environment: PAPERFEED_REFRESH_TIMEOUT="-1m": must be positive, such as 15m`},
		{"zero retry min", map[string]string{"PAPERFEED_RETRY_MIN": "0"},
			`environment: PAPERFEED_RETRY_MIN="0": must be positive, such as 2m`},
		{"retry max below min", map[string]string{"PAPERFEED_RETRY_MIN": "10m", "PAPERFEED_RETRY_MAX": "5m"},
			`environment: PAPERFEED_RETRY_MAX="5m": must be at least PAPERFEED_RETRY_MIN (10m)`},
		{"retry min above the default max", map[string]string{"PAPERFEED_RETRY_MIN": "1h30m"},
			`environment: PAPERFEED_RETRY_MIN="1h30m": must be at most PAPERFEED_RETRY_MAX (30m)`},
		{"max papers not a number", map[string]string{"PAPERFEED_MAX_PAPERS": "lots"},
			`environment: PAPERFEED_MAX_PAPERS="lots": not a whole number; use digits such as 5000`},
		{"max papers zero", map[string]string{"PAPERFEED_MAX_PAPERS": "0"},
			`environment: PAPERFEED_MAX_PAPERS="0": must be positive, such as 5000`},
		{"negative retention", map[string]string{"PAPERFEED_RETENTION": "-1h"},
			`environment: PAPERFEED_RETENTION="-1h": must not be negative; 0 keeps everything`},
		{"bad addr", map[string]string{"PAPERFEED_ADDR": "8080"},
			`environment: PAPERFEED_ADDR="8080": not a listen address; use host:port such as :8080 or 127.0.0.1:8080`},
		{"bad base url", map[string]string{"PAPERFEED_BASE_URL": "feeds.example.org"},
			`environment: PAPERFEED_BASE_URL="feeds.example.org": not an http(s) URL; use a URL such as https://feeds.example.org`},
		{"bad hf url", map[string]string{"PAPERFEED_HF_URL": "ftp://x"},
			`environment: PAPERFEED_HF_URL="ftp://x": not an http(s) URL; use a URL such as https://huggingface.co`},
		{"bad arxiv url", map[string]string{"PAPERFEED_ARXIV_URL": "http://"},
			`environment: PAPERFEED_ARXIV_URL="http://": not an http(s) URL; use a URL such as https://arxiv.org`},
		{"bad level", map[string]string{"PAPERFEED_LOG_LEVEL": "loud"},
			`environment: PAPERFEED_LOG_LEVEL="loud": not a log level; use debug, info, warn or error`},
		{"bad format", map[string]string{"PAPERFEED_LOG_FORMAT": "xml"},
			`environment: PAPERFEED_LOG_FORMAT="xml": use text or json`},
		{"misspelt variable", map[string]string{"PAPERFEED_INTERVALL": "2h"},
			`environment: PAPERFEED_INTERVALL is not a paperfeed variable; did you mean PAPERFEED_INTERVAL?`},
		{"variable without its underscore", map[string]string{"PAPERFEED_BASEURL": "https://x.org"},
			`environment: PAPERFEED_BASEURL is not a paperfeed variable; did you mean PAPERFEED_BASE_URL?`},
		{"unknown variable", map[string]string{"PAPERFEED_COLOUR": "red"},
			`environment: PAPERFEED_COLOUR is not a paperfeed variable; paperfeed reads PAPERFEED_CONFIG, PAPERFEED_ADDR, PAPERFEED_BASE_URL, ` +
				`PAPERFEED_OUT_DIR, PAPERFEED_DATA_DIR, PAPERFEED_INTERVAL, PAPERFEED_REFRESH_TIMEOUT, PAPERFEED_RETRY_MIN, PAPERFEED_RETRY_MAX, ` +
				`PAPERFEED_MAX_PAPERS, PAPERFEED_RETENTION, PAPERFEED_HF_URL, PAPERFEED_ARXIV_URL, PAPERFEED_USER_AGENT, PAPERFEED_LOG_LEVEL, PAPERFEED_LOG_FORMAT, PAPERFEED_WEBSUB_HUB, PAPERFEED_PUBLISH_URL, PAPERFEED_S3_ENDPOINT, PAPERFEED_S3_PATH_STYLE, PAPERFEED_PUBLISH_GZIP`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseEnv(tt.env)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestParseEnvAllErrorsAtOnce: every bad variable is reported, one per
// line, in a stable order, and a value that does not parse is reported
// once (not again as zero, "must be positive").
func TestParseEnvAllErrorsAtOnce(t *testing.T) {
	_, err := parseEnv(map[string]string{
		"PAPERFEED_INTERVAL": "1 hour", "PAPERFEED_MAX_PAPERS": "-", "PAPERFEED_LOG_FORMAT": "xml",
		"PAPERFEED_ZZZ": "1", "PAPERFEED_RETENTON": "1h", "HOME": "/home/x", "paperfeed_lower": "x",
	})
	if err == nil {
		t.Fatal("got no error")
	}
	want := []string{
		`environment: PAPERFEED_INTERVAL="1 hour": not a duration; use Go durations such as 1h or 30m`,
		`environment: PAPERFEED_MAX_PAPERS="-": not a whole number; use digits such as 5000`,
		`environment: PAPERFEED_LOG_FORMAT="xml": use text or json`,
		`environment: PAPERFEED_RETENTON is not a paperfeed variable; did you mean PAPERFEED_RETENTION?`,
		`environment: PAPERFEED_ZZZ is not a paperfeed variable; paperfeed reads PAPERFEED_CONFIG, `,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d:\ngot  %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

func TestEnvSiteURL(t *testing.T) {
	tests := []struct {
		addr, baseURL, want string
	}{
		{":8080", "", "http://localhost:8080"},
		{"0.0.0.0:9000", "", "http://localhost:9000"},
		{"[::]:8080", "", "http://localhost:8080"},
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"feeds.internal:80", "", "http://feeds.internal:80"},
		{"[::1]:8080", "", "http://[::1]:8080"},
		{"[2001:db8::7]:8080", "", "http://[2001:db8::7]:8080"},
		{":8080", "https://feeds.example.org", "https://feeds.example.org"},
		{":8080", "https://example.org/feeds/", "https://example.org/feeds"},
	}
	for _, tt := range tests {
		t.Run(tt.addr+" "+tt.baseURL, func(t *testing.T) {
			if got := (Env{Addr: tt.addr, BaseURL: tt.baseURL}).SiteURL(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestEnvSiteURLThroughParseEnv: the listen address given in the
// environment is the one SiteURL follows.
func TestEnvSiteURLThroughParseEnv(t *testing.T) {
	e, err := parseEnv(map[string]string{"PAPERFEED_ADDR": "[::1]:9090"})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.SiteURL(); got != "http://[::1]:9090" {
		t.Errorf("got %q, want http://[::1]:9090", got)
	}
}

func TestNotA(t *testing.T) {
	tests := []struct {
		name  string
		t     reflect.Type
		value string
		def   string
		want  string
	}{
		{"duration", reflect.TypeFor[time.Duration](), "x", "2m", "not a duration; use Go durations such as 2m or 30m"},
		{"days", reflect.TypeFor[time.Duration](), "7d", "1h", "not a duration; use Go durations such as 168h (7 days) or 30m"},
		{"one day", reflect.TypeFor[time.Duration](), "1d", "1h", "not a duration; use Go durations such as 24h or 30m"},
		{"int", reflect.TypeFor[int](), "x", "10", "not a whole number; use digits such as 10"},
		{"bool", reflect.TypeFor[bool](), "maybe", "false", "not true or false; use true or false"},
		{"other", reflect.TypeFor[float64](), "x", "1", "cannot be read as float64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notA(tt.t, tt.value, tt.def); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2160 * time.Hour: "2160h", 90 * time.Minute: "1h30m", 15 * time.Minute: "15m",
		90 * time.Second: "1m30s", time.Hour + time.Second: "1h0m1s", 0: "0s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestHelpDescribesEveryVariable: -h is built from the desc tags, so every
// variable needs one.
func TestHelpDescribesEveryVariable(t *testing.T) {
	ty := reflect.TypeFor[Env]()
	for i := range ty.NumField() {
		if f := ty.Field(i); f.Tag.Get("desc") == "" {
			t.Errorf("%s (%s) has no desc tag", f.Name, f.Tag.Get("env"))
		}
	}
}
