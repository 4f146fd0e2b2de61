package main

import (
	"strings"
	"testing"
)

// TestCompileRefusesUnknownSourceType: ParseConfig rejects unknown types, and
// a config built another way still cannot skip a source silently.
func TestCompileRefusesUnknownSourceType(t *testing.T) {
	a := &App{}
	_, err := a.compile(&Config{Sources: []SourceConfig{{Name: "x", Type: "gopher"}}, Topics: []TopicConfig{{Slug: "all", Limit: 1}}})
	if err == nil || !strings.Contains(err.Error(), `source x: unknown type "gopher"`) {
		t.Errorf("got %v, want an error naming the source and type", err)
	}
}
