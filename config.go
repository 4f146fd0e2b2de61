package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/paperfeed/paperfeed/scrape/listing"
	"github.com/paperfeed/paperfeed/topic"
)

// Config is the YAML configuration: which sources to scrape and which topic
// feeds to build from the history.
type Config struct {
	Sources []SourceConfig `yaml:"sources"`
	Topics  []TopicConfig  `yaml:"topics"`
}

// SourceConfig is one listing to scrape. Which fields apply depends on Type;
// a field set on a type it does not apply to is an error.
type SourceConfig struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`

	// huggingface
	Via  string `yaml:"via"`  // api (default) or html
	View string `yaml:"view"` // daily (default), weekly, monthly, trending, search
	Days int    `yaml:"days"` // daily: how many recent days [3]
	Q    string `yaml:"q"`    // search: the query

	// arxiv
	Category string   `yaml:"category"` // cs.LG, cs, math.OC...
	Include  []string `yaml:"include"`  // sections: new, cross, replace [new, cross]

	// html: any listing page, read by CSS selectors (a trailing @attr takes
	// an attribute instead of the text)
	URL        string `yaml:"url"`
	Item       string `yaml:"item"`
	Title      string `yaml:"title"`
	Link       string `yaml:"link"`
	Abstract   string `yaml:"abstract"`
	Authors    string `yaml:"authors"`
	Date       string `yaml:"date"`
	DateLayout string `yaml:"date_layout"`

	// arxiv and html: fetch each new paper's own page once for what the
	// listing lacks (the abstract, above all)
	Details bool `yaml:"details"`
}

// sourceFields are the type-specific fields each source type takes, by YAML
// name.
var sourceFields = map[string][]string{
	"huggingface": {"via", "view", "days", "q"},
	"arxiv":       {"category", "include", "details"},
	"html":        {"url", "item", "title", "link", "abstract", "authors", "date", "date_layout", "details"},
}

// sourceTypes lists the known types for messages.
const sourceTypes = "huggingface, arxiv or html"

// set returns the YAML names of the type-specific fields that are set.
func (s *SourceConfig) set() []string {
	var names []string
	for name, v := range map[string]bool{
		"via": s.Via != "", "view": s.View != "", "days": s.Days != 0, "q": s.Q != "",
		"category": s.Category != "", "include": s.Include != nil,
		"url": s.URL != "", "item": s.Item != "", "title": s.Title != "", "link": s.Link != "",
		"abstract": s.Abstract != "", "authors": s.Authors != "", "date": s.Date != "", "date_layout": s.DateLayout != "",
		"details": s.Details,
	} {
		if v {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Selectors are an html source's selectors.
func (s *SourceConfig) Selectors() listing.Selectors {
	return listing.Selectors{Item: s.Item, Title: s.Title, Link: s.Link, Abstract: s.Abstract,
		Authors: s.Authors, Date: s.Date, DateLayout: s.DateLayout}
}

// TopicConfig is one topic feed.
type TopicConfig struct {
	Slug        string   `yaml:"slug"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	Keywords    []string `yaml:"keywords"`
	Exclude     []string `yaml:"exclude"`
	Query       string   `yaml:"query"`
	MinUpvotes  int      `yaml:"min_upvotes"`
	Limit       int      `yaml:"limit"`
}

// Spec is the topic as the router takes it.
func (t *TopicConfig) Spec() topic.Spec {
	return topic.Spec{
		Slug: t.Slug, Title: t.Title, Description: t.Description,
		Keywords: t.Keywords, Exclude: t.Exclude, Query: t.Query,
		MinUpvotes: t.MinUpvotes, Limit: t.Limit,
	}
}

// Defaults applied where the config leaves a field out.
const (
	defaultDays  = 3
	defaultLimit = 100
	maxDays      = 31
	maxLimit     = 10000
)

var slugRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// ConfigError is an invalid configuration, located in its file.
type ConfigError struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Column int
	Field  string // YAML path of the offending field, e.g. topics[2].slug
	Msg    string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// LoadConfig reads and validates the config at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes and validates a config. name is the file name used in
// error messages. Unknown fields, wrong types, bad slugs, duplicate names and
// unknown source types are errors that give the file, line and field.
func ParseConfig(name string, data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalWithOptions(data, &c, yaml.DisallowUnknownField()); err != nil {
		ce := &ConfigError{File: name, Msg: err.Error()}
		var ye yaml.Error
		if errors.As(err, &ye) {
			ce.Msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				ce.Line, ce.Column = tk.Position.Line, tk.Position.Column
			}
		}
		return nil, ce
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil { // cannot happen after a successful decode; kept for safety
		return nil, &ConfigError{File: name, Msg: err.Error()}
	}
	v := validator{name: name, file: file}
	c.validate(&v)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return &c, nil
}

// validator collects validation errors, locating each in the YAML source.
type validator struct {
	name string
	file *ast.File
	errs []error
}

