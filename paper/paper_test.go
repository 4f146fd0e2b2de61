package paper

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNormalizeArxivID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"2606.00467", "2606.00467", true},
		{"2606.00467v2", "2606.00467", true},
		{"arXiv:2507.01234v12", "2507.01234", true},
		{"ARXIV:0704.0001", "0704.0001", true},
		{" 2606.00467 ", "2606.00467", true},
		{"hep-th/9901001", "hep-th/9901001", true},
		{"hep-th/9901001v3", "hep-th/9901001", true},
		{"math.GT/0309136", "math.GT/0309136", true},
		{"cond-mat/0512345", "cond-mat/0512345", true},
		{"2606.0046", "2606.0046", true}, // four-digit numbers before 2015
		{"2606.004671", "", false},
		{"2606", "", false},
		{"", "", false},
		{"https://arxiv.org/abs/2606.00467", "", false},
		{"2606.00467v", "", false},
		{"HEP-TH/9901001", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := NormalizeArxivID(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("NormalizeArxivID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestIsArxiv(t *testing.T) {
	for id, want := range map[string]bool{
		"2606.00467": true, "hep-th/9901001": true, "math.GT/0309136": true,
		"2606.00467v2": false, "arXiv:2606.00467": false, "url-0123": false, "": false,
	} {
		if got := (&Paper{ID: id}).IsArxiv(); got != want {
			t.Errorf("IsArxiv(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestLinks(t *testing.T) {
	p := Paper{ID: "2606.00467"}
	if p.AbsURL() != "https://arxiv.org/abs/2606.00467" || p.PDFURL() != "https://arxiv.org/pdf/2606.00467" || p.HubURL() != "" || p.PageURL() != "https://arxiv.org/abs/2606.00467" {
		t.Errorf("arXiv-only paper links: %q %q %q %q", p.AbsURL(), p.PDFURL(), p.HubURL(), p.PageURL())
	}
	p.Hub = true
	if p.HubURL() != "https://huggingface.co/papers/2606.00467" || p.PageURL() != p.HubURL() {
		t.Errorf("Hugging Face paper links: %q %q", p.HubURL(), p.PageURL())
	}
	link := "https://lab.example.org/pubs/sparse-routing"
	q := Paper{ID: LinkID(link), Link: link}
	q.Hub = true // a listing item without an arXiv id has no Hugging Face page
	if q.IsArxiv() || q.AbsURL() != "" || q.PDFURL() != "" || q.HubURL() != "" || q.PageURL() != link {
		t.Errorf("linked paper: arxiv=%v %q %q %q", q.IsArxiv(), q.AbsURL(), q.PDFURL(), q.PageURL())
	}
	if LinkID(link) != LinkID(" "+link+"\n") || LinkID(link) == LinkID(link+"/") || !strings.HasPrefix(LinkID(link), "url-") {
		t.Errorf("LinkID is not stable or not distinct: %q", LinkID(link))
	}
}

func FuzzNormalizeArxivID(f *testing.F) {
	for _, s := range []string{"2606.00467v2", "hep-th/9901001", "arXiv:0704.0001", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := NormalizeArxivID(s)
		if !ok {
			if id != "" {
				t.Fatalf("rejected %q but returned %q", s, id)
			}
			return
		}
		// An accepted id is its own normal form, and has no version.
		again, ok := NormalizeArxivID(id)
		if !ok || again != id {
			t.Fatalf("NormalizeArxivID(%q) = %q, but that normalises to %q, %v", s, id, again, ok)
		}
		if !(&Paper{ID: id}).IsArxiv() {
			t.Fatalf("IsArxiv rejects the normal form %q", id)
		}
	})
}

// fullPaper has every field set, so a field SameContent forgets shows up.
func fullPaper() Paper {
	return Paper{
		ID: "2606.00467", Title: "T", Abstract: "A", Authors: []string{"X"},
		Link: "https://example.org/p", Published: time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC),
		Day: time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC), Hub: true, Upvotes: 1, Comments: 2,
		Thumbnail: "https://example.org/t.png", GitHubRepo: "https://github.com/e/r", GitHubStars: 3,
		ProjectPage: "https://example.org/x", Organization: "O", AISummary: "S",
		AIKeywords: []string{"k"}, Categories: []string{"cs.CL"}, ArxivComments: "c",
		JournalRef: "j", Section: "new", Sources: []string{"hf"},
		FirstSeen: time.Date(2026, 6, 13, 6, 0, 0, 0, time.UTC), LastSeen: time.Date(2026, 6, 14, 0, 0, 0, 0, time.UTC),
	}
}

func TestFullPaperSetsEveryField(t *testing.T) {
	v := reflect.ValueOf(fullPaper())
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("fullPaper leaves %s zero; set it so TestSameContentCoversEveryField covers it", v.Type().Field(i).Name)
		}
	}
}

func TestSameContentCoversEveryField(t *testing.T) {
	base := fullPaper()
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			other := base
			v := reflect.ValueOf(&other).Elem().Field(i)
			switch x := v.Interface().(type) {
			case string:
				v.SetString(x + "!")
			case int:
				v.SetInt(int64(x) + 1)
			case []string:
				v.Set(reflect.ValueOf(append(slices.Clone(x), "extra")))
			case time.Time:
				v.Set(reflect.ValueOf(x.Add(time.Nanosecond)))
			case bool:
				v.SetBool(!x)
			default:
				t.Fatalf("field %s has type %T: teach SameContent and this test about it", f.Name, x)
			}
			want := f.Name == "LastSeen"
			if got := SameContent(&base, &other); got != want {
				t.Errorf("SameContent with %s changed = %v, want %v", f.Name, got, want)
			}
		})
	}
}
