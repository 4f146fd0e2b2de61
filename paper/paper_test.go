package paper

import (
	"strings"
	"testing"
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
