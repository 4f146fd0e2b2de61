package topic

import (
	"errors"
	"slices"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// routeOne compiles one spec and routes p, failing unless Route and Take
// agree.
func routeOne(t *testing.T, s Spec, p *paper.Paper) (bool, []string) {
	t.Helper()
	r, err := Compile([]Spec{s})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	hits := checkTake(t, r, p)
	if len(hits) == 0 {
		return false, nil
	}
	return true, hits[0].Terms
}

func TestKeywordRules(t *testing.T) {
	tests := []struct {
		name     string
		keywords []string
		exclude  []string
		min      int
		title    string
		abstract string
		authors  []string
		upvotes  int
		want     bool
		terms    []string
	}{
		{name: "whole word", keywords: []string{"filter"}, abstract: "A Kalman filter bank.", want: true, terms: []string{"filter"}},
		{name: "word is not a prefix", keywords: []string{"filter"}, abstract: "Collaborative filtering at scale."},
		{name: "word inside a longer word", keywords: []string{"net"}, title: "ResNet and UNet"},
		{name: "phrase across hyphen", keywords: []string{"score matching"}, abstract: "We study score-matching objectives.", want: true, terms: []string{"score matching"}},
		{name: "hyphen keyword across space", keywords: []string{"score-matching"}, title: "Score Matching, Revisited", want: true, terms: []string{"score-matching"}},
		{name: "phrase words must be consecutive", keywords: []string{"score matching"}, abstract: "score based matching"},
		{name: "phrase order matters", keywords: []string{"score matching"}, abstract: "matching score"},
		{name: "prefix denoise", keywords: []string{"denois*"}, title: "Learning to denoise", want: true, terms: []string{"denois*"}},
		{name: "prefix denoising", keywords: []string{"denois*"}, abstract: "Denoising diffusion.", want: true, terms: []string{"denois*"}},
		{name: "prefix denoiser", keywords: []string{"denois*"}, abstract: "a learned denoiser", want: true, terms: []string{"denois*"}},
		{name: "prefix exact word", keywords: []string{"denois*"}, abstract: "denois", want: true, terms: []string{"denois*"}},
		{name: "prefix is not infix", keywords: []string{"denois*"}, abstract: "undenoised images"},
		{name: "prefix last word of phrase", keywords: []string{"large language model*"}, abstract: "Large Language Models (LLMs)", want: true, terms: []string{"large language model*"}},
		{name: "prefix only on last word", keywords: []string{"larg language model*"}, abstract: "large language models"},
		{name: "case folding", keywords: []string{"Diffusion"}, title: "DIFFUSION MODELS", want: true, terms: []string{"Diffusion"}},
		{name: "case folding sharp s", keywords: []string{"straße"}, title: "STRASSE scenes", want: true, terms: []string{"straße"}},
		{name: "NFKC full-width text", keywords: []string{"diffusion"}, title: "ＤＩＦＦＵＳＩＯＮ ｍｏｄｅｌｓ", want: true, terms: []string{"diffusion"}},
		{name: "NFKC full-width keyword", keywords: []string{"ｄｉｆｆｕｓｉｏｎ"}, title: "diffusion", want: true, terms: []string{"ｄｉｆｆｕｓｉｏｎ"}},
		{name: "NFKC ligature fi", keywords: []string{"filter"}, abstract: "a learned \ufb01lter", want: true, terms: []string{"filter"}},
		{name: "NFD text NFC keyword", keywords: []string{"na\u00efve"}, title: "Nai\u0308ve Bayes", want: true, terms: []string{"na\u00efve"}},
		{name: "NFC text NFD keyword", keywords: []string{"nai\u0308ve"}, title: "Na\u00efve Bayes", want: true, terms: []string{"nai\u0308ve"}},
		{name: "combining mark joins word", keywords: []string{"x\u0308"}, abstract: "the x\u0308 operator", want: true, terms: []string{"x\u0308"}},
		{name: "combining mark keeps word whole", keywords: []string{"x"}, abstract: "the x\u0308 operator"},
		{name: "digits are word runes", keywords: []string{"gpt 4"}, abstract: "GPT-4 and GPT-4o", want: true, terms: []string{"gpt 4"}},
		{name: "digit word whole", keywords: []string{"gpt 4"}, abstract: "GPT-40"},
		{name: "non-latin script", keywords: []string{"扩散"}, abstract: "基于 扩散 模型", want: true, terms: []string{"扩散"}},
		{name: "punctuation is a separator", keywords: []string{"llm"}, abstract: "(LLMs) and LLM-as-a-judge", want: true, terms: []string{"llm"}},
		{name: "not across title and abstract", keywords: []string{"score matching"}, title: "Denoising score", abstract: "matching for images"},
		{name: "title only", keywords: []string{"robot"}, title: "A robot", want: true, terms: []string{"robot"}},
		{name: "authors are not searched", keywords: []string{"hinton"}, title: "Capsules", authors: []string{"Geoffrey Hinton"}},
		{name: "any keyword", keywords: []string{"robot", "diffusion"}, abstract: "diffusion policy", want: true, terms: []string{"diffusion"}},
		{name: "terms in config order and deduplicated", keywords: []string{"policy", "diffusion", "policy", "diffus*"}, abstract: "diffusion policy", want: true, terms: []string{"policy", "diffusion", "diffus*"}},
		{name: "no keyword matches", keywords: []string{"robot", "diffusion"}, abstract: "language models"},
		{name: "exclude wins", keywords: []string{"diffusion"}, exclude: []string{"video"}, abstract: "video diffusion"},
		{name: "exclude in title", keywords: []string{"diffusion"}, exclude: []string{"survey"}, title: "A Survey", abstract: "diffusion"},
		{name: "exclude not matching", keywords: []string{"diffusion"}, exclude: []string{"video"}, abstract: "image diffusion", want: true, terms: []string{"diffusion"}},
		{name: "exclude follows word rules", keywords: []string{"diffusion"}, exclude: []string{"video"}, abstract: "videos by diffusion", want: true, terms: []string{"diffusion"}},
		{name: "exclude without keywords", exclude: []string{"video"}, abstract: "video"},
		{name: "no keywords takes everything", abstract: "anything", want: true},
		{name: "no keywords takes an empty paper", want: true},
		{name: "min upvotes below", keywords: []string{"robot"}, min: 5, upvotes: 4, title: "robot"},
		{name: "min upvotes equal", keywords: []string{"robot"}, min: 5, upvotes: 5, title: "robot", want: true, terms: []string{"robot"}},
		{name: "min upvotes without keywords", min: 5, upvotes: 7, want: true},
		{name: "min upvotes without keywords below", min: 5, upvotes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Spec{Slug: "t", Keywords: tt.keywords, Exclude: tt.exclude, MinUpvotes: tt.min}
			p := &paper.Paper{ID: "2606.00001", Title: tt.title, Abstract: tt.abstract, Authors: tt.authors, Upvotes: tt.upvotes}
			got, terms := routeOne(t, s, p)
			if got != tt.want {
				t.Fatalf("takes = %v, want %v", got, tt.want)
			}
			if !slices.Equal(terms, tt.terms) {
				t.Errorf("terms = %q, want %q", terms, tt.terms)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{name: "empty keyword", spec: Spec{Slug: "a", Keywords: []string{"ok", ""}}, want: `topic "a": keyword "" has no words (letters or digits)`},
		{name: "punctuation keyword", spec: Spec{Slug: "b", Keywords: []string{"--"}}, want: `topic "b": keyword "--" has no words (letters or digits)`},
		{name: "star keyword", spec: Spec{Slug: "c", Keywords: []string{"*"}}, want: `topic "c": keyword "*" has no words (letters or digits)`},
		{name: "empty exclude", spec: Spec{Slug: "d", Exclude: []string{" . "}}, want: `topic "d": exclude keyword " . " has no words (letters or digits)`},
		{name: "bad query", spec: Spec{Slug: "e", Query: "robot AND"}, want: `topic "e": query: expected a term after AND at column 10 in "robot AND"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compile([]Spec{{Slug: "fine", Keywords: []string{"x"}}, tt.spec})
			if err == nil {
				t.Fatalf("Compile = %v, want error %q", r, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error =\n%s\nwant\n%s", err, tt.want)
			}
		})
	}
	_, err := Compile([]Spec{{Slug: "q", Query: "(a"}})
	var qe *QueryError
	if !errors.As(err, &qe) {
		t.Fatalf("error %v is not a *QueryError", err)
	}
	if qe.Slug != "q" || qe.Query != "(a" || qe.Col != 1 {
		t.Errorf("QueryError = %+v, want slug q, query (a, col 1", qe)
	}
}

func TestRouteOrderAndTopics(t *testing.T) {
	specs := []Spec{
		{Slug: "robots", Keywords: []string{"robot*"}},
		{Slug: "all"},
		{Slug: "diffusion", Query: "diffusion OR denois*"},
		{Slug: "popular", Query: "upvotes:>=10"},
		{Slug: "video", Keywords: []string{"video"}},
	}
	r, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	p := &paper.Paper{Title: "Diffusion policies for robotics", Upvotes: 12}
	got := r.Route(p)
	want := []Hit{{0, []string{"robot*"}}, {1, nil}, {2, []string{"diffusion"}}, {3, nil}}
	if !slices.EqualFunc(got, want, func(a, b Hit) bool { return a.Topic == b.Topic && slices.Equal(a.Terms, b.Terms) }) {
		t.Errorf("Route = %v, want %v", got, want)
	}
	empty, err := Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.Route(p); got != nil {
		t.Errorf("Route with no topics = %v, want nil", got)
	}
}

func TestNormalizeCherokee(t *testing.T) {
	for _, s := range []string{"\u13ca\u13f0", "\uab9a\u13f8"} {
		if got, want := normalize(s), "\u13ca\u13f0"; got != want {
			t.Errorf("normalize(%+q) = %+q, want %+q", s, got, want)
		}
	}
}