func (v *validator) fail(field, format string, args ...any) {
	ce := &ConfigError{File: v.name, Field: field, Msg: fmt.Sprintf(format, args...)}
	// Point at the field itself, or at the closest enclosing node that exists.
	for p := field; p != ""; p = parentPath(p) {
		path, err := yaml.PathString("$." + p)
		if err != nil {
			continue
		}
		n, err := path.FilterFile(v.file)
		if err != nil || n == nil {
			continue
		}
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			ce.Line, ce.Column = tk.Position.Line, tk.Position.Column
			break
		}
	}
	v.errs = append(v.errs, ce)
}

// parentPath strips the last element of a YAML path: topics[2].slug ->
// topics[2] -> topics -> "".
func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return ""
}

func (c *Config) validate(v *validator) {
	if len(c.Sources) == 0 {
		v.fail("sources", "at least one source is required")
	}
	names := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		at := fmt.Sprintf("sources[%d]", i)
		switch {
		case s.Name == "":
			v.fail(at, "name is required")
		case !slugRE.MatchString(s.Name):
			v.fail(at+".name", "name %q must match [a-z0-9-]+", s.Name)
		case names[s.Name]:
			v.fail(at+".name", "duplicate source name %q", s.Name)
		}
		names[s.Name] = true
		s.validate(v, at)
	}
	if len(c.Topics) == 0 {
		v.fail("topics", "at least one topic is required")
	}
	slugs := map[string]bool{}
	for i := range c.Topics {
		t := &c.Topics[i]
		at := fmt.Sprintf("topics[%d]", i)
		switch {
		case t.Slug == "":
			v.fail(at, "slug is required")
		case !slugRE.MatchString(t.Slug):
			v.fail(at+".slug", "slug %q must match [a-z0-9-]+", t.Slug)
		case slugs[t.Slug]:
			v.fail(at+".slug", "duplicate topic slug %q", t.Slug)
		}
		slugs[t.Slug] = true
		if t.Title == "" {
			t.Title = t.Slug
		}
		switch {
		case t.Limit == 0:
			t.Limit = defaultLimit
		case t.Limit < 0 || t.Limit > maxLimit:
			v.fail(at+".limit", "limit %d must be between 1 and %d", t.Limit, maxLimit)
		}
		if t.MinUpvotes < 0 {
			v.fail(at+".min_upvotes", "min_upvotes %d must not be negative", t.MinUpvotes)
		}
		// Compile each topic alone to place its keyword and query errors.
		if _, err := topic.Compile([]topic.Spec{t.Spec()}); err != nil {
			var qe *topic.QueryError
			if errors.As(err, &qe) {
				v.fail(at+".query", "%v", err)
			} else {
				v.fail(at, "%v", err)
			}
		}
	}
}

func (s *SourceConfig) validate(v *validator, at string) {
	allowed, known := sourceFields[s.Type]
	switch {
	case s.Type == "":
		v.fail(at, "type is required (%s)", sourceTypes)
		return
	case !known:
		v.fail(at+".type", "unknown source type %q (want %s)", s.Type, sourceTypes)
		return
	}
	for _, name := range s.set() {
		if !slices.Contains(allowed, name) {
			v.fail(at+"."+name, "%s does not apply to a %s source", name, s.Type)
		}
	}
	switch s.Type {
	case "huggingface":
		switch s.Via {
		case "":
			s.Via = "api"
		case "api", "html":
		default:
			v.fail(at+".via", "via %q must be api or html", s.Via)
		}
		switch s.View {
		case "":
			s.View = "daily"
		case "daily", "weekly", "monthly", "trending", "search":
		default:
			v.fail(at+".view", "view %q must be daily, weekly, monthly, trending or search", s.View)
		}
		switch {
		case s.View == "search" && strings.TrimSpace(s.Q) == "":
			v.fail(at, "a search view needs q, the search terms")
		case s.View != "search" && s.Q != "":
			v.fail(at+".q", "q applies to the search view only")
		}
		switch {
		case s.View != "daily" && s.Days != 0:
			v.fail(at+".days", "days applies to the daily view only")
		case s.View == "daily" && s.Days == 0:
			s.Days = defaultDays
		case s.Days < 0 || s.Days > maxDays:
			v.fail(at+".days", "days %d must be between 1 and %d", s.Days, maxDays)
		}
	case "arxiv":
		if !arxivCategoryRE.MatchString(s.Category) {
			v.fail(at+".category", "category %q is not an arXiv archive or category (cs, cs.LG, math.OC...)", s.Category)
		}
		for i, sec := range s.Include {
			if sec != "new" && sec != "cross" && sec != "replace" {
				v.fail(fmt.Sprintf("%s.include[%d]", at, i), "section %q must be new, cross or replace", sec)
			}
		}
	case "html":
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.fail(at+".url", "url %q is not an http(s) URL", s.URL)
		}
		if err := s.Selectors().Validate(); err != nil {
			var se *listing.SelectorError
			for _, e := range unjoin(err) {
				if errors.As(e, &se) {
					v.fail(at+"."+se.Field, "%v", e)
				} else {
					v.fail(at, "%v", e)
				}
			}
		}
	}
}

// arxivCategoryRE matches arXiv archives and categories: cs, cs.LG,
// math.OC, hep-th, cond-mat.stat-mech.
var arxivCategoryRE = regexp.MustCompile(`^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$`)

// unjoin splits an errors.Join error into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
