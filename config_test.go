package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte(`
sources:
  - name: hf
    type: huggingface
topics:
  - slug: all
  - slug: diffusion
    title: Diffusion
    keywords: [diffusion]
    limit: 5
`))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sources[0]
	if s.Via != "api" || s.Days != defaultDays {
		t.Errorf("source defaults: got via=%q days=%d, want api %d", s.Via, s.Days, defaultDays)
	}
	if got := cfg.Topics[0]; got.Title != "all" || got.Limit != defaultLimit {
		t.Errorf("topic defaults: got title=%q limit=%d, want all %d", got.Title, got.Limit, defaultLimit)
	}
	if got := cfg.Topics[1].Limit; got != 5 {
		t.Errorf("limit: got %d, want 5", got)
	}
}

func TestParseConfigEverySourceType(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte(`
sources:
  - name: hf-search
    type: huggingface
    view: search
    q: diffusion transformers
  - name: arxiv-lg
    type: arxiv
    category: cs.LG
    include: [new, cross, replace]
  - name: lab
    type: html
    url: https://lab.example.org/publications
    item: li.paper
    title: h3
    link: a.pdf@href
    abstract: p.abstract
    authors: span.authors
    date: time@datetime
    date_layout: "2006-01-02"
topics:
  - slug: all
`))
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Sources[0]; s.Via != "api" || s.Days != 0 || s.Q != "diffusion transformers" {
		t.Errorf("search source: got %+v", s)
	}
	sel := cfg.Sources[2].Selectors()
	if sel.Item != "li.paper" || sel.Link != "a.pdf@href" || sel.DateLayout != "2006-01-02" {
		t.Errorf("selectors: got %+v", sel)
	}
}

func TestEmbeddedConfigIsValid(t *testing.T) {
	cfg, err := ParseConfig(defaultConfigName, defaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Topics) < 5 || cfg.Topics[0].Slug != "all" {
		t.Errorf("embedded config: got %d topics starting with %q, want an 'all' topic and a handful more", len(cfg.Topics), cfg.Topics[0].Slug)
	}
}

