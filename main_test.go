package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

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
