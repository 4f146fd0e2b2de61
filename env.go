package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Env is the process environment paperfeed reads. The desc tags feed -h.
type Env struct {
	Config    string        `env:"PAPERFEED_CONFIG" desc:"path of the YAML config (empty: the config embedded in the binary)"`
	Addr      string        `env:"PAPERFEED_ADDR" envDefault:":8080" desc:"listen address"`
	BaseURL   string        `env:"PAPERFEED_BASE_URL" envDefault:"http://localhost:8080" desc:"public URL of the site, used in self links and OPML"`
	OutDir    string        `env:"PAPERFEED_OUT_DIR" envDefault:"public" desc:"where the static site is written"`
	DataDir   string        `env:"PAPERFEED_DATA_DIR" envDefault:"data" desc:"where state (the paper history) is kept"`
	Interval  time.Duration `env:"PAPERFEED_INTERVAL" envDefault:"1h" desc:"time between refreshes (Go duration)"`
	Retention time.Duration `env:"PAPERFEED_RETENTION" envDefault:"2160h" desc:"drop papers whose listing day is older than this (0 keeps everything)"`
	HFURL     string        `env:"PAPERFEED_HF_URL" envDefault:"https://huggingface.co" desc:"Hugging Face base URL (mirrors, tests)"`
	ArxivURL  string        `env:"PAPERFEED_ARXIV_URL" envDefault:"https://arxiv.org" desc:"arXiv base URL (mirrors, tests)"`
	UserAgent string        `env:"PAPERFEED_USER_AGENT" envDefault:"paperfeed/0.1 (+https://github.com/paperfeed/paperfeed)" desc:"User-Agent sent to sources"`
	LogLevel  string        `env:"PAPERFEED_LOG_LEVEL" envDefault:"info" desc:"debug, info, warn or error"`
	LogFormat string        `env:"PAPERFEED_LOG_FORMAT" envDefault:"text" desc:"text or json"`
}

// parseEnv reads Env from environ and checks every value.
func parseEnv(environ map[string]string) (Env, error) {
	var e Env
	if err := env.ParseWithOptions(&e, env.Options{Environment: environ}); err != nil {
		return e, fmt.Errorf("environment: %w", err)
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("environment: %s: %s", name, fmt.Sprintf(format, args...)))
	}
	for name, v := range map[string]*string{"PAPERFEED_BASE_URL": &e.BaseURL, "PAPERFEED_HF_URL": &e.HFURL, "PAPERFEED_ARXIV_URL": &e.ArxivURL} {
		u, err := url.Parse(*v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(name, "%q is not an http(s) URL", *v)
		}
		*v = strings.TrimRight(*v, "/")
	}
	if e.Interval <= 0 {
		bad("PAPERFEED_INTERVAL", "%s must be positive", e.Interval)
	}
	if e.Retention < 0 {
		bad("PAPERFEED_RETENTION", "%s must not be negative", e.Retention)
	}
	if _, err := logLevel(e.LogLevel); err != nil {
		bad("PAPERFEED_LOG_LEVEL", "%v", err)
	}
	if e.LogFormat != "text" && e.LogFormat != "json" {
		bad("PAPERFEED_LOG_FORMAT", "%q must be text or json", e.LogFormat)
	}
	return e, errors.Join(errs...)
}

func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("unknown log level %q", s)
	}
	return l, nil
}