func TestParseConfigErrors(t *testing.T) {
	const good = "sources:\n  - name: hf\n    type: huggingface\n"
	tests := []struct {
		name string
		yaml string
		want string // the whole first line of the error
	}{
		{"bad yaml", "sources: [\n", `c.yaml:1:10: sequence end token ']' not found`},
		{"unknown field", good + "topics:\n  - slug: a\n    titel: A\n", `c.yaml:6:5: unknown field "titel"`},
		{"wrong type", good + "topics:\n  - slug: a\n    limit: many\n", `c.yaml:6:12: cannot unmarshal string into Go struct field`},
		{"duplicate key", good + "topics:\n  - slug: a\n    slug: b\n", `c.yaml:6:5: mapping key "slug" already defined at [5:5]`},
		{"bad slug", good + "topics:\n  - slug: Bad_Slug\n", `c.yaml:5:11: topics[0].slug: slug "Bad_Slug" must match [a-z0-9-]+`},
		{"duplicate slug", good + "topics:\n  - slug: a\n  - slug: a\n", `c.yaml:6:11: topics[1].slug: duplicate topic slug "a"`},
		{"missing slug", good + "topics:\n  - title: A\n", `c.yaml:5:10: topics[0]: slug is required`},
		{"unknown source type", "sources:\n  - name: x\n    type: rss\ntopics:\n  - slug: a\n", `c.yaml:3:11: sources[0].type: unknown source type "rss" (want huggingface, arxiv or html)`},
		{"missing source type", "sources:\n  - name: x\ntopics:\n  - slug: a\n", `c.yaml:2:9: sources[0]: type is required (huggingface, arxiv or html)`},
		{"duplicate source", good + "  - name: hf\n    type: huggingface\ntopics:\n  - slug: a\n", `c.yaml:4:11: sources[1].name: duplicate source name "hf"`},
		{"bad via", "sources:\n  - name: x\n    type: huggingface\n    via: rss\ntopics:\n  - slug: a\n", `c.yaml:4:10: sources[0].via: via "rss" must be api or html`},
		{"bad days", "sources:\n  - name: x\n    type: huggingface\n    days: -1\ntopics:\n  - slug: a\n", `c.yaml:4:11: sources[0].days: days -1 must be between 1 and 31`},
		{"bad limit", good + "topics:\n  - slug: a\n    limit: -3\n", `c.yaml:6:12: topics[0].limit: limit -3 must be between 1 and 10000`},
		{"negative upvotes", good + "topics:\n  - slug: a\n    min_upvotes: -1\n", `c.yaml:6:18: topics[0].min_upvotes: min_upvotes -1 must not be negative`},
		{"field of another type", "sources:\n  - name: x\n    type: huggingface\n    category: cs.LG\ntopics:\n  - slug: a\n", `c.yaml:4:15: sources[0].category: category does not apply to a huggingface source`},
		{"bad view", "sources:\n  - name: x\n    type: huggingface\n    view: yearly\ntopics:\n  - slug: a\n", `c.yaml:4:11: sources[0].view: view "yearly" must be daily, weekly, monthly, trending or search`},
		{"search without q", "sources:\n  - name: x\n    type: huggingface\n    view: search\ntopics:\n  - slug: a\n", `c.yaml:2:9: sources[0]: a search view needs q, the search terms`},
		{"q without search", "sources:\n  - name: x\n    type: huggingface\n    q: llm\ntopics:\n  - slug: a\n", `c.yaml:4:8: sources[0].q: q applies to the search view only`},
		{"days on weekly", "sources:\n  - name: x\n    type: huggingface\n    view: weekly\n    days: 2\ntopics:\n  - slug: a\n", `c.yaml:5:11: sources[0].days: days applies to the daily view only`},
		{"bad arxiv category", "sources:\n  - name: x\n    type: arxiv\n    category: \"cs LG\"\ntopics:\n  - slug: a\n", `c.yaml:4:15: sources[0].category: category "cs LG" is not an arXiv archive or category`},
		{"missing arxiv category", "sources:\n  - name: x\n    type: arxiv\ntopics:\n  - slug: a\n", `c.yaml:2:9: sources[0].category: category "" is not an arXiv archive or category`},
		{"bad arxiv section", "sources:\n  - name: x\n    type: arxiv\n    category: cs\n    include: [new, old]\ntopics:\n  - slug: a\n", `c.yaml:5:20: sources[0].include[1]: section "old" must be new, cross or replace`},
		{"bad html url", "sources:\n  - name: x\n    type: html\n    url: example.org\n    item: li\n    title: h3\ntopics:\n  - slug: a\n", `c.yaml:4:10: sources[0].url: url "example.org" is not an http(s) URL`},
		{"bad selector", "sources:\n  - name: x\n    type: html\n    url: https://example.org/\n    item: \"li[\"\n    title: h3\ntopics:\n  - slug: a\n", `c.yaml:5:11: sources[0].item: `},
		{"missing selector", "sources:\n  - name: x\n    type: html\n    url: https://example.org/\n    item: li\ntopics:\n  - slug: a\n", `c.yaml:2:9: sources[0].title: `},
		{"details on huggingface", "sources:\n  - name: x\n    type: huggingface\n    details: true\ntopics:\n  - slug: a\n", `c.yaml:4:14: sources[0].details: details does not apply to a huggingface source`},
		{"no sources", "topics:\n  - slug: a\n", `c.yaml: sources: at least one source is required`},
		{"no topics", good, `c.yaml: topics: at least one topic is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("got no error")
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			if !strings.HasPrefix(first, tt.want) {
				t.Errorf("got  %q\nwant %q", first, tt.want)
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("got %v, want an error naming the file", err)
	}
}

func TestLoadConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paperfeed.yaml")
	if err := os.WriteFile(path, []byte("sources:\n  - name: hf\n    type: huggingface\ntopics:\n  - slug: x\n    limit: 0x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":6:") {
		t.Errorf("got %v, want an error starting with %s:6:", err, path)
	}
}

func TestParseConfigTopicErrors(t *testing.T) {
	const head = "sources:\n  - name: hf\n    type: huggingface\ntopics:\n"
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"unknown field in query", head + "  - slug: robots\n    query: titel:robot\n",
			"c.yaml:6:12: topics[0].query: topic \"robots\": query: unknown field \"titel\" (did you mean title?) at column 1\n  titel:robot\n  ^"},
		{"unbalanced parenthesis", head + "  - slug: a\n  - slug: b\n    query: \"(diffusion OR flow\"\n",
			"c.yaml:7:12: topics[1].query: topic \"b\": query: unbalanced parenthesis"},
		{"empty query", head + "  - slug: a\n    query: \" \"\n", "c.yaml:6:12: topics[0].query: topic \"a\": query: empty query"},
		{"keyword without words", head + "  - slug: a\n    keywords: [\"--\"]\n", "c.yaml:5:9: topics[0]: topic \"a\": keyword \"--\" has no words"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tt.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}
