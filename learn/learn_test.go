package learn

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

var (
	day1 = time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	day2 = time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC)
)

// history is two listing days of diffusion, robotics and other papers.
func history() []paper.Paper {
	return []paper.Paper{
		{ID: "2606.00001", Day: day1, Title: "Denoising diffusion models for image synthesis", Abstract: "We train denoising diffusion models with a score network for image synthesis and sampling."},
		{ID: "2606.00002", Day: day1, Title: "Faster sampling for denoising diffusion models", Abstract: "A sampler for denoising diffusion models cuts the steps of image synthesis."},
		{ID: "2606.00003", Day: day1, Title: "Robot grasping with tactile sensors", Abstract: "A robot arm learns grasping from tactile sensors and vision."},
		{ID: "2606.00004", Day: day1, Title: "Legged robot locomotion by reinforcement learning", Abstract: "A legged robot learns locomotion with reinforcement learning in simulation."},
		{ID: "2606.00005", Day: day2, Title: "Latent diffusion models for video synthesis", Abstract: "Latent denoising diffusion models generate video with a score network."},
		{ID: "2606.00006", Day: day2, Title: "Robot arm grasping in clutter", Abstract: "A robot arm learns grasping of objects in clutter with tactile sensors."},
		{ID: "2606.00007", Day: day2, Title: "Language models as robot planners", Abstract: "Large language models plan tasks for a robot arm in simulation."},
		{ID: "2606.00008", Day: day2, Title: "Sparse attention for long documents", Abstract: "Sparse attention lets language models read long documents."},
	}
}

// storeOf writes papers into a new store file and returns it open.
func storeOf(t *testing.T, papers []paper.Paper) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "paperfeed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Merge(papers, day2.Add(36*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return s
}

// learn runs the stage over s for topics whose rules are specs.
func learn(t *testing.T, s *store.Store, specs []topic.Spec, topics []Topic) ([]Result, error) {
	t.Helper()
	l := learner(t, specs, topics, nil)
	if err := s.ForEach(l.Add); err != nil {
		t.Fatal(err)
	}
	return l.Train()
}

func ids(ps []Pick) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func ptr(f float64) *float64 { return &f }

func TestTrainChoosesPerDay(t *testing.T) {
	s := storeOf(t, history())
	specs := []topic.Spec{{Slug: "diffusion"}, {Slug: "top1"}, {Slug: "floor"}, {Slug: "rules", Query: "NOT title:latent"}, {Slug: "svm"}}
	d1 := like.Seeds{Like: []string{"2606.00001"}}
	topics := []Topic{
		{Slug: "diffusion", Index: 0, Seeds: d1, Top: 10},
		{Slug: "top1", Index: 1, Seeds: d1, Top: 1},
		{Slug: "floor", Index: 2, Seeds: d1, Top: 10, MinScore: ptr(0.2)},
		{Slug: "rules", Index: 3, Seeds: d1, Top: 1, Rules: true},
		{Slug: "svm", Index: 4, Seeds: like.Seeds{Like: []string{"2606.00001", "2606.00002"}, Unlike: []string{"2606.00003"}}, Top: 1},
	}
	res, err := learn(t, s, specs, topics)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		want   []string
		method like.Method
	}{
		// Every paper but the seed, newest day first, by score.
		{"diffusion", nil, like.Centroid},
		{"top1", []string{"2606.00005", "2606.00002"}, like.Centroid},
		{"floor", []string{"2606.00005", "2606.00002"}, like.Centroid},
		{"rules", []string{"2606.00006", "2606.00002"}, like.Centroid},
		{"svm", []string{"2606.00005", "2606.00004"}, like.SVM},
	}
	for k, tt := range tests {
		r := res[k]
		if r.Slug != tt.name || r.Err != nil {
			t.Fatalf("result %d: slug %q err %v", k, r.Slug, r.Err)
		}
		if r.Stats.Method != tt.method {
			t.Errorf("%s: method %s, want %s", tt.name, r.Stats.Method, tt.method)
		}
		if tt.want != nil && !slices.Equal(ids(r.Picks), tt.want) {
			t.Errorf("%s: picks %v, want %v", tt.name, ids(r.Picks), tt.want)
		}
	}
	all := res[0]
	if len(all.Picks) != 7 || all.Candidates != 8 {
		t.Fatalf("diffusion: %d picks of %d candidates, want 7 of 8 (the seed is left out): %v", len(all.Picks), all.Candidates, ids(all.Picks))
	}
	for i := 1; i < len(all.Picks); i++ {
		a, b := all.Picks[i-1], all.Picks[i]
		if a.Day.Before(b.Day) || (a.Day.Equal(b.Day) && a.Score < b.Score) {
			t.Errorf("picks out of order: %s (%v, %.4f) before %s (%v, %.4f)", a.ID, a.Day, a.Score, b.ID, b.Day, b.Score)
		}
	}
	if p := res[1].Picks[0]; !slices.Contains(p.Terms(), "diffusion models") && !slices.Contains(p.Terms(), "denoising diffusion") {
		t.Errorf("top words of %s are %v: no diffusion bigram", p.ID, p.Terms())
	}
	if p := res[1].Picks[0]; p.Day != day2 || p.Score <= 0 {
		t.Errorf("%s: day %v score %v, want %v and a positive score", p.ID, p.Day, p.Score, day2)
	}
	if res[3].Candidates != 7 {
		t.Errorf("rules: %d candidates, want 7 (the query leaves the latent paper out)", res[3].Candidates)
	}
}

