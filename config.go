package main

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/paperfeed/paperfeed/deliver"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/listing"
	"github.com/paperfeed/paperfeed/topic"
)

// Config is the YAML configuration: which sources to scrape, which topic
// feeds to build from the history, and where to push new papers.
type Config struct {
	Sources []SourceConfig  `yaml:"sources"`
	Topics  []TopicConfig   `yaml:"topics"`
	Deliver []DeliverConfig `yaml:"deliver"`
	WebSub  WebSubConfig    `yaml:"websub"`
}

// WebSubConfig names the WebSub hub every feed advertises and that is told
// when feeds change. PAPERFEED_WEBSUB_HUB, when set, takes its place.
type WebSubConfig struct {
	Hub string `yaml:"hub"`
}

// SourceConfig is one listing to scrape. Which fields apply depends on Type;
// a field set on a type it does not apply to is an error.
type SourceConfig struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`

	// every type: the host names, beyond the source's own, that its
	// redirects may lead to (lower-case, without scheme, port or path)
	Hosts []string `yaml:"hosts"`

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

// hostRE matches a host name as a redirect's URL gives it, lower-cased:
// dot-separated labels of letters, digits and inner hyphens.
var hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

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

	// A like-topic ("more papers like these") ranks the papers its rules
	// take by a model learnt from Like (and Unlike) papers, by arXiv id in
	// normal form, and shows at most Top of them per listing day whose
	// score is at least MinScore (when set). Unlike, Top and MinScore
	// need Like.
	Like     IDList   `yaml:"like"`
	Unlike   IDList   `yaml:"unlike"`
	Top      int      `yaml:"top"`
	MinScore *float64 `yaml:"min_score"`
}

// IDList is a list of arXiv ids as written in the YAML source. An id
// unquoted is a number to YAML, and decoded as one 2607.28580 would lose its
// last digit: the list keeps the text of each item instead.
type IDList []string

// UnmarshalYAML reads the items' source text.
func (l *IDList) UnmarshalYAML(data []byte) error {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return err
	}
	*l = IDList{}
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return nil
	}
	body := file.Docs[0].Body
	if an, ok := body.(*ast.AnchorNode); ok {
		body = an.Value
	}
	seq, ok := body.(*ast.SequenceNode)
	if !ok {
		return fmt.Errorf("expected a list of arXiv ids, got %s", kind(body))
	}
	for _, item := range seq.Values {
		if s, ok := item.(*ast.StringNode); ok {
			*l = append(*l, s.Value)
			continue
		}
		*l = append(*l, item.GetToken().Value)
	}
	return nil
}

// IsLike reports whether t is a like-topic.
func (t *TopicConfig) IsLike() bool { return len(t.Like) > 0 }

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
	// defaultTop is a like-topic's papers per listing day: about what a
	// reader skims of a day's listing, as arxiv-sanity-lite's first page.
	defaultTop = 10
)

var slugRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// ConfigError is an invalid configuration, located in its file. Its Error
// is one line: file:line:column: field: message.
type ConfigError struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Column int
	Field  string // YAML path of the offending field, e.g. topics[2].slug
	// Name is the slug of the topic Field lies in, printed beside its
	// index where the message comes from the topic's own compilation.
	Name string
	Msg  string
	Err  error // the cause, when it is an error of its own: a *topic.QueryError
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	}
	field := e.Field
	if e.Name != "" {
		head, rest, _ := strings.Cut(field, ".")
		field = fmt.Sprintf("%s (%s)", head, e.Name)
		if rest != "" {
			field += "." + rest
		}
	}
	if field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Unwrap is the cause: errors.As finds a query's *topic.QueryError (and
// its Caret) through the config error.
func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig reads and validates the config at path, reading ${NAME} in
// deliveries from the process's environment: LoadConfigEnv with
// os.LookupEnv.
func LoadConfig(path string) (*Config, error) {
	return LoadConfigEnv(path, os.LookupEnv)
}

// LoadConfigEnv reads and validates the config at path; lookup gives the
// environment's values for ${NAME} (see ParseConfigEnv).
func LoadConfigEnv(path string, lookup func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfigEnv(path, data, lookup)
}

// ParseConfig is ParseConfigEnv with the process's environment.
func ParseConfig(name string, data []byte) (*Config, error) {
	return ParseConfigEnv(name, data, os.LookupEnv)
}

// ParseConfigEnv decodes and validates a config. name is the file name used
// in error messages. Every error is a *ConfigError that gives the file,
// line, column and field path (a YAML syntax error has no field path):
// unknown fields (with the nearest valid name), values of the wrong kind,
// keys given twice, bad slugs, duplicate names, unknown source types. All
// of them are reported at once, joined, one per line.
//
// In a delivery's url, smtp, secret, from and to, ${NAME} stands for the
// value lookup gives for NAME (the environment's); a NAME lookup does not
// know, or knows as empty, is an error naming NAME. The values are never
// shown in errors: a webhook URL or an SMTP URL is a credential.
func ParseConfigEnv(name string, data []byte, lookup func(string) (string, bool)) (*Config, error) {
	// Keys given twice are left to the schema check, which names them
	// with their field path.
	file, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, decodeError(name, nil, err)
	}
	if errs := checkSchema(name, file); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// The schema check refused keys given twice; what the decoder sees
	// twice is a merged field and the field that overrides it after <<.
	var c Config
	if err := yaml.UnmarshalWithOptions(data, &c, yaml.DisallowUnknownField(), yaml.AllowDuplicateMapKey()); err != nil {
		// The schema check should have caught it.
		return nil, decodeError(name, file, err)
	}
	v := validator{name: name, file: file, lookup: lookup}
	c.validate(&v)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return &c, nil
}

// decodeError places an error of go-yaml's parser or decoder: at its
// token, and, when file is the parsed config, at the field path of the
// node that token belongs to.
func decodeError(name string, file *ast.File, err error) *ConfigError {
	ce := &ConfigError{File: name, Msg: strings.ReplaceAll(err.Error(), "\n", " ")}
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return ce
	}
	ce.Msg = ye.GetMessage()
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		ce.Line, ce.Column = tk.Position.Line, tk.Position.Column
		if file != nil {
			ce.Field = pathAt(file, tk.Position)
		}
	}
	return ce
}

// pathAt is the field path of the key or value at pos, or "".
func pathAt(file *ast.File, pos *token.Position) string {
	at := func(n ast.Node) bool {
		tk := n.GetToken()
		return tk != nil && tk.Position != nil && tk.Position.Line == pos.Line && tk.Position.Column == pos.Column
	}
	var find func(n ast.Node, path string) (string, bool)
	find = func(n ast.Node, path string) (string, bool) {
		if n == nil {
			return "", false
		}
		switch n := n.(type) {
		case *ast.AnchorNode:
			return find(n.Value, path)
		case *ast.TagNode:
			return find(n.Value, path)
		case *ast.SequenceNode:
			for i, item := range n.Values {
				if p, ok := find(item, fmt.Sprintf("%s[%d]", path, i)); ok {
					return p, true
				}
			}
		case *ast.MappingNode, *ast.MappingValueNode:
			for _, mv := range mappingValues(n) {
				p := joinPath(path, keyName(mv.Key))
				if at(mv.Key) {
					return p, true
				}
				if p, ok := find(mv.Value, p); ok {
					return p, true
				}
			}
		}
		return path, at(n)
	}
	for _, doc := range file.Docs {
		if p, ok := find(doc.Body, ""); ok {
			return p
		}
	}
	return ""
}

// checkSchema checks the YAML tree against the types it decodes into,
// before decoding: go-yaml's decoder stops at the first mistake, names no
// field, and quietly turns a number into a string or 1.5 into 1.
func checkSchema(name string, file *ast.File) []error {
	s := schema{name: name, anchors: anchors{}, resolving: map[ast.Node]bool{}}
	for _, doc := range file.Docs {
		ast.Walk(s.anchors, doc.Body)
	}
	for i, doc := range file.Docs {
		switch {
		case doc.Body == nil:
		case i == 0:
			s.check(doc.Body, reflect.TypeFor[Config](), "")
		default:
			s.fail(doc.Body, "", "a config is one YAML document; this is a second one (after ---): merge it into the first")
		}
	}
	return s.errs
}

// schema is one run of checkSchema.
type schema struct {
	name      string
	anchors   anchors
	resolving map[ast.Node]bool // anchored values being checked through an alias
	errs      []error
}

// anchors are the anchored values of a file by name (&name), for what its
// aliases (*name) stand for.
type anchors map[string]ast.Node

func (a anchors) Visit(n ast.Node) ast.Visitor {
	if an, ok := n.(*ast.AnchorNode); ok {
		a[an.Name.GetToken().Value] = an.Value
	}
	return a
}

func (s *schema) fail(n ast.Node, field, format string, args ...any) {
	ce := &ConfigError{File: s.name, Field: field, Msg: fmt.Sprintf(format, args...)}
	if p := nodePos(n); p != nil {
		ce.Line, ce.Column = p.Line, p.Column
	}
	s.errs = append(s.errs, ce)
}

// nodePos is where a node starts: a mapping at its first key rather than
// at its first colon.
func nodePos(n ast.Node) *token.Position {
	if m := mappingValues(n); len(m) > 0 && m[0].Key != nil {
		n = m[0].Key
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Position
	}
	return nil
}

// check checks that n can decode into a t at field path.
func (s *schema) check(n ast.Node, t reflect.Type, path string) {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return // the zero value; validate says where a value is required
	case *ast.AnchorNode:
		s.check(v.Value, t, path)
		return
	case *ast.AliasNode:
		// The anchored value is checked again for what the alias stands
		// for; an unknown alias is the decoder's to report.
		if target := s.anchors[v.Value.GetToken().Value]; target != nil && !s.resolving[target] {
			s.resolving[target] = true
			s.check(target, t, path)
			delete(s.resolving, target)
		}
		return
	case *ast.TagNode:
		if v.Start.Value == "!!str" && t.Kind() == reflect.String {
			return
		}
		s.check(v.Value, t, path)
		return
	}
	if t == reflect.TypeFor[IDList]() {
		s.checkIDs(n, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		s.check(n, t.Elem(), path) // an optional value: nil when absent
	case reflect.Struct:
		s.checkStruct(n, t, path)
	case reflect.Slice:
		s.checkList(n, t, path)
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode:
		case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
			s.fail(n, path, "expected a string, got %s; quote it: \"%s\"", kind(n), n.GetToken().Value)
		default:
			s.fail(n, path, "expected a string, got %s", kind(n))
		}
	case reflect.Int:
		switch v := n.(type) {
		case *ast.IntegerNode:
			if u, ok := v.Value.(uint64); ok && u > math.MaxInt {
				s.fail(n, path, "%s is too large", v.GetToken().Value)
			}
		case *ast.StringNode:
			if _, err := strconv.ParseInt(v.Value, 10, 64); errors.Is(err, strconv.ErrRange) {
				s.fail(n, path, "%s is too large", v.Value)
			} else {
				s.fail(n, path, "expected a whole number, got a string (%q)", v.Value)
			}
		case *ast.FloatNode:
			s.fail(n, path, "expected a whole number, got %s", v.GetToken().Value)
		default:
			s.fail(n, path, "expected a whole number, got %s", kind(n))
		}
	case reflect.Float64:
		switch v := n.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
		case *ast.InfinityNode, *ast.NanNode:
			s.fail(n, path, "expected a finite number, got %s", v.GetToken().Value)
		case *ast.StringNode:
			s.fail(n, path, "expected a number, got a string (%q)", v.Value)
		default:
			s.fail(n, path, "expected a number, got %s", kind(n))
		}
	case reflect.Bool:
		switch v := n.(type) {
		case *ast.BoolNode:
		case *ast.StringNode:
			s.fail(n, path, "expected true or false, got a string (%q)", v.Value)
		default:
			s.fail(n, path, "expected true or false, got %s", kind(n))
		}
	}
}

// checkIDs checks a list of arXiv ids: strings, or the numbers YAML reads
// an unquoted new-style id as (IDList keeps their text). Aliases inside it
// are refused, since IDList reads the items' own text.
func (s *schema) checkIDs(n ast.Node, path string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		if isScalar(n) {
			s.fail(n, path, "expected a list, e.g. [%s], got %s", n.GetToken().Value, kind(n))
		} else {
			s.fail(n, path, "expected a list of arXiv ids, got %s", kind(n))
		}
		return
	}
	for i, item := range seq.Values {
		switch item.(type) {
		case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode:
		default:
			s.fail(item, fmt.Sprintf("%s[%d]", path, i), "expected an arXiv id, got %s", kind(item))
		}
	}
}

func (s *schema) checkList(n ast.Node, t reflect.Type, path string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		if t.Elem().Kind() == reflect.Struct {
			first, _ := yamlFields(t.Elem())
			s.fail(n, path, "expected a list, one entry per item starting with \"- %s:\", got %s", first[0], kind(n))
		} else if isScalar(n) {
			s.fail(n, path, "expected a list, e.g. [%s], got %s", n.GetToken().Value, kind(n))
		} else {
			s.fail(n, path, "expected a list, got %s", kind(n))
		}
		return
	}
	for i, item := range seq.Values {
		s.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
	}
}

func (s *schema) checkStruct(n ast.Node, t reflect.Type, path string) {
	names, fields := yamlFields(t)
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
	default:
		if isScalar(n) {
			s.fail(n, path, "expected a map of fields such as \"%s: %s\", got %s", names[0], n.GetToken().Value, kind(n))
		} else {
			s.fail(n, path, "expected a map of fields such as \"%s: ...\", got %s", names[0], kind(n))
		}
		return
	}
	lines := map[string]int{} // the line of each key given so far
	for i, mv := range mappingValues(n) {
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			// The decoder lets the last of a merged and a given field
			// win; YAML says the given one does.
			if i > 0 {
				s.fail(mv.Key, path, "<< must come first, so that the fields after it override what it merges")
			}
			s.checkMerge(mv.Value, t, path)
			continue
		}
		key := keyName(mv.Key)
		at := joinPath(path, key)
		if line, dup := lines[key]; dup {
			s.fail(mv.Key, at, "given twice (first on line %d); keep one", line)
			continue
		}
		if p := nodePos(mv.Key); p != nil {
			lines[key] = p.Line
		}
		f, ok := fields[key]
		if !ok {
			s.fail(mv.Key, at, "unknown field; %s", suggest(key, names, "valid fields are"))
			continue
		}
		s.check(mv.Value, f.Type, at)
	}
}

// checkMerge checks the value of a merge key (<<: *defaults), a map or a
// list of maps, as fields of t.
func (s *schema) checkMerge(n ast.Node, t reflect.Type, path string) {
	if seq, ok := n.(*ast.SequenceNode); ok {
		for _, item := range seq.Values {
			s.check(item, t, path)
		}
		return
	}
	s.check(n, t, path)
}

// yamlFields are the YAML names of t's fields, in order, and the fields by
// name.
func yamlFields(t reflect.Type) ([]string, map[string]reflect.StructField) {
	var names []string
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		fields[name] = f
	}
	return names, fields
}

// mappingValues are the key-value pairs of a mapping node, or nil.
func mappingValues(n ast.Node) []*ast.MappingValueNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}
	}
	return nil
}

func keyName(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	return k.String()
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isScalar(n ast.Node) bool {
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return true
	}
	return false
}

// kind names what a node is, for "got ..." in messages.
func kind(n ast.Node) string {
	switch n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "true or false"
	case *ast.SequenceNode:
		return "a list"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a map"
	}
	return n.Type().YAMLName()
}

// suggest ends a message about an unknown name: the nearest valid one when
// it is close, else all of them after intro.
func suggest(name string, valid []string, intro string) string {
	if best, ok := nearest(name, valid); ok {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return intro + " " + strings.Join(valid, ", ")
}

// nearest is the name in valid closest to name, ignoring case, when it is
// close enough to be what was meant: at most a third of name's length in
// edits (at least one), a swap of two neighbouring letters counting as
// one. Ties go to the earlier name in valid.
func nearest(name string, valid []string) (string, bool) {
	name = strings.ToLower(name)
	best, bestD := "", max(1, len(name)/3)+1
	for _, v := range valid {
		if d := editDistance(name, strings.ToLower(v)); d < bestD && d < len(name) {
			best, bestD = v, d
		}
	}
	return best, best != ""
}

// editDistance is the optimal string alignment distance between two
// strings, in bytes: insertions, deletions, substitutions and swaps of
// neighbours.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// validator collects validation errors, locating each in the YAML source.
type validator struct {
	name   string
	file   *ast.File
	lookup func(string) (string, bool) // the environment, for ${NAME}
	errs   []error
}

func (v *validator) fail(field, format string, args ...any) {
	v.add(&ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// add completes ce with the file and the position of its field, or of the
// closest enclosing node that exists.
func (v *validator) add(ce *ConfigError) {
	ce.File = v.name
	for p := ce.Field; p != ""; p = parentPath(p) {
		path, err := yaml.PathString("$." + p)
		if err != nil {
			continue
		}
		n, err := path.FilterFile(v.file)
		if err != nil || n == nil {
			continue
		}
		if pos := nodePos(n); pos != nil {
			ce.Line, ce.Column = pos.Line, pos.Column
			break
		}
	}
	v.errs = append(v.errs, ce)
}

// entryName checks the name of the entry at (a source, a delivery target): set,
// [a-z0-9-]+, and not among seen, which it joins.
func (v *validator) entryName(at, kind, name string, seen map[string]bool) {
	switch {
	case name == "":
		v.fail(at, "name is required")
	case !slugRE.MatchString(name):
		v.fail(at+".name", "name %q must match [a-z0-9-]+", name)
	case seen[name]:
		v.fail(at+".name", "duplicate %s name %q", kind, name)
	}
	seen[name] = true
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
		v.entryName(at, "source", s.Name, names)
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
		t.validateLike(v, at)
		// Compile each topic alone to place its keyword and query errors.
		if _, err := topic.Compile([]topic.Spec{t.Spec()}); err != nil {
			var qe *topic.QueryError
			if errors.As(err, &qe) {
				v.add(&ConfigError{Field: at + ".query", Name: t.Slug, Err: err,
					Msg: fmt.Sprintf("%s at column %d in %q", qe.Msg, qe.Col, qe.Query)})
			} else {
				v.fail(keywordAt(t, at), "%v", err)
			}
		}
	}
	c.validateDeliver(v, slugs)
	if h := c.WebSub.Hub; h != "" {
		if u, err := url.Parse(h); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.fail("websub.hub", "%q is not an http(s) URL; use the hub's URL, such as https://pubsubhubbub.appspot.com/", h)
		}
	}
}

// validateLike checks a topic's like-topic fields and puts its like and
// unlike ids in normal form ("arXiv:2607.23193v2" is "2607.23193").
func (t *TopicConfig) validateLike(v *validator, at string) {
	if !t.IsLike() {
		for _, f := range []struct {
			name string
			set  bool
		}{{"unlike", t.Unlike != nil}, {"top", t.Top != 0}, {"min_score", t.MinScore != nil}} {
			if f.set {
				v.fail(at+"."+f.name, "%s applies to a like-topic only: add like, the arXiv ids of papers the topic is like", f.name)
			}
		}
		if t.Like != nil { // like: []
			v.fail(at+".like", "like needs at least one arXiv id")
		}
		return
	}
	liked := map[string]bool{}
	for _, list := range []struct {
		field string
		ids   []string
	}{{"like", t.Like}, {"unlike", t.Unlike}} {
		seen := map[string]bool{}
		for j, id := range list.ids {
			field := fmt.Sprintf("%s.%s[%d]", at, list.field, j)
			norm, ok := paper.NormalizeArxivID(id)
			switch {
			case !ok:
				v.fail(field, "%q is not an arXiv id (such as 2607.23193 or arXiv:2607.23193v2)", id)
				continue
			case seen[norm]:
				v.fail(field, "%s is listed twice", norm)
			case list.field == "unlike" && liked[norm]:
				v.fail(field, "%s is in both like and unlike", norm)
			}
			seen[norm] = true
			if list.field == "like" {
				liked[norm] = true
			}
			list.ids[j] = norm
		}
	}
	switch {
	case t.Top == 0:
		t.Top = defaultTop
	case t.Top < 0 || t.Top > maxLimit:
		v.fail(at+".top", "top %d must be between 1 and %d", t.Top, maxLimit)
	}
}

// keywordAt is the path of the first keyword or exclude of t that does not
// compile, or at, the topic's, when none fails alone.
func keywordAt(t *TopicConfig, at string) string {
	for _, list := range []struct {
		field string
		words []string
	}{{"keywords", t.Keywords}, {"exclude", t.Exclude}} {
		for i, k := range list.words {
			if _, err := topic.Compile([]topic.Spec{{Slug: t.Slug, Keywords: []string{k}}}); err != nil {
				return fmt.Sprintf("%s.%s[%d]", at, list.field, i)
			}
		}
	}
	return at
}

func (s *SourceConfig) validate(v *validator, at string) {
	allowed, known := sourceFields[s.Type]
	switch {
	case s.Type == "":
		v.fail(at, "type is required (%s)", sourceTypes)
		return
	case !known:
		v.fail(at+".type", "unknown source type %q (want %s)%s", s.Type, sourceTypes, meant(s.Type, "huggingface", "arxiv", "html"))
		return
	}
	for j, h := range s.Hosts {
		if !hostRE.MatchString(h) {
			v.fail(fmt.Sprintf("%s.hosts[%d]", at, j), "host %q must be a lower-case host name%s (no scheme, port or path)", h, hostHint(h))
		}
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
			v.fail(at+".via", "via %q must be api or html%s", s.Via, meant(s.Via, "api", "html"))
		}
		switch s.View {
		case "":
			s.View = "daily"
		case "daily", "weekly", "monthly", "trending", "search":
		default:
			v.fail(at+".view", "view %q must be daily, weekly, monthly, trending or search%s", s.View,
				meant(s.View, "daily", "weekly", "monthly", "trending", "search"))
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
				v.fail(fmt.Sprintf("%s.include[%d]", at, i), "section %q must be new, cross or replace%s", sec, meant(sec, "new", "cross", "replace"))
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

// meant is "; did you mean X?" when value is close to one of valid, else "".
func meant(value string, valid ...string) string {
	if best, ok := nearest(value, valid); ok {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

// hostHint is " such as x" with the host name h likely stands for, when
// taking off a scheme, port or path and lower-casing leaves one, else "".
func hostHint(h string) string {
	s := h
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	s, _, _ = strings.Cut(s, "/")
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.ToLower(s)
	if s == h || !hostRE.MatchString(s) {
		return ""
	}
	return fmt.Sprintf(" such as %q", s)
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

// DeliverConfig is one delivery target: where new papers are pushed. Which
// fields apply depends on Type; a field set on a type it does not apply to
// is an error.
type DeliverConfig struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // slack, discord, webhook, ntfy or email

	// every type
	Topics  []string `yaml:"topics"`  // slugs of configured topics [every topic]
	Mode    string   `yaml:"mode"`    // each (a message per paper) or digest (one per topic a day) [each]
	At      string   `yaml:"at"`      // digest: the time of day, HH:MM UTC [08:00]
	Backlog *int     `yaml:"backlog"` // a new target's share of each topic's newest papers [3]

	// slack, discord, webhook, ntfy: where to POST
	URL string `yaml:"url"`
	// webhook: signs the body (X-Paperfeed-Signature: sha256=<hex HMAC>)
	Secret string `yaml:"secret"`

	// email
	To   []string `yaml:"to"`
	SMTP string   `yaml:"smtp"` // smtp://user:pass@host:587 (STARTTLS where offered) or smtps://...:465
	From string   `yaml:"from"`
}

// deliverFields are the type-specific fields each delivery type takes, by
// YAML name.
var deliverFields = map[string][]string{
	deliver.TypeSlack:   {"url"},
	deliver.TypeDiscord: {"url"},
	deliver.TypeNtfy:    {"url"},
	deliver.TypeWebhook: {"url", "secret"},
	deliver.TypeEmail:   {"to", "smtp", "from"},
}

// deliverTypes lists the known delivery types for messages.
const deliverTypes = "slack, discord, webhook, ntfy or email"

// defaultBacklog is a new target's share of each topic's newest papers.
const defaultBacklog = 3

// set returns the YAML names of the type-specific fields that are set.
func (d *DeliverConfig) set() []string {
	var names []string
	for name, v := range map[string]bool{
		"url": d.URL != "", "secret": d.Secret != "", "to": d.To != nil, "smtp": d.SMTP != "", "from": d.From != "",
	} {
		if v {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Targets are the deliveries as package deliver takes them. Messages name
// topics by their titles and link digests to the feeds under siteURL.
func (c *Config) Targets(siteURL string) []deliver.Target {
	titles := map[string]string{}
	for _, t := range c.Topics {
		titles[t.Slug] = t.Title
	}
	var out []deliver.Target
	for _, d := range c.Deliver {
		backlog := defaultBacklog
		if d.Backlog != nil {
			backlog = *d.Backlog
		}
		out = append(out, deliver.Target{
			Name: d.Name, Type: d.Type, URL: d.URL, Topics: d.Topics, Mode: d.Mode, At: d.At, Backlog: backlog,
			To: d.To, SMTP: d.SMTP, From: d.From, Secret: d.Secret, Titles: titles, SiteURL: siteURL,
		})
	}
	return out
}

func (c *Config) validateDeliver(v *validator, slugs map[string]bool) {
	names := map[string]bool{}
	for i := range c.Deliver {
		d := &c.Deliver[i]
		at := fmt.Sprintf("deliver[%d]", i)
		v.entryName(at, "delivery", d.Name, names)
		d.validate(v, at, slugs)
	}
}

func (d *DeliverConfig) validate(v *validator, at string, slugs map[string]bool) {
	// ${NAME} first, so that what is checked is what will be used.
	for _, f := range []struct {
		name string
		dst  *string
	}{{"url", &d.URL}, {"secret", &d.Secret}, {"smtp", &d.SMTP}, {"from", &d.From}} {
		if err := expandEnv(f.dst, v.lookup); err != nil {
			v.fail(at+"."+f.name, "%v", err)
		}
	}
	for j := range d.To {
		if err := expandEnv(&d.To[j], v.lookup); err != nil {
			v.fail(fmt.Sprintf("%s.to[%d]", at, j), "%v", err)
		}
	}

	allowed, known := deliverFields[d.Type]
	switch {
	case d.Type == "":
		v.fail(at, "type is required (%s)", deliverTypes)
		return
	case !known:
		v.fail(at+".type", "unknown delivery type %q (want %s)%s", d.Type, deliverTypes,
			meant(d.Type, "slack", "discord", "webhook", "ntfy", "email"))
		return
	}
	for _, name := range d.set() {
		if !slices.Contains(allowed, name) {
			v.fail(at+"."+name, "%s does not apply to type %s", name, d.Type)
		}
	}
	seen := map[string]bool{}
	for j, slug := range d.Topics {
		field := fmt.Sprintf("%s.topics[%d]", at, j)
		switch {
		case !slugs[slug]:
			v.fail(field, "topic %q is not a configured topic%s", slug, meant(slug, slices.Sorted(maps.Keys(slugs))...))
		case seen[slug]:
			v.fail(field, "topic %q is listed twice", slug)
		}
		seen[slug] = true
	}
	switch d.Mode {
	case "":
		d.Mode = deliver.ModeEach
	case deliver.ModeEach, deliver.ModeDigest:
	default:
		v.fail(at+".mode", "mode %q must be each or digest%s", d.Mode, meant(d.Mode, "each", "digest"))
	}
	switch {
	case d.At != "" && d.Mode != deliver.ModeDigest:
		v.fail(at+".at", "at applies to mode digest only")
	case d.At != "":
		if _, err := deliver.ParseAt(d.At); err != nil {
			v.fail(at+".at", "%v", err)
		}
	case d.Mode == deliver.ModeDigest:
		d.At = deliver.DefaultAt
	}
	if d.Backlog != nil && *d.Backlog < 0 {
		v.fail(at+".backlog", "backlog %d must not be negative", *d.Backlog)
	}
	if d.Type == deliver.TypeEmail {
		if d.SMTP == "" {
			v.fail(at, "an email delivery needs smtp, the server's URL")
		} else if err := deliver.CheckSMTP(d.SMTP); err != nil {
			v.fail(at+".smtp", "smtp %v", err)
		}
		if len(d.To) == 0 {
			v.fail(at, "an email delivery needs to, at least one address")
		}
		for j, a := range d.To {
			if _, err := mail.ParseAddress(a); err != nil {
				v.fail(fmt.Sprintf("%s.to[%d]", at, j), "to[%d] is not an e-mail address", j)
			}
		}
		if d.From == "" {
			v.fail(at, "an email delivery needs from, the sender's address")
		} else if _, err := mail.ParseAddress(d.From); err != nil {
			v.fail(at+".from", "from is not an e-mail address")
		}
		return
	}
	if d.URL == "" {
		v.fail(at, "a %s delivery needs url", d.Type)
	} else if err := deliver.CheckURL(d.URL); err != nil {
		v.fail(at+".url", "url %v", err)
	}
}

// envRE matches ${NAME} and what looks like an attempt at it.
var envRE = regexp.MustCompile(`\$\{([^}]*)\}?`)

// envNameRE is an environment variable's name.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandEnv replaces every ${NAME} in *s by lookup's value of NAME. A NAME
// lookup does not know or knows as empty is an error naming it (never its
// value); a $ not followed by { is kept as it is.
func expandEnv(s *string, lookup func(string) (string, bool)) error {
	var errs []string
	out := envRE.ReplaceAllStringFunc(*s, func(m string) string {
		name, closed := strings.CutSuffix(strings.TrimPrefix(m, "${"), "}")
		switch {
		case !closed:
			errs = append(errs, "a ${ is not closed by }")
		case !envNameRE.MatchString(name):
			errs = append(errs, fmt.Sprintf("${%s} is not an environment variable's name", name))
		default:
			if val, ok := lookup(name); ok && val != "" {
				return val
			}
			errs = append(errs, fmt.Sprintf("environment variable %s is not set or empty", name))
		}
		return ""
	})
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	*s = out
	return nil
}
