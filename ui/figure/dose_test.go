package figure

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/npti-studio/npti/analysis"
)

// doseResult is a sweep shaped like the persona-tiny reference: the score
// rises with γ while the NLL climbs from 0.8.
func doseResult() *analysis.SweepResult {
	res := &analysis.SweepResult{Trait: "Extraversion", Pole: "high", Questions: 20, MaxFluencyCost: 1.5,
		Unsteered: analysis.SweepPoint{Condition: analysis.CondUnsteered, Score: 0.33, NLL: 0.8},
		Baselines: []analysis.SweepPoint{{Condition: analysis.CondAdjective, Score: 0.6, NLL: 1}}}
	for k, g := range analysis.DefaultGammas() {
		res.Points = append(res.Points,
			analysis.SweepPoint{Condition: analysis.CondInduced, Variant: "npti", Gamma: g, Score: 0.6 + 0.06*float64(k), NLL: 1.6 + 0.4*float64(k)},
			analysis.SweepPoint{Condition: analysis.CondInduced, Variant: "add-only", Gamma: g, Score: 0.5 + 0.05*float64(k), NLL: 1.4 + 0.4*float64(k)})
	}
	res.Points = append(res.Points, analysis.SweepPoint{Condition: analysis.CondInduced, Variant: "clamp-only", Score: 0.45, NLL: 1.1})
	res.SweetSpots = []analysis.SweetSpot{{Variant: "npti", Found: true, Gamma: 0.8, Shift: 0.33, Cost: 1.2}}
	return res
}

func TestDoseResponse(t *testing.T) {
	p, err := DoseResponse(doseResult(), DoseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.X.Min >= 0.6 || p.X.Max <= 1.6 || p.Y.Min != 0 {
		t.Errorf("axes x %v..%v y from %v", p.X.Min, p.X.Max, p.Y.Min)
	}
	dir := t.TempDir()
	for _, ext := range []string{".png", ".svg", ".pdf"} {
		path := filepath.Join(dir, "dose"+ext)
		if err := Save(p, path, 8*vg.Inch, 5*vg.Inch); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", path, err)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "dose.svg"))
	for _, want := range []string{"npti score", "npti NLL", "add-only score", "clamp-only score", "unsteered score",
		"adjective prompt score", "sweet spot", "γ (induction intensity)", "Inducing Extraversion high"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("figure lacks %q", want)
		}
	}
	p, err = DoseResponse(doseResult(), DoseOptions{HideNLL: true, Variants: []string{"add-only"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "score.svg")
	if err := Save(p, path, 6*vg.Inch, 4*vg.Inch); err != nil {
		t.Fatal(err)
	}
	svg, _ = os.ReadFile(path)
	if !strings.Contains(string(svg), "add-only score") || strings.Contains(string(svg), "NLL") || strings.Contains(string(svg), "npti score") {
		t.Error("the score-only add-only plot shows other series")
	}
	if _, err := DoseResponse(nil, DoseOptions{}); err == nil {
		t.Error("nil result accepted")
	}
	if _, err := DoseResponse(doseResult(), DoseOptions{Variants: []string{"nope"}}); err == nil {
		t.Error("unknown variant accepted")
	}
}
