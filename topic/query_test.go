package topic

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// samplePaper is the paper the query table tests run against.
var samplePaper = paper.Paper{
	ID:          "2507.01234",
	Title:       "Classifier-Free Guidance for Large Language Models",
	Abstract:    "We study diffusion samplers and score-matching for robot control. Code in v2.",
	Authors:     []string{"Yann LeCun", "Geoffrey Hinton", "Ada Lovelace"},
	Categories:  []string{"cs.RO", "cs.LG"},
	AIKeywords:  []string{"diffusion policy", "CFG"},
	Sources:     []string{"hf-daily", "arxiv-cs"},
	Upvotes:     12,
	Comments:    3,
	GitHubStars: 150,
}

func TestQueryEval(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  bool
	}{
		{"word", "diffusion", true},
		{"word missing", "transformer", false},
		{"word not a prefix", "diffus", false},
		{"prefix", "sampler*", true},
		{"phrase", `"classifier-free guidance"`, true},
		{"phrase hyphen words", `"score matching"`, true},
		{"phrase prefix", `"large language model*"`, true},
		{"phrase not across fields", `"models we"`, false},
		{"bare hyphen word is a phrase", "classifier-free", true},
		{"lower-case and is a word", "diffusion and robot", true},
		{"lower-case or is a word", "video or robot", false},
		{"lower-case not is a word", "not video", false},
		{"AND both", "diffusion AND robot", true},
		{"AND one missing", "diffusion AND video", false},
		{"juxtaposition is AND", "diffusion robot", true},
		{"juxtaposition one missing", "diffusion video", false},
		{"OR one", "video OR robot", true},
		{"OR none", "video OR audio", false},
		{"NOT", "NOT video", true},
		{"NOT present", "NOT diffusion", false},
		{"minus", "-video", true},
		{"minus present", "-diffusion", false},
		{"double NOT", "NOT NOT diffusion", true},
		{"NOT binds before AND", "NOT video AND diffusion", true},
		{"NOT binds before AND, false", "NOT diffusion AND video", false},
		{"AND binds before OR", "video AND audio OR robot", true},
		{"AND binds before OR, right", "robot OR video AND audio", true},
		{"AND binds before OR, false", "video OR audio AND robot", false},
		{"parentheses", "(video OR robot) AND diffusion", true},
		{"parentheses change precedence", "video OR audio AND robot", false},
		{"parentheses change precedence, grouped", "(video OR audio) AND robot", false},
		{"parentheses grouped true", "(video OR diffusion) AND robot", true},
		{"NOT group", "NOT (video OR diffusion)", false},
		{"minus group", "-(video OR audio)", true},
		{"spec example 1", "diffusion AND (guidance OR sampler*) -video", true},
		{"spec example 1 excluded", "diffusion AND (guidance OR sampler*) -robot", false},
		{"spec example 2", `author:"Yann LeCun" OR author:hinton`, true},
		{"spec example 3", `title:"large language model*" upvotes:>=5`, true},
		{"spec example 3 upvotes", `title:"large language model*" upvotes:>=50`, false},
		{"spec example 4", "category:cs.RO OR robot*", true},
		{"title field", "title:guidance", true},
		{"title field misses abstract", "title:diffusion", false},
		{"abstract field", "abstract:diffusion", true},
		{"abstract field misses title", "abstract:guidance", false},
		{"field case-insensitive name", "Title:guidance", true},
		{"author word", "author:lecun", true},
		{"author phrase", `author:"geoffrey hinton"`, true},
		{"author phrase not across authors", `author:"lecun geoffrey"`, false},
		{"author not in text", "lecun", false},
		{"author prefix", "author:lovel*", true},
		{"category arXiv", "category:cs.RO", true},
		{"category words", `category:"cs ro"`, true},
		{"category not across values", `category:"ro cs"`, false},
		{"category other", "category:cs.CV", false},
		{"category AI keyword", `category:"diffusion policy"`, true},
		{"category AI keyword case", "category:cfg", true},
		{"source", "source:hf-daily", true},
		{"source word", "source:arxiv", true},
		{"source missing", "source:rss", false},
		{"id whole", "id:2507.01234", true},
		{"id whole other", "id:2507.0123", false},
		{"id prefix", "id:2507.*", true},
		{"id prefix other", "id:2508.*", false},
		{"id quoted", `id:"2507.01234"`, true},
		{"field group", "title:(video OR guidance)", true},
		{"field group false", "title:(video OR diffusion)", false},
		{"field group inner field wins", "title:(abstract:diffusion)", true},
		{"field group NOT", "title:(-diffusion)", true},
		{"field on NOT", "abstract:-guidance", true},
		{"upvotes >=", "upvotes:>=12", true},
		{"upvotes >= false", "upvotes:>=13", false},
		{"upvotes >", "upvotes:>11", true},
		{"upvotes > false", "upvotes:>12", false},
		{"upvotes <", "upvotes:<13", true},
		{"upvotes < false", "upvotes:<12", false},
		{"upvotes <=", "upvotes:<=12", true},
		{"upvotes <= false", "upvotes:<=11", false},
		{"upvotes =", "upvotes:=12", true},
		{"upvotes bare number", "upvotes:12", true},
		{"upvotes = false", "upvotes:=11", false},
		{"upvotes negative", "upvotes:>-1", true},
		{"comments", "comments:>0", true},
		{"comments false", "comments:>3", false},
		{"stars", "stars:>=100", true},
		{"stars false", "stars:>=1000", false},
		{"regex title or abstract", `/robot\s+control/`, true},
		{"regex case-insensitive", `/ROBOT/`, true},
		{"regex on normalised text", `/score-matching/`, true},
		{"regex missing", `/\bvideo\b/`, false},
		{"regex title", `title:/^classifier/`, true},
		{"regex title misses abstract", `title:/diffusion/`, false},
		{"regex per value", `author:/^geoffrey/`, true},
		{"regex id", `id:/^2507\./`, true},
		{"regex escaped slash", `/v2\/?/`, true},
		{"regex word boundary", `/\bv\d+\b/`, true},
		{"colon after non-letters is text", "v2:code", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := routeOne(t, Spec{Slug: "q", Query: tt.query}, &samplePaper)
			if got != tt.want {
				t.Errorf("query %s: takes = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
}

func TestQueryWithKeywords(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want bool
	}{
		{"all parts hold", Spec{Keywords: []string{"robot"}, Query: "diffusion", MinUpvotes: 10}, true},
		{"keywords fail", Spec{Keywords: []string{"video"}, Query: "diffusion"}, false},
		{"query fails", Spec{Keywords: []string{"robot"}, Query: "video"}, false},
		{"exclude fails", Spec{Keywords: []string{"robot"}, Exclude: []string{"guidance"}, Query: "diffusion"}, false},
		{"upvotes fail", Spec{Query: "diffusion", MinUpvotes: 13}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := routeOne(t, tt.spec, &samplePaper); got != tt.want {
				t.Errorf("takes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQueryTerms(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want []string
	}{
		{"query terms as written", Spec{Query: `diffusion AND ("Classifier-Free guidance" OR video) upvotes:>1`}, []string{"diffusion", "Classifier-Free guidance"}},
		{"no terms under NOT", Spec{Query: "robot -video NOT (audio OR speech)"}, []string{"robot"}},
		{"fielded terms without field", Spec{Query: "author:hinton category:cs.RO id:2507.*"}, []string{"hinton", "cs.RO", "2507.*"}},
		{"regex term", Spec{Query: `/robot\s+control/`}, []string{`/robot\s+control/`}},
		{"keywords first, deduplicated", Spec{Keywords: []string{"robot", "diffusion"}, Query: "diffusion guidance"}, []string{"robot", "diffusion", "guidance"}},
		{"numbers only", Spec{Query: "upvotes:>1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, terms := routeOne(t, tt.spec, &samplePaper)
			if !ok {
				t.Fatal("topic does not take the paper")
			}
			if !slices.Equal(terms, tt.want) {
				t.Errorf("terms = %q, want %q", terms, tt.want)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string // the message and column; Error adds the topic and the query
		caret string
	}{
		{"empty", "   ", "empty query at column 1", "     \n  ^"},
		{"missing close paren", "diffusion AND (robot OR video", "unbalanced parenthesis: expected a closing \")\" at column 15", "  diffusion AND (robot OR video\n                ^"},
		{"extra close paren", "robot)", "unbalanced parenthesis: unexpected \")\" at column 6", "  robot)\n       ^"},
		{"close paren first", ") robot", "unbalanced parenthesis: unexpected \")\" at column 1", "  ) robot\n  ^"},
		{"empty parens", "robot ()", "expected a term inside parentheses at column 8", "  robot ()\n         ^"},
		{"unterminated quote", `robot "classifier free`, "unterminated quote: expected a closing \" at column 7", "  robot \"classifier free\n        ^"},
		{"unterminated regex", `robot /abc`, "unterminated regex: expected a closing / at column 7", "  robot /abc\n        ^"},
		{"unterminated regex escape", `/abc\`, "unterminated regex: expected a closing / at column 1", "  /abc\\\n  ^"},
		{"bad regex", `title:/[a/`, "bad regex: missing closing ]: `[a` at column 7", "  title:/[a/\n        ^"},
		{"bad regex repeat", `/a**/`, "bad regex: invalid nested repetition operator: `**` at column 1", "  /a**/\n  ^"},
		{"unknown field suggestion", "titel:robot", "unknown field \"titel\" (did you mean title?) at column 1", "  titel:robot\n  ^"},
		{"unknown field suggestion author", "robot autor:x", "unknown field \"autor\" (did you mean author?) at column 7", "  robot autor:x\n        ^"},
		{"unknown field no suggestion", "robot foo:bar", "unknown field \"foo\" (expected one of title, abstract, author, category, source, id, upvotes, comments, stars) at column 7", "  robot foo:bar\n        ^"},
		{"AND without right operand", "diffusion AND", "expected a term after AND at column 14", "  diffusion AND\n               ^"},
		{"AND before close", "(diffusion AND)", "expected a term after AND at column 15", "  (diffusion AND)\n                ^"},
		{"OR without right operand", "diffusion OR", "expected a term after OR at column 13", "  diffusion OR\n              ^"},
		{"OR without left operand", "OR robot", "expected a term before OR at column 1", "  OR robot\n  ^"},
		{"AND without left operand", "AND robot", "expected a term before AND at column 1", "  AND robot\n  ^"},
		{"OR OR", "robot OR OR video", "expected a term after OR at column 10", "  robot OR OR video\n           ^"},
		{"NOT without operand", "robot NOT", "expected a term after NOT at column 10", "  robot NOT\n           ^"},
		{"minus without operand", "robot -", "expected a term after - at column 8", "  robot -\n         ^"},
		{"field without term", "title:", "expected a term after title: at column 7", "  title:\n        ^"},
		{"error inside NOT", "NOT (a", "unbalanced parenthesis: expected a closing \")\" at column 5", "  NOT (a\n      ^"},
		{"field before OR", "title: OR x", "expected a term after title: at column 8", "  title: OR x\n         ^"},
		{"term without words", "robot ...", "expected a term with letters or digits, got \"...\" at column 7", "  robot ...\n        ^"},
		{"phrase without words", `robot "--"`, "expected a term with letters or digits, got \"--\" at column 7", "  robot \"--\"\n        ^"},
		{"empty id", `id:""`, "expected an arXiv id after id: at column 4", "  id:\"\"\n     ^"},
		{"number not a number", "upvotes:>=many", "bad number comparison: expected upvotes: then >, >=, <, <= or = and a whole number, like upvotes:>=10 at column 1", "  upvotes:>=many\n  ^"},
		{"number missing", "robot stars:>=", "bad number comparison: expected stars: then >, >=, <, <= or = and a whole number, like stars:>=10 at column 7", "  robot stars:>=\n        ^"},
		{"number bad operator", "comments:=>3", "bad number comparison: expected comments: then >, >=, <, <= or = and a whole number, like comments:>=10 at column 1", "  comments:=>3\n  ^"},
		{"number with plus", "upvotes:+3", "bad number comparison: expected upvotes: then >, >=, <, <= or = and a whole number, like upvotes:>=10 at column 1", "  upvotes:+3\n  ^"},
		{"number group", "upvotes:(>3)", "bad number comparison: expected upvotes: then >, >=, <, <= or = and a whole number, like upvotes:>=10 at column 1", "  upvotes:(>3)\n  ^"},
		{"number at end", "upvotes:", "bad number comparison: expected upvotes: then >, >=, <, <= or = and a whole number, like upvotes:>=10 at column 1", "  upvotes:\n  ^"},
		{"number overflow", "upvotes:>99999999999999999999", "bad number comparison: expected upvotes: then >, >=, <, <= or = and a whole number, like upvotes:>=10 at column 1", "  upvotes:>99999999999999999999\n  ^"},
		{"column counts runes", "ｒｏｂｏｔ AND", "expected a term after AND at column 10", "  ｒｏｂｏｔ AND\n           ^"},
		{"tabs and newlines print as spaces", "robot\tAND\n", "expected a term after AND at column 11", "  robot AND \n            ^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]Spec{{Slug: "s", Query: tt.query}})
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("error = %v, want a *QueryError", err)
			}
			want := fmt.Sprintf("topic \"s\": query: %s in %q", tt.want, tt.query)
			if got := err.Error(); got != want {
				t.Errorf("error =\n%s\nwant\n%s", got, want)
			}
			if got := qe.Caret(); got != tt.caret {
				t.Errorf("caret =\n%s\nwant\n%s", got, tt.caret)
			}
		})
	}
}

// TestQueryErrorOneLine: a query error goes into one-line log records (a
// reload's), so Error never breaks the line, whatever the query holds;
// the drawing is Caret's.
func TestQueryErrorOneLine(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"with topic", Spec{Slug: "agents", Query: "(foo) AND bar)"}, `topic "agents": query: unbalanced parenthesis: unexpected ")" at column 14 in "(foo) AND bar)"`},
		{"newline in query", Spec{Slug: "a", Query: "robot\nAND"}, `topic "a": query: expected a term after AND at column 10 in "robot\nAND"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]Spec{tt.spec})
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
	_, err := ParseQuery("robot)")
	if want := `query: unbalanced parenthesis: unexpected ")" at column 6 in "robot)"`; err == nil || err.Error() != want {
		t.Errorf("ParseQuery: got %v, want %s", err, want)
	}
}

func TestQueryString(t *testing.T) {
	tests := []struct {
		query, want string
	}{
		{"diffusion", "diffusion"},
		{"Diffusion", "diffusion"},
		{"ＤＩＦＦＵＳＩＯＮ", "diffusion"},
		{"score-matching", `"score matching"`},
		{`"Classifier-Free  Guidance"`, `"classifier free guidance"`},
		{`"large language model*"`, `"large language model*"`},
		{"denois*", "denois*"},
		{"a b c", "a AND b AND c"},
		{"a AND (b AND c)", "a AND b AND c"},
		{"a OR (b OR c)", "a OR b OR c"},
		{"a OR b c", "a OR b AND c"},
		{"(a OR b) c", "(a OR b) AND c"},
		{"-a", "NOT a"},
		{"-(a b)", "NOT (a AND b)"},
		{"NOT (a OR b)", "NOT (a OR b)"},
		{"title:(a OR b)", "title:a OR title:b"},
		{"title:(a OR b) c", "(title:a OR title:b) AND c"},
		{`author:"Yann LeCun" OR author:hinton`, `author:"yann lecun" OR author:hinton`},
		{"category:cs.RO", `category:"cs ro"`},
		{"id:2507.*", "id:2507.*"},
		{"id:ABC", "id:abc"},
		{`id:"a b"`, `id:"a b"`},
		{`id:"x:y"`, `id:"x:y"`},
		{`id:"-x"`, `id:"-x"`},
		{`id:"/x"`, `id:"/x"`},
		{`id:"(x)"`, `id:"(x)"`},
		{"upvotes:10", "upvotes:=10"},
		{"upvotes:>=10 comments:<2 stars:>-1", "upvotes:>=10 AND comments:<2 AND stars:>-1"},
		{`/a\/b/`, `/a\/b/`},
		{`title:/x\\/`, `title:/x\\/`},
		{"diffusion and robot", "diffusion AND and AND robot"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got := q.String()
			if got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
			q2, err := ParseQuery(got)
			if err != nil {
				t.Fatalf("String() %s does not parse: %v", got, err)
			}
			if again := q2.String(); again != got {
				t.Errorf("String() of %s = %s, want a fixed point", got, again)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	r, err := Compile([]Spec{
		{Slug: "a", Keywords: []string{"robot", "diffusion", "video"}, Exclude: []string{"guidance"}},
		{Slug: "b", Query: `author:hinton title:"large language model*" -abstract:video NOT samplers upvotes:>=5 id:2507.* /cfg/`, MinUpvotes: 3},
		{Slug: "c", Query: `author:nobody OR upvotes:>100 OR id:1* OR title:/zzz/ OR category:cs.CV`, MinUpvotes: 13},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		topic int
		ok    bool
		want  []Match
	}{
		{"keywords and exclude", 0, false, []Match{
			{Term: "robot", Field: "abstract"},
			{Term: "diffusion", Field: "abstract"},
			{Term: "guidance", Field: "title", Against: true},
		}},
		{"query fields", 1, false, []Match{
			{Term: "hinton", Field: "author"},
			{Term: "large language model*", Field: "title"},
			{Term: "samplers", Field: "abstract", Against: true},
			{Term: "upvotes:>=5", Field: "upvotes"},
			{Term: "2507.*", Field: "id"},
			{Term: "min_upvotes 3", Field: "upvotes"},
		}},
		{"terms that do not match", 2, false, nil},
		{"out of range", 3, false, nil},
		{"negative", -1, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, got := r.Explain(tt.topic, &samplePaper)
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("matches =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	p := samplePaper
	p.Title, p.Abstract = "", "diffusion"
	ok, got := r.Explain(0, &p)
	want := []Match{{Term: "diffusion", Field: "abstract"}}
	if !ok || !slices.Equal(got, want) {
		t.Errorf("Explain = %v %+v, want true %+v", ok, got, want)
	}
}

// TestNumbers compares numbers of every size, past 32 bits too.
func TestNumbers(t *testing.T) {
	queries := []string{"upvotes:>=5", "upvotes:>4999999999", "stars:<5000000000", "comments:=2",
		"comments:<=-1", "-upvotes:>=3000000000", "upvotes:<6 OR stars:>=100"}
	var specs []Spec
	for i, q := range queries {
		specs = append(specs, Spec{Slug: fmt.Sprint("n", i), Query: q})
	}
	r, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	p := &paper.Paper{ID: "2601.00001", Title: "t", Upvotes: 5, Comments: 2, GitHubStars: 100}
	var topics []int
	for _, h := range checkTake(t, r, p) {
		topics = append(topics, h.Topic)
	}
	if want := []int{0, 2, 3, 5, 6}; !slices.Equal(topics, want) {
		t.Errorf("topics = %v, want %v", topics, want)
	}
}