// TestTrainKeepsNewestDays: Keep bounds the picks by whole listing days,
// newest first; the picks kept are those without Keep, cut.
func TestTrainKeepsNewestDays(t *testing.T) {
	s := storeOf(t, history())
	specs := []topic.Spec{{Slug: "all"}, {Slug: "k1"}, {Slug: "k3"}, {Slug: "k5"}}
	d1 := like.Seeds{Like: []string{"2606.00001"}}
	topics := []Topic{
		{Slug: "all", Index: 0, Seeds: d1, Top: 10},
		{Slug: "k1", Index: 1, Seeds: d1, Top: 10, Keep: 1},
		{Slug: "k3", Index: 2, Seeds: d1, Top: 10, Keep: 3},
		{Slug: "k5", Index: 3, Seeds: d1, Top: 10, Keep: 5},
	}
	res, err := learn(t, s, specs, topics)
	if err != nil {
		t.Fatal(err)
	}
	all := res[0].Picks
	newest := 0 // picks of the newest day
	for newest < len(all) && all[newest].Day.Equal(day2) {
		newest++
	}
	if newest != 4 || len(all) != 7 {
		t.Fatalf("without Keep: %d picks, %d of the newest day; want 7 and 4", len(all), newest)
	}
	for _, tt := range []struct {
		k    int
		want int // picks: whole days until Keep is reached
	}{{1, 4}, {2, 4}, {3, 7}} {
		got := res[tt.k].Picks
		if len(got) != tt.want || !slices.Equal(ids(got), ids(all[:tt.want])) {
			t.Errorf("%s: picks %v, want %v", res[tt.k].Slug, ids(got), ids(all[:tt.want]))
		}
		if res[tt.k].Candidates != res[0].Candidates {
			t.Errorf("%s: %d candidates, want %d as without Keep", res[tt.k].Slug, res[tt.k].Candidates, res[0].Candidates)
		}
	}
}

// The same history added in another order, in another store, gives the
// same results, bit for bit.
func TestTrainIsStable(t *testing.T) {
	specs := []topic.Spec{{Slug: "a"}, {Slug: "b"}}
	topics := []Topic{
		{Slug: "a", Index: 0, Seeds: like.Seeds{Like: []string{"2606.00001"}}, Top: 2},
		{Slug: "b", Index: 1, Seeds: like.Seeds{Like: []string{"2606.00003", "2606.00006"}, Unlike: []string{"2606.00007"}}, Top: 2},
	}
	first, err := learn(t, storeOf(t, history()), specs, topics)
	if err != nil {
		t.Fatal(err)
	}
	h := history()
	slices.Reverse(h)
	second, err := learner(t, specs, topics, h).Train()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("results differ:\n%+v\n%+v", first, second)
	}
}

func TestTrainErrors(t *testing.T) {
	specs := []topic.Spec{{Slug: "a"}, {Slug: "b"}}
	t.Run("missing seeds", func(t *testing.T) {
		_, err := learn(t, storeOf(t, history()), specs, []Topic{
			{Slug: "a", Index: 0, Seeds: like.Seeds{Like: []string{"2606.00001", "2601.99999"}}, Top: 1},
			{Slug: "b", Index: 1, Seeds: like.Seeds{Like: []string{"2606.00002"}, Unlike: []string{"2601.99998"}}, Top: 1},
		})
		var me *MissingError
		if !errors.As(err, &me) {
			t.Fatalf("got %v, want a *MissingError", err)
		}
		if got, want := me.IDs(), []string{"2601.99998", "2601.99999"}; !slices.Equal(got, want) {
			t.Errorf("IDs %v, want %v", got, want)
		}
		if want := "like-topic a: 2601.99999 not in the history; like-topic b: 2601.99998 not in the history"; err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
	})
	t.Run("empty history", func(t *testing.T) {
		_, err := learn(t, storeOf(t, nil), specs[:1], []Topic{{Slug: "a", Index: 0, Seeds: like.Seeds{Like: []string{"2606.00001"}, Unlike: []string{"2606.00002"}}, Top: 1}})
		var me *MissingError
		if !errors.As(err, &me) || !slices.Equal(me.IDs(), []string{"2606.00001", "2606.00002"}) {
			t.Fatalf("got %v, want a *MissingError naming both seeds", err)
		}
	})
	t.Run("one paper", func(t *testing.T) {
		res, err := learn(t, storeOf(t, history()[:1]), specs[:1], []Topic{{Slug: "a", Index: 0, Seeds: like.Seeds{Like: []string{"2606.00001"}}, Top: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res[0].Err, like.ErrNoFeatures) || res[0].Picks != nil {
			t.Errorf("got err %v picks %v, want like.ErrNoFeatures and none", res[0].Err, res[0].Picks)
		}
	})
	t.Run("wordless seed", func(t *testing.T) {
		h := append(history(), paper.Paper{ID: "2606.00009", Day: day2, Title: "Zyxwv"})
		res, err := learn(t, storeOf(t, h), specs[:1], []Topic{{Slug: "a", Index: 0, Seeds: like.Seeds{Like: []string{"2606.00009"}}, Top: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res[0].Err, like.ErrNoWords) {
			t.Errorf("got err %v, want like.ErrNoWords", res[0].Err)
		}
	})
	r, err := topic.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		t    Topic
	}{
		{"top 0", Topic{Slug: "a", Index: 0, Seeds: like.Seeds{Like: []string{"x"}}}},
		{"index out of range", Topic{Slug: "a", Index: 2, Seeds: like.Seeds{Like: []string{"x"}}, Top: 1}},
	} {
		if _, err := New(r, []Topic{tt.t}, like.Options{}); err == nil {
			t.Errorf("%s: New gave no error", tt.name)
		}
	}
	if _, err := New(r, nil, like.Options{MinDF: -1}); err == nil {
		t.Error("New with MinDF -1 gave no error")
	}
}
