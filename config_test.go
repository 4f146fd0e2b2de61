package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/paperfeed/paperfeed/deliver"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
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
		{"unknown field", good + "topics:\n  - slug: a\n    titel: A\n", `c.yaml:6:5: topics[0].titel: unknown field; did you mean "title"?`},
		{"wrong type", good + "topics:\n  - slug: a\n    limit: many\n", `c.yaml:6:12: topics[0].limit: expected a whole number, got a string ("many")`},
		{"duplicate key", good + "topics:\n  - slug: a\n    slug: b\n", `c.yaml:6:5: topics[0].slug: given twice (first on line 5); keep one`},
		{"bad slug", good + "topics:\n  - slug: Bad_Slug\n", `c.yaml:5:11: topics[0].slug: slug "Bad_Slug" must match [a-z0-9-]+`},
		{"duplicate slug", good + "topics:\n  - slug: a\n  - slug: a\n", `c.yaml:6:11: topics[1].slug: duplicate topic slug "a"`},
		{"missing slug", good + "topics:\n  - title: A\n", `c.yaml:5:5: topics[0]: slug is required`},
		{"unknown source type", "sources:\n  - name: x\n    type: rss\ntopics:\n  - slug: a\n", `c.yaml:3:11: sources[0].type: unknown source type "rss" (want huggingface, arxiv or html)`},
		{"misspelt source type", "sources:\n  - name: x\n    type: hugingface\ntopics:\n  - slug: a\n", `c.yaml:3:11: sources[0].type: unknown source type "hugingface" (want huggingface, arxiv or html); did you mean "huggingface"?`},
		{"misspelt via", "sources:\n  - name: x\n    type: huggingface\n    via: API\ntopics:\n  - slug: a\n", `c.yaml:4:10: sources[0].via: via "API" must be api or html; did you mean "api"?`},
		{"misspelt view", "sources:\n  - name: x\n    type: huggingface\n    view: dialy\ntopics:\n  - slug: a\n", `c.yaml:4:11: sources[0].view: view "dialy" must be daily, weekly, monthly, trending or search; did you mean "daily"?`},
		{"misspelt section", "sources:\n  - name: x\n    type: arxiv\n    category: cs\n    include: [new, crosss]\ntopics:\n  - slug: a\n", `c.yaml:5:20: sources[0].include[1]: section "crosss" must be new, cross or replace; did you mean "cross"?`},
		{"missing source type", "sources:\n  - name: x\ntopics:\n  - slug: a\n", `c.yaml:2:5: sources[0]: type is required (huggingface, arxiv or html)`},
		{"duplicate source", good + "  - name: hf\n    type: huggingface\ntopics:\n  - slug: a\n", `c.yaml:4:11: sources[1].name: duplicate source name "hf"`},
		{"bad via", "sources:\n  - name: x\n    type: huggingface\n    via: rss\ntopics:\n  - slug: a\n", `c.yaml:4:10: sources[0].via: via "rss" must be api or html`},
		{"bad days", "sources:\n  - name: x\n    type: huggingface\n    days: -1\ntopics:\n  - slug: a\n", `c.yaml:4:11: sources[0].days: days -1 must be between 1 and 31`},
		{"bad limit", good + "topics:\n  - slug: a\n    limit: -3\n", `c.yaml:6:12: topics[0].limit: limit -3 must be between 1 and 10000`},
		{"negative upvotes", good + "topics:\n  - slug: a\n    min_upvotes: -1\n", `c.yaml:6:18: topics[0].min_upvotes: min_upvotes -1 must not be negative`},
		{"field of another type", "sources:\n  - name: x\n    type: huggingface\n    category: cs.LG\ntopics:\n  - slug: a\n", `c.yaml:4:15: sources[0].category: category does not apply to a huggingface source`},
		{"bad view", "sources:\n  - name: x\n    type: huggingface\n    view: yearly\ntopics:\n  - slug: a\n", `c.yaml:4:11: sources[0].view: view "yearly" must be daily, weekly, monthly, trending or search`},
		{"search without q", "sources:\n  - name: x\n    type: huggingface\n    view: search\ntopics:\n  - slug: a\n", `c.yaml:2:5: sources[0]: a search view needs q, the search terms`},
		{"q without search", "sources:\n  - name: x\n    type: huggingface\n    q: llm\ntopics:\n  - slug: a\n", `c.yaml:4:8: sources[0].q: q applies to the search view only`},
		{"days on weekly", "sources:\n  - name: x\n    type: huggingface\n    view: weekly\n    days: 2\ntopics:\n  - slug: a\n", `c.yaml:5:11: sources[0].days: days applies to the daily view only`},
		{"bad arxiv category", "sources:\n  - name: x\n    type: arxiv\n    category: \"cs LG\"\ntopics:\n  - slug: a\n", `c.yaml:4:15: sources[0].category: category "cs LG" is not an arXiv archive or category`},
		{"missing arxiv category", "sources:\n  - name: x\n    type: arxiv\ntopics:\n  - slug: a\n", `c.yaml:2:5: sources[0].category: category "" is not an arXiv archive or category`},
		{"bad arxiv section", "sources:\n  - name: x\n    type: arxiv\n    category: cs\n    include: [new, old]\ntopics:\n  - slug: a\n", `c.yaml:5:20: sources[0].include[1]: section "old" must be new, cross or replace`},
		{"bad html url", "sources:\n  - name: x\n    type: html\n    url: example.org\n    item: li\n    title: h3\ntopics:\n  - slug: a\n", `c.yaml:4:10: sources[0].url: url "example.org" is not an http(s) URL`},
		{"bad selector", "sources:\n  - name: x\n    type: html\n    url: https://example.org/\n    item: \"li[\"\n    title: h3\ntopics:\n  - slug: a\n", `c.yaml:5:11: sources[0].item: `},
		{"missing selector", "sources:\n  - name: x\n    type: html\n    url: https://example.org/\n    item: li\ntopics:\n  - slug: a\n", `c.yaml:2:5: sources[0].title: `},
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
			`c.yaml:6:12: topics[0] (robots).query: unknown field "titel" (did you mean title?) at column 1 in "titel:robot"`},
		{"unbalanced parenthesis", head + "  - slug: a\n  - slug: b\n    query: \"(diffusion OR flow\"\n",
			`c.yaml:7:12: topics[1] (b).query: unbalanced parenthesis: expected a closing ")" at column 1 in "(diffusion OR flow"`},
		{"empty query", head + "  - slug: a\n    query: \" \"\n", `c.yaml:6:12: topics[0] (a).query: empty query at column 1 in " "`},
		{"query on lines of its own", head + "  - slug: a\n    query: >-\n      robot AND\n      (arm OR\n", `c.yaml:6:12: topics[0] (a).query: expected a term after OR at column 18 in "robot AND (arm OR"`},
		{"keyword without words", head + "  - slug: a\n    keywords: [robot, \"--\"]\n",
			`c.yaml:6:23: topics[0].keywords[1]: topic "a": keyword "--" has no words (letters or digits)`},
		{"exclude without words", head + "  - slug: a\n    exclude:\n      - \"*\"\n",
			`c.yaml:7:9: topics[0].exclude[0]: topic "a": exclude keyword "*" has no words (letters or digits)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tt.yaml))
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestParseConfigSchemaErrors: a field of the wrong name or a value of the
// wrong kind is reported with its field path and what it should be, never
// decoded into something else.
func TestParseConfigSchemaErrors(t *testing.T) {
	const src = "sources:\n  - name: hf\n    type: huggingface\n"
	const head = src + "topics:\n"
	tests := []struct {
		name string
		yaml string
		want string // the whole error
	}{
		{"unknown field, near a valid one", head + "  - slug: a\n  - slug: b\n  - slug: agents\n    title: Agents\n    description: LLM agents\n    min_upvotes: 1\n    limit: 10\n    keyword: [agent]\n",
			`config.yaml:12:5: topics[2].keyword: unknown field; did you mean "keywords"?`},
		{"unknown field, near none", head + "  - slug: a\n    colour: red\n",
			`config.yaml:6:5: topics[0].colour: unknown field; valid fields are slug, title, description, keywords, exclude, query, min_upvotes, limit, like, unlike, top, min_score`},
		{"unknown source field", "sources:\n  - name: x\n    type: arxiv\n    categroy: cs.LG\ntopics:\n  - slug: a\n",
			`config.yaml:4:5: sources[0].categroy: unknown field; did you mean "category"?`},
		{"unknown top-level key", "sourcs:\n  - name: hf\n    type: huggingface\ntopics:\n  - slug: a\n",
			`config.yaml:1:1: sourcs: unknown field; did you mean "sources"?`},
		{"unknown top-level key, near none", src + "topics:\n  - slug: a\nfeeds: 3\n",
			`config.yaml:6:1: feeds: unknown field; valid fields are sources, topics, deliver, websub`},
		{"scalar for a list", head + "  - slug: a\n    keywords: diffusion\n",
			`config.yaml:6:15: topics[0].keywords: expected a list, e.g. [diffusion], got a string`},
		{"map for a list", head + "  - slug: a\n    exclude: {a: b}\n",
			`config.yaml:6:15: topics[0].exclude: expected a list, got a map`},
		{"list for a string", head + "  - slug: a\n    title: [A, B]\n",
			`config.yaml:6:12: topics[0].title: expected a string, got a list`},
		{"map for a string", head + "  - slug: a\n    query:\n      robot: arm\n",
			`config.yaml:7:7: topics[0].query: expected a string, got a map`},
		{"number for a string", head + "  - slug: 2024\n",
			`config.yaml:5:11: topics[0].slug: expected a string, got a number; quote it: "2024"`},
		{"number in a list of strings", head + "  - slug: a\n    keywords: [robot, 3]\n",
			`config.yaml:6:23: topics[0].keywords[1]: expected a string, got a number; quote it: "3"`},
		{"boolean for a string", head + "  - slug: a\n    title: true\n",
			`config.yaml:6:12: topics[0].title: expected a string, got true or false; quote it: "true"`},
		{"fraction for a whole number", head + "  - slug: a\n    limit: 1.5\n",
			`config.yaml:6:12: topics[0].limit: expected a whole number, got 1.5`},
		{"list for a whole number", head + "  - slug: a\n    limit: [1]\n",
			`config.yaml:6:12: topics[0].limit: expected a whole number, got a list`},
		{"number too large", head + "  - slug: a\n    limit: 99999999999999999999\n",
			`config.yaml:6:12: topics[0].limit: 99999999999999999999 is too large`},
		{"unsigned number too large", head + "  - slug: a\n    limit: 18446744073709551615\n",
			`config.yaml:6:12: topics[0].limit: 18446744073709551615 is too large`},
		{"string for a boolean", "sources:\n  - name: x\n    type: arxiv\n    category: cs\n    details: yes\ntopics:\n  - slug: a\n",
			`config.yaml:5:14: sources[0].details: expected true or false, got a string ("yes")`},
		{"number for a boolean", "sources:\n  - name: x\n    type: arxiv\n    category: cs\n    details: 1\ntopics:\n  - slug: a\n",
			`config.yaml:5:14: sources[0].details: expected true or false, got a number`},
		{"scalar for an entry", "sources:\n  - hf\ntopics:\n  - slug: a\n",
			`config.yaml:2:5: sources[0]: expected a map of fields such as "name: hf", got a string`},
		{"list for an entry", src + "topics:\n  - [a]\n",
			`config.yaml:5:5: topics[0]: expected a map of fields such as "slug: ...", got a list`},
		{"map for a list of entries", "sources:\n  name: hf\n  type: huggingface\ntopics:\n  - slug: a\n",
			`config.yaml:2:3: sources: expected a list, one entry per item starting with "- name:", got a map`},
		{"scalar for a list of entries", src + "topics: all\n",
			`config.yaml:4:9: topics: expected a list, one entry per item starting with "- slug:", got a string`},
		{"not a map at all", "- sources\n",
			`config.yaml:1:1: expected a map of fields such as "sources: ...", got a list`},
		{"key given twice", head + "  - slug: a\n    title: A\n    limit: 3\n    title: B\n",
			`config.yaml:8:5: topics[0].title: given twice (first on line 6); keep one`},
		{"second document", head + "  - slug: a\n---\ntopics:\n  - slug: b\n",
			`config.yaml:7:1: a config is one YAML document; this is a second one (after ---): merge it into the first`},
		{"alias of the wrong kind", "sources:\n  - name: &n [hf]\n    type: huggingface\ntopics:\n  - slug: *n\n",
			"config.yaml:2:14: sources[0].name: expected a string, got a list\nconfig.yaml:2:14: topics[0].slug: expected a string, got a list"},
		{"merge key after fields", head + "  - &a\n    slug: a\n  - slug: b\n    <<: *a\n",
			`config.yaml:8:5: topics[1]: << must come first, so that the fields after it override what it merges`},
		{"merged fields are checked", "defaults: &d {limit: many}\n" + head + "  - <<: *d\n    slug: a\n",
			"config.yaml:1:1: defaults: unknown field; valid fields are sources, topics, deliver, websub\nconfig.yaml:1:22: topics[0].limit: expected a whole number, got a string (\"many\")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("config.yaml", []byte(tt.yaml))
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestParseConfigAcceptsYAMLFeatures: the schema check takes what the
// decoder takes: anchors and aliases, merge keys, tags, block scalars,
// empty values, quoted numbers.
func TestParseConfigAcceptsYAMLFeatures(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte(`
sources:
  - name: hf
    type: huggingface
    hosts: &cdn [cdn-lfs.huggingface.co]
  - name: lab
    type: html
    url: https://lab.example.org/
    item: li
    title: h3
    hosts: *cdn
topics:
  - &robots
    slug: robots
    title: !!str 2024
    keywords: &kw [robot*, "3d"]
    limit:
  - <<: *robots
    slug: arms
    exclude: *kw
    query: |
      manipulation AND
      arm
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sources[1].Hosts; len(got) != 1 || got[0] != "cdn-lfs.huggingface.co" {
		t.Errorf("aliased hosts: got %q", got)
	}
	robots, arms := cfg.Topics[0], cfg.Topics[1]
	if robots.Title != "2024" || robots.Limit != defaultLimit || len(robots.Keywords) != 2 || robots.Keywords[1] != "3d" {
		t.Errorf("robots: got %+v", robots)
	}
	if arms.Title != "2024" || len(arms.Keywords) != 2 || len(arms.Exclude) != 2 || arms.Query != "manipulation AND\narm\n" {
		t.Errorf("arms (merged from robots): got %+v", arms)
	}
}

