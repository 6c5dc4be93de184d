package judge

import (
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
)

func TestParseRating(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  float64
		ok    bool
	}{
		{"Clear and cheerful. Rating: [[4]]", 4, true},
		{"rating:[[ 2 ]]", 2, true},
		{"RATING :  [[5]]\n", 5, true},
		{"**Rating:** [[3]]", 3, true},
		{"Rating: [[4.0]]", 4, true},
		{"Rating: [[3.5]]", 3.5, true},
		{"Rating: [[1]] at first, but on reflection Rating: [[5]]", 5, true},
		{"Rating: [[4]] then Rating: [[9]]", 0, false}, // the last one decides
		{"Rating: [[0]]", 0, false},
		{"Rating: [[6]]", 0, false},
		{"Rating: [[-3]]", 0, false},
		{"Rating: [4]", 0, false},
		{"Rating: [[four]]", 0, false},
		{"[[4]]", 0, false},
		{"I would say 4 out of 5.", 0, false},
		{"", 0, false},
		{"You are a highly conscientious person who values efficiency", 0, false},
	} {
		got, ok := ParseRating(tc.reply)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRating(%q) = %v, %v; want %v, %v", tc.reply, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTraitPromptNamesFacetsAndPole(t *testing.T) {
	for _, tr := range analysis.Traits() {
		for _, p := range []analysis.Pole{analysis.High, analysis.Low} {
			s, err := TraitPrompt(tr, p, "What do you do on weekends?", "I stay home and read.")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range analysis.Facets(tr) {
				if !strings.Contains(s, f) {
					t.Errorf("%s %s prompt lacks facet %q", tr, p, f)
				}
			}
			want := p.String() + " " + strings.ToLower(string(tr))
			if !strings.Contains(s, want) || !strings.Contains(s, "Rating: [[n]]") ||
				!strings.Contains(s, "I stay home and read.") || !strings.Contains(s, "weekends") {
				t.Errorf("%s %s prompt:\n%s", tr, p, s)
			}
		}
	}
	if _, err := TraitPrompt("Humour", analysis.High, "q", "a"); err == nil {
		t.Error("unknown trait accepted")
	}
	if _, err := TraitPrompt(analysis.Openness, analysis.Pole(7), "q", "a"); err == nil {
		t.Error("bad pole accepted")
	}
	f := FluencyPrompt("q?", "the answer")
	if !strings.Contains(f, "fluency") || !strings.Contains(f, "the answer") || !strings.HasSuffix(f, "Rating: [[n]]") {
		t.Errorf("fluency prompt:\n%s", f)
	}
}

// FuzzParseRating checks that any reply parses without panic to either no
// rating or a score inside the scale that the reply actually spells out.
func FuzzParseRating(f *testing.F) {
	for _, s := range []string{"Rating: [[4]]", "rating:[[ 3.5 ]]", "Rating: [[9]]", "[[", "Rating: [[" + strings.Repeat("9", 40) + "]]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseRating(s)
		if !ok {
			if v != 0 {
				t.Fatalf("not ok but score %v", v)
			}
			return
		}
		if v < MinScore || v > MaxScore {
			t.Fatalf("score %v outside the scale for %q", v, s)
		}
		if !strings.Contains(s, "[[") || !strings.Contains(s, "]]") {
			t.Fatalf("score %v from %q without brackets", v, s)
		}
	})
}
