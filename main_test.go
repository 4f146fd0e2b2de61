package main

import (
	"bytes"
	"context"
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
		Addr: ":8080", BaseURL: "http://localhost:8080", OutDir: "public", DataDir: "data",
		Interval: time.Hour, Retention: 2160 * time.Hour, HFURL: "https://huggingface.co", ArxivURL: "https://arxiv.org",
		UserAgent: "paperfeed/0.1 (+https://github.com/paperfeed/paperfeed)", LogLevel: "info", LogFormat: "text",
	}
	if e != want {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
}

func TestParseEnvTrimsURLs(t *testing.T) {
	e, err := parseEnv(map[string]string{"PAPERFEED_BASE_URL": "https://feeds.example.org/", "PAPERFEED_HF_URL": "http://127.0.0.1:9/"})
	if err != nil {
		t.Fatal(err)
	}
	if e.BaseURL != "https://feeds.example.org" || e.HFURL != "http://127.0.0.1:9" {
		t.Errorf("got %q %q, want the URLs without trailing slashes", e.BaseURL, e.HFURL)
	}
}

func TestParseEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad duration", map[string]string{"PAPERFEED_INTERVAL": "soon"}, `invalid duration "soon"`},
		{"zero interval", map[string]string{"PAPERFEED_INTERVAL": "0s"}, "PAPERFEED_INTERVAL: 0s must be positive"},
		{"negative retention", map[string]string{"PAPERFEED_RETENTION": "-1h"}, "PAPERFEED_RETENTION: -1h0m0s must not be negative"},
		{"bad base url", map[string]string{"PAPERFEED_BASE_URL": "feeds.example.org"}, `PAPERFEED_BASE_URL: "feeds.example.org" is not an http(s) URL`},
		{"bad hf url", map[string]string{"PAPERFEED_HF_URL": "ftp://x"}, `PAPERFEED_HF_URL: "ftp://x" is not an http(s) URL`},
		{"bad level", map[string]string{"PAPERFEED_LOG_LEVEL": "loud"}, `PAPERFEED_LOG_LEVEL: unknown log level "loud"`},
		{"bad format", map[string]string{"PAPERFEED_LOG_FORMAT": "xml"}, `PAPERFEED_LOG_FORMAT: "xml" must be text or json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseEnv(tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestHelpListsFlagsAndEnvironment(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-h"}, nil, &stdout, &stderr, hooks{})
	if code != 0 {
		t.Errorf("exit code: got %d, want 0", code)
	}
	if stderr.Len() != 0 {
		t.Errorf("-h wrote to stderr: %q; the help goes to stdout", stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"-once", "PAPERFEED_CONFIG", "PAPERFEED_ADDR", "[default :8080]", "PAPERFEED_BASE_URL",
		"PAPERFEED_OUT_DIR", "PAPERFEED_DATA_DIR", "PAPERFEED_INTERVAL", "[default 1h]", "PAPERFEED_HF_URL",
		"PAPERFEED_USER_AGENT", "PAPERFEED_LOG_LEVEL", "PAPERFEED_LOG_FORMAT", "PAPERFEED_RETENTION", "GOMEMLIMIT", "[default 192MiB]"} {
		if !strings.Contains(out, want) {
			t.Errorf("-h output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunRejectsBadInputBeforeDoingAnything(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"unknown flag", []string{"-nope"}, nil, 2, "flag provided but not defined: -nope"},
		{"stray argument", []string{"extra"}, nil, 2, "unexpected arguments: extra"},
		{"bad env", []string{"-once"}, map[string]string{"PAPERFEED_INTERVAL": "x"}, 2, "environment:"},
		{"missing config", []string{"-once"}, map[string]string{"PAPERFEED_CONFIG": dir + "/none.yaml"}, 2, "invalid config: read config:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := map[string]string{"PAPERFEED_DATA_DIR": dir + "/data", "PAPERFEED_OUT_DIR": dir + "/out"}
			for k, v := range tt.env {
				env[k] = v
			}
			code := run(context.Background(), tt.args, env, &stdout, &stderr, hooks{})
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("got code %d and %q, want code %d and %q", code, stderr.String(), tt.code, tt.want)
			}
		})
	}
}