// TestParseConfigEveryErrorOneLine: all the mistakes of a file come at
// once, each on one line, so that a log record (a reload's) holds them.
func TestParseConfigEveryErrorOneLine(t *testing.T) {
	const head = "sources:\n  - name: hf\n    type: huggingface\ntopics:\n"
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"schema", head + "  - slug: a\n    keyword: [x]\n    limit: ten\n  - slug: b\n    title: [B]\n", []string{
			`c.yaml:6:5: topics[0].keyword: unknown field; did you mean "keywords"?`,
			`c.yaml:7:12: topics[0].limit: expected a whole number, got a string ("ten")`,
			`c.yaml:9:12: topics[1].title: expected a string, got a list`,
		}},
		{"validation", head + "  - slug: A\n    query: \"robot\\tAND\"\n  - slug: b\n    query: \"x\\n)\"\n", []string{
			`c.yaml:5:11: topics[0].slug: slug "A" must match [a-z0-9-]+`,
			`c.yaml:6:12: topics[0] (A).query: expected a term after AND at column 10 in "robot\tAND"`,
			`c.yaml:8:12: topics[1] (b).query: unbalanced parenthesis: unexpected ")" at column 3 in "x\n)"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("got no error")
			}
			parts := unjoin(err)
			if len(parts) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(parts), len(tt.want), err)
			}
			for i, e := range parts {
				if e.Error() != tt.want[i] {
					t.Errorf("error %d:\ngot  %s\nwant %s", i+1, e, tt.want[i])
				}
			}
		})
	}
}

// TestParseConfigQueryErrorCaret: a query error keeps its
// *topic.QueryError, whose Caret a terminal can print under the line.
func TestParseConfigQueryErrorCaret(t *testing.T) {
	_, err := ParseConfig("c.yaml", []byte("sources:\n  - name: hf\n    type: huggingface\ntopics:\n  - slug: a\n  - slug: agents\n    query: (foo) AND bar)\n"))
	var qe *topic.QueryError
	if !errors.As(err, &qe) {
		t.Fatalf("got %v, want an error holding a *topic.QueryError", err)
	}
	if want := `c.yaml:7:12: topics[1] (agents).query: unbalanced parenthesis: unexpected ")" at column 14 in "(foo) AND bar)"`; err.Error() != want {
		t.Errorf("error:\ngot  %s\nwant %s", err, want)
	}
	if want := "  (foo) AND bar)\n               ^"; qe.Caret() != want {
		t.Errorf("caret:\ngot\n%s\nwant\n%s", qe.Caret(), want)
	}
}

func TestParseConfigHosts(t *testing.T) {
	const tail = "topics:\n  - slug: a\n"
	cfg, err := ParseConfig("c.yaml", []byte("sources:\n  - name: hf\n    type: huggingface\n    hosts: [cdn-lfs.huggingface.co, 127.0.0.1]\n"+
		"  - name: ax\n    type: arxiv\n    category: cs.LG\n    hosts: [export.arxiv.org]\n"+
		"  - name: lab\n    type: html\n    url: https://lab.example.org/\n    item: li\n    title: h3\n    hosts: [papers.lab.example.org]\n"+tail))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sources[0].Hosts; len(got) != 2 || got[1] != "127.0.0.1" {
		t.Errorf("huggingface hosts: got %q", got)
	}
	if got := cfg.Sources[1].Hosts; len(got) != 1 || got[0] != "export.arxiv.org" {
		t.Errorf("arxiv hosts: got %q", got)
	}
	if got := cfg.Sources[2].Hosts; len(got) != 1 || got[0] != "papers.lab.example.org" {
		t.Errorf("html hosts: got %q", got)
	}

	tests := []struct {
		host string
		want string
	}{
		{"https://CDN.example.org/files", `host "https://CDN.example.org/files" must be a lower-case host name such as "cdn.example.org" (no scheme, port or path)`},
		{"Example.org", `host "Example.org" must be a lower-case host name such as "example.org" (no scheme, port or path)`},
		{"example.org:443", `host "example.org:443" must be a lower-case host name such as "example.org" (no scheme, port or path)`},
		{"example.org/", `host "example.org/" must be a lower-case host name such as "example.org" (no scheme, port or path)`},
		{"", `host "" must be a lower-case host name (no scheme, port or path)`},
		{"under_score.org", `host "under_score.org" must be a lower-case host name (no scheme, port or path)`},
		{"-x.org", `host "-x.org" must be a lower-case host name (no scheme, port or path)`},
		{"*.example.org", `host "*.example.org" must be a lower-case host name (no scheme, port or path)`},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(fmt.Sprintf("sources:\n  - name: hf\n    type: huggingface\n    hosts: [ok.org, %q]\n", tt.host)+tail))
			want := `c.yaml:4:21: sources[0].hosts[1]: ` + tt.want
			if err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}
}

// TestDecodeErrorIsPlaced: an error of go-yaml's decoder, should one pass
// the schema check, is placed at its token and given the field path of the
// node there.
func TestDecodeErrorIsPlaced(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"value", "sources:\n  - name: hf\ntopics:\n  - slug: a\n    limit: many\n",
			`c.yaml:5:12: topics[0].limit: cannot unmarshal string into Go struct field Config.Topics of type int`},
		{"key", "sources:\n  - name: hf\n    nmae: x\n",
			`c.yaml:3:5: sources[0].nmae: unknown field "nmae"`},
		{"top-level key", "sourcs: []\n", `c.yaml:1:1: sourcs: unknown field "sourcs"`},
		{"list item", "topics:\n  - slug: a\n    keywords: [a, [b]]\n",
			`c.yaml:3:19: topics[0].keywords[1]: cannot unmarshal []interface {} into Go struct field Config.Topics of type string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, err := parser.ParseBytes([]byte(tt.yaml), 0)
			if err != nil {
				t.Fatal(err)
			}
			var c Config
			err = yaml.UnmarshalWithOptions([]byte(tt.yaml), &c, yaml.DisallowUnknownField())
			if err == nil {
				t.Fatal("the decoder took it")
			}
			if got := decodeError("c.yaml", file, err).Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	// Not one of go-yaml's: no position, and still one line.
	if got, want := decodeError("c.yaml", nil, errors.New("two\nlines")).Error(), "c.yaml: two lines"; got != want {
		t.Errorf("plain error: got %q, want %q", got, want)
	}
}

func TestNearest(t *testing.T) {
	valid := []string{"slug", "title", "description", "keywords", "exclude", "query", "min_upvotes", "limit"}
	tests := []struct {
		name, want string
	}{
		{"keyword", "keywords"},
		{"titel", "title"},  // a swap is one edit
		{"Title", "title"},  // case is ignored
		{"querry", "query"}, // one extra letter
		{"minupvotes", "min_upvotes"},
		{"descripton", "description"},
		{"tags", ""}, // two edits from "slug"? too far for four letters
		{"x", ""},    // one letter is never close
		{"colour", ""},
	}
	for _, tt := range tests {
		got, ok := nearest(tt.name, valid)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("nearest(%q) = %q, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}

// lookupIn is a lookup over a fixed environment.
func lookupIn(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

const deliverHead = "sources:\n  - name: hf\n    type: huggingface\ntopics:\n  - slug: diffusion\n  - slug: agents\n    title: LLM agents\n"

// TestParseConfigDeliver: the example, with ${NAME} read from the
// environment given, defaults filled in, and the targets as package
// deliver takes them.
func TestParseConfigDeliver(t *testing.T) {
	cfg, err := ParseConfigEnv("c.yaml", []byte(deliverHead+`
deliver:
  - name: lab-slack
    type: slack
    url: ${SLACK_WEBHOOK_URL}
    topics: [diffusion, agents]
    mode: each
    backlog: 0
  - name: me
    type: email
    to: [me@example.org, "Lab <lab@example.org>"]
    smtp: ${SMTP_URL}
    from: paperfeed@example.org
    mode: digest
  - name: hook
    type: webhook
    url: https://example.org/paperfeed?k=${HOOK_KEY}
    secret: ${HOOK_SECRET}
  - name: phone
    type: ntfy
    url: https://ntfy.example.org/papers
    mode: digest
    at: "18:30"
`), lookupIn(map[string]string{
		"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X",
		"SMTP_URL":          "smtps://bot:pw@mail.example.org",
		"HOOK_KEY":          "k1", "HOOK_SECRET": "s3cret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Targets("https://papers.example.org")
	if len(got) != 4 {
		t.Fatalf("%d targets, want 4", len(got))
	}
	slack, mail, hook, phone := got[0], got[1], got[2], got[3]
	if slack.URL != "https://hooks.slack.com/services/T/B/X" || slack.Backlog != 0 || slack.Mode != "each" || !slices.Equal(slack.Topics, []string{"diffusion", "agents"}) {
		t.Errorf("slack: %+v", slack)
	}
	if mail.SMTP != "smtps://bot:pw@mail.example.org" || mail.Mode != "digest" || mail.At != "08:00" || mail.Backlog != defaultBacklog || len(mail.To) != 2 {
		t.Errorf("email: %+v", mail)
	}
	if hook.URL != "https://example.org/paperfeed?k=k1" || hook.Secret != "s3cret" || hook.Mode != "each" {
		t.Errorf("webhook: %+v", hook)
	}
	if phone.At != "18:30" || phone.Titles["agents"] != "LLM agents" || phone.SiteURL != "https://papers.example.org" {
		t.Errorf("ntfy: %+v", phone)
	}
	// And package deliver takes them as they are.
	if _, err := deliver.New(got, func(func(*store.Store) error) error { return nil }, slog.New(slog.DiscardHandler), time.Now); err != nil {
		t.Errorf("deliver.New: %v", err)
	}
}

// TestParseConfigDeliverErrors: every mistake in a delivery is located at
// its field; a missing variable is named; no value of a url, smtp or secret
// is shown.
func TestParseConfigDeliverErrors(t *testing.T) {
	const secret = "TOPSECRETvalue"
	environ := lookupIn(map[string]string{"SECRET_URL": "ftp://x/" + secret, "EMPTY": "", "SMTP_URL": "imap://u:" + secret + "@h"})
	tests := []struct {
		name, yaml, want string
	}{
		{"missing variable", "  - name: a\n    type: slack\n    url: ${SLACK_WEBHOOK_URL}\n",
			`c.yaml:11:10: deliver[0].url: environment variable SLACK_WEBHOOK_URL is not set or empty`},
		{"empty variable", "  - name: a\n    type: webhook\n    url: https://x.org/\n    secret: ${EMPTY}\n",
			`c.yaml:12:13: deliver[0].secret: environment variable EMPTY is not set or empty`},
		{"unclosed variable", "  - name: a\n    type: slack\n    url: https://x/${SLACK\n",
			`c.yaml:11:10: deliver[0].url: a ${ is not closed by }`},
		{"bad variable name", "  - name: a\n    type: slack\n    url: ${1X}\n",
			`c.yaml:11:10: deliver[0].url: ${1X} is not an environment variable's name`},
		{"bad url from the environment", "  - name: a\n    type: discord\n    url: ${SECRET_URL}\n",
			`c.yaml:11:10: deliver[0].url: url is not an http or https URL`},
		{"bad smtp", "  - name: a\n    type: email\n    smtp: ${SMTP_URL}\n    to: [a@example.org]\n    from: p@example.org\n",
			`c.yaml:11:11: deliver[0].smtp: smtp must start with smtp:// or smtps://`},
		{"no name", "  - type: slack\n    url: https://x.org/\n", `c.yaml:9:5: deliver[0]: name is required`},
		{"bad name", "  - name: Lab\n    type: slack\n    url: https://x.org/\n", `c.yaml:9:11: deliver[0].name: name "Lab" must match [a-z0-9-]+`},
		{"duplicate name", "  - name: a\n    type: slack\n    url: https://x.org/\n  - name: a\n    type: ntfy\n    url: https://x.org/\n",
			`c.yaml:12:11: deliver[1].name: duplicate delivery name "a"`},
		{"no type", "  - name: a\n", `c.yaml:9:5: deliver[0]: type is required (slack, discord, webhook, ntfy or email)`},
		{"unknown type", "  - name: a\n    type: slak\n", `c.yaml:10:11: deliver[0].type: unknown delivery type "slak" (want slack, discord, webhook, ntfy or email); did you mean "slack"?`},
		{"field of another type", "  - name: a\n    type: slack\n    url: https://x.org/\n    secret: x\n",
			`c.yaml:12:13: deliver[0].secret: secret does not apply to type slack`},
		{"url on email", "  - name: a\n    type: email\n    url: https://x.org/\n    smtp: smtp://h\n    to: [a@example.org]\n    from: p@example.org\n",
			`c.yaml:11:10: deliver[0].url: url does not apply to type email`},
		{"to on ntfy", "  - name: a\n    type: ntfy\n    url: https://x.org/\n    to: [a@example.org]\n",
			`c.yaml:12:9: deliver[0].to: to does not apply to type ntfy`},
		{"unknown topic", "  - name: a\n    type: slack\n    url: https://x.org/\n    topics: [agents, agnets]\n",
			`c.yaml:12:22: deliver[0].topics[1]: topic "agnets" is not a configured topic; did you mean "agents"?`},
		{"topic twice", "  - name: a\n    type: slack\n    url: https://x.org/\n    topics: [agents, agents]\n",
			`c.yaml:12:22: deliver[0].topics[1]: topic "agents" is listed twice`},
		{"bad mode", "  - name: a\n    type: slack\n    url: https://x.org/\n    mode: digets\n",
			`c.yaml:12:11: deliver[0].mode: mode "digets" must be each or digest; did you mean "digest"?`},
		{"at on each", "  - name: a\n    type: slack\n    url: https://x.org/\n    at: \"08:00\"\n",
			`c.yaml:12:9: deliver[0].at: at applies to mode digest only`},
		{"bad at", "  - name: a\n    type: slack\n    url: https://x.org/\n    mode: digest\n    at: \"8 am\"\n",
			`c.yaml:13:9: deliver[0].at: at "8 am" must be a time of day HH:MM (00:00 to 23:59, UTC)`},
		{"negative backlog", "  - name: a\n    type: slack\n    url: https://x.org/\n    backlog: -1\n",
			`c.yaml:12:14: deliver[0].backlog: backlog -1 must not be negative`},
		{"backlog not a number", "  - name: a\n    type: slack\n    url: https://x.org/\n    backlog: three\n",
			`c.yaml:12:14: deliver[0].backlog: expected a whole number, got a string ("three")`},
		{"no url", "  - name: a\n    type: webhook\n", `c.yaml:9:5: deliver[0]: a webhook delivery needs url`},
		{"email without smtp", "  - name: a\n    type: email\n    to: [a@example.org]\n    from: p@example.org\n",
			`c.yaml:9:5: deliver[0]: an email delivery needs smtp, the server's URL`},
		{"email without to", "  - name: a\n    type: email\n    smtp: smtp://h\n    from: p@example.org\n",
			`c.yaml:9:5: deliver[0]: an email delivery needs to, at least one address`},
		{"email bad to", "  - name: a\n    type: email\n    smtp: smtp://h\n    to: [a@example.org, nobody]\n    from: p@example.org\n",
			`c.yaml:12:25: deliver[0].to[1]: to[1] is not an e-mail address`},
		{"email without from", "  - name: a\n    type: email\n    smtp: smtp://h\n    to: [a@example.org]\n",
			`c.yaml:9:5: deliver[0]: an email delivery needs from, the sender's address`},
		{"unknown field", "  - name: a\n    type: slack\n    url: https://x.org/\n    topic: [agents]\n",
			`c.yaml:12:5: deliver[0].topic: unknown field; did you mean "topics"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfigEnv("c.yaml", []byte(deliverHead+"deliver:\n"+tt.yaml), environ)
			if err == nil {
				t.Fatal("got no error")
			}
			if first, _, _ := strings.Cut(err.Error(), "\n"); first != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

// TestParseConfigReadsTheEnvironment: ParseConfig takes ${NAME} from the
// process's environment.
func TestParseConfigReadsTheEnvironment(t *testing.T) {
	t.Setenv("PAPERFEED_TEST_HOOK", "https://example.org/hook")
	cfg, err := ParseConfig("c.yaml", []byte(deliverHead+"deliver:\n  - name: a\n    type: webhook\n    url: ${PAPERFEED_TEST_HOOK}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Deliver[0].URL != "https://example.org/hook" {
		t.Errorf("url = %q", cfg.Deliver[0].URL)
	}
}

func TestExpandEnv(t *testing.T) {
	lookup := lookupIn(map[string]string{"A": "1", "B_2": "two"})
	for _, tt := range []struct {
		in, want, err string
	}{
		{"plain", "plain", ""},
		{"${A}", "1", ""},
		{"x${A}y${B_2}z", "x1ytwoz", ""},
		{"$A and $", "$A and $", ""},
		{"${C}", "", "environment variable C is not set or empty"},
		{"${A}${", "", "a ${ is not closed by }"},
		{"${}", "", "${} is not an environment variable's name"},
	} {
		s := tt.in
		err := expandEnv(&s, lookup)
		switch {
		case tt.err == "" && (err != nil || s != tt.want):
			t.Errorf("expandEnv(%q) = %q, %v; want %q", tt.in, s, err, tt.want)
		case tt.err != "" && (err == nil || err.Error() != tt.err || s != tt.in):
			t.Errorf("expandEnv(%q) = %q, %v; want the error %q and the value untouched", tt.in, s, err, tt.err)
		}
	}
}

func TestParseConfigWebSub(t *testing.T) {
	const base = "sources:\n  - name: hf\n    type: huggingface\ntopics:\n  - slug: all\n"
	cfg, err := ParseConfig("config.yaml", []byte(base+"websub:\n  hub: https://hub.example.org/\n"))
	if err != nil || cfg.WebSub.Hub != "https://hub.example.org/" {
		t.Fatalf("websub.hub: %+v %v", cfg, err)
	}
	_, err = ParseConfig("config.yaml", []byte(base+"websub:\n  hub: hub.example.org\n"))
	if err == nil || !strings.Contains(err.Error(), "config.yaml:7:") || !strings.Contains(err.Error(), "websub.hub:") {
		t.Errorf("a hub that is no URL: %v", err)
	}
	_, err = ParseConfig("config.yaml", []byte(base+"websub:\n  hubs: https://hub.example.org/\n"))
	if err == nil || !strings.Contains(err.Error(), `did you mean "hub"?`) {
		t.Errorf("a misspelt hub field: %v", err)
	}
}
