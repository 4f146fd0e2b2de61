package main

import (
	"strings"
	"testing"
)

func TestParseConfigLikeTopic(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte(`
sources:
  - name: hf
    type: huggingface
topics:
  - slug: my-interests
    title: Like my favourite papers
    like: [arXiv:2607.23193v2, 2607.28582, 2606.00467, 2607.28580]
    unlike: [2607.28308v1]
    min_score: 0.5
    query: 'NOT category:math*'
  - slug: one
    like:
      - 2607.10000   # a number to YAML: its text is kept
      - "2607.20000"
    min_score: -1
  - slug: plain
`))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Topics[0]
	if want := []string{"2607.23193", "2607.28582", "2606.00467", "2607.28580"}; strings.Join(got.Like, " ") != strings.Join(want, " ") {
		t.Errorf("like: got %q, want %q", got.Like, want)
	}
	if strings.Join(got.Unlike, " ") != "2607.28308" {
		t.Errorf("unlike: got %q, want [2607.28308]", got.Unlike)
	}
	if got.Top != defaultTop || got.MinScore == nil || *got.MinScore != 0.5 || !got.IsLike() {
		t.Errorf("top %d min_score %v like %v, want %d 0.5 true", got.Top, got.MinScore, got.IsLike(), defaultTop)
	}
	if one := cfg.Topics[1]; one.MinScore == nil || *one.MinScore != -1 {
		t.Errorf("min_score -1 read as %v", one.MinScore)
	} else if strings.Join(one.Like, " ") != "2607.10000 2607.20000" {
		t.Errorf("block list: got %q, want [2607.10000 2607.20000]", one.Like)
	}
	if plain := cfg.Topics[2]; plain.IsLike() || plain.Top != 0 || plain.MinScore != nil {
		t.Errorf("a keyword topic got like fields: %+v", plain)
	}
}

func TestParseConfigLikeErrors(t *testing.T) {
	const head = "sources:\n  - name: hf\n    type: huggingface\ntopics:\n  - slug: a\n"
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"bad id", head + "    like: [2607.23193, hello]\n", `c.yaml:6:24: topics[0].like[1]: "hello" is not an arXiv id (such as 2607.23193 or arXiv:2607.23193v2)`},
		{"bad unlike id", head + "    like: [2607.23193]\n    unlike: [\"2607\"]\n", `c.yaml:7:14: topics[0].unlike[0]: "2607" is not an arXiv id (such as 2607.23193 or arXiv:2607.23193v2)`},
		{"id twice", head + "    like: [2607.23193, arXiv:2607.23193v3]\n", `c.yaml:6:24: topics[0].like[1]: 2607.23193 is listed twice`},
		{"like and unlike", head + "    like: [2607.23193]\n    unlike: [2607.23193v2]\n", `c.yaml:7:14: topics[0].unlike[0]: 2607.23193 is in both like and unlike`},
		{"unlike without like", head + "    unlike: [2607.23193]\n", `c.yaml:6:13: topics[0].unlike: unlike applies to a like-topic only: add like, the arXiv ids of papers the topic is like`},
		{"top without like", head + "    top: 5\n", `c.yaml:6:10: topics[0].top: top applies to a like-topic only`},
		{"min_score without like", head + "    min_score: 0.1\n", `c.yaml:6:16: topics[0].min_score: min_score applies to a like-topic only`},
		{"empty like", head + "    like: []\n", `c.yaml:6:11: topics[0].like: like needs at least one arXiv id`},
		{"negative top", head + "    like: [2607.23193]\n    top: -1\n", `c.yaml:7:10: topics[0].top: top -1 must be between 1 and 10000`},
		{"min_score a string", head + "    like: [2607.23193]\n    min_score: high\n", `c.yaml:7:16: topics[0].min_score: expected a number, got a string ("high")`},
		{"min_score nan", head + "    like: [2607.23193]\n    min_score: .nan\n", `c.yaml:7:16: topics[0].min_score: expected a finite number, got .nan`},
		{"like of maps", head + "    like: [{id: 2607.23193}]\n", `c.yaml:6:13: topics[0].like[0]: expected an arXiv id, got a map`},
		{"like a string", head + "    like: 2607.23193\n", `c.yaml:6:11: topics[0].like: expected a list, e.g. [2607.23193], got a number`},
		{"misspelt like", head + "    lkie: [2607.23193]\n", `c.yaml:6:5: topics[0].lkie: unknown field; did you mean "like"?`},
		{"misspelt min_score", head + "    like: [2607.23193]\n    minscore: 1\n", `c.yaml:7:5: topics[0].minscore: unknown field; did you mean "min_score"?`},
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

// likeTopics gives the learning stage each like-topic with its index among
// all topics and whether it has rules of its own; its key changes with
// what the picks depend on.
func TestLikeTopics(t *testing.T) {
	parse := func(yaml string) *Config {
		t.Helper()
		cfg, err := ParseConfig("c.yaml", []byte("sources:\n  - name: hf\n    type: huggingface\ntopics:\n"+yaml))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg := parse("  - slug: all\n  - slug: q\n    like: [2607.23193]\n    query: 'NOT category:math*'\n  - slug: plain\n    like: [2607.23193]\n    top: 3\n")
	likes, key := likeTopics(cfg)
	if len(likes) != 2 || likes[0].Slug != "q" || likes[0].Index != 1 || !likes[0].Rules || likes[1].Index != 2 || likes[1].Rules || likes[1].Top != 3 {
		t.Errorf("got %+v", likes)
	}
	if none, k := likeTopics(parse("  - slug: all\n")); none != nil || k != "" {
		t.Errorf("no like-topic: got %v %q", none, k)
	}
	for _, changed := range []string{
		"  - slug: all\n  - slug: q\n    like: [2607.23193]\n    query: 'NOT category:math*'\n  - slug: plain\n    like: [2607.23193]\n    top: 4\n",
		"  - slug: all\n  - slug: q\n    like: [2607.23193]\n    query: 'NOT category:cs*'\n  - slug: plain\n    like: [2607.23193]\n    top: 3\n",
		"  - slug: all\n  - slug: q\n    like: [2607.23193]\n    unlike: [2607.23194]\n    query: 'NOT category:math*'\n  - slug: plain\n    like: [2607.23193]\n    top: 3\n",
	} {
		if _, k := likeTopics(parse(changed)); k == key {
			t.Errorf("the key did not change for\n%s", changed)
		}
	}
}
