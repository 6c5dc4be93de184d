package figure

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

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
	st, err := DoseResponse(doseResult(), DoseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Plots) != 2 {
		t.Fatalf("%d panels, want score and NLL", len(st.Plots))
	}
	score, nll := st.Plots[0], st.Plots[1]
	if score.X.Min >= 0.6 || score.X.Max <= 1.6 || score.X.Min != nll.X.Min || score.X.Max != nll.X.Max {
		t.Errorf("x ranges %v..%v and %v..%v: want one range around 0.6..1.6", score.X.Min, score.X.Max, nll.X.Min, nll.X.Max)
	}
	if score.Y.Min != 0 || score.Y.Max != 1 {
		t.Errorf("score axis %v..%v, want 0..1", score.Y.Min, score.Y.Max)
	}
	// The NLL axis holds the unsteered 0.8, the largest NLL 3.6 and the budget 2.3.
	if nll.Y.Min > 0.8 || nll.Y.Min < 0 || nll.Y.Max < 3.6 || nll.Y.Max > 4.5 {
		t.Errorf("NLL axis %v..%v, want about 0.7..3.8", nll.Y.Min, nll.Y.Max)
	}
	if score.Y.Label.Text != "P(high pole)" || nll.Y.Label.Text != "NLL (nats/token)" || score.X.Label.Text != "" {
		t.Errorf("labels %q, %q, top x %q", score.Y.Label.Text, nll.Y.Label.Text, score.X.Label.Text)
	}
	dir := t.TempDir()
	for _, ext := range Formats {
		path := filepath.Join(dir, "dose"+ext)
		if err := Save(st, path, 8*vg.Inch, 5*vg.Inch); err != nil {
			t.Fatal(err)
		}
		checkExport(t, path)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "dose.svg"))
	for _, want := range []string{"npti", "add-only", "clamp-only (no γ)", "unsteered", "adjective prompt",
		"npti sweet spot (γ 0.8)", "γ* = 0.8", "fluency budget (+1.5)", "P(high pole)", "NLL (nats/token)",
		"γ (induction intensity)", "Inducing Extraversion (high pole)"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("figure lacks %q", want)
		}
	}
	if n := strings.Count(string(svg), ">unsteered<"); n != 1 {
		t.Errorf("legend names the unsteered baseline %d times, want once for both panels", n)
	}
	if _, err := DoseResponse(nil, DoseOptions{}); err == nil {
		t.Error("nil result accepted")
	}
	if _, err := DoseResponse(doseResult(), DoseOptions{Variants: []string{"nope"}}); err == nil {
		t.Error("unknown variant accepted")
	}
	if err := Save((*Stack)(nil), filepath.Join(dir, "nil.png"), vg.Inch, vg.Inch); err == nil {
		t.Error("nil stack saved")
	}
	if err := Save((*plot.Plot)(nil), filepath.Join(dir, "nil.png"), vg.Inch, vg.Inch); err == nil {
		t.Error("nil plot saved")
	}
}

func TestDoseScoreOnly(t *testing.T) {
	st, err := DoseResponse(doseResult(), DoseOptions{HideNLL: true, Variants: []string{"add-only"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Plots) != 1 || st.Plots[0].X.Label.Text == "" {
		t.Fatalf("%d panels, want the score panel with the γ label", len(st.Plots))
	}
	path := filepath.Join(t.TempDir(), "score.svg")
	if err := Save(st, path, 6*vg.Inch, 4*vg.Inch); err != nil {
		t.Fatal(err)
	}
	svg, _ := os.ReadFile(path)
	if !strings.Contains(string(svg), "add-only") || strings.Contains(string(svg), "NLL") || strings.Contains(string(svg), "npti") {
		t.Error("the score-only add-only plot shows other series")
	}
}

// TestDoseLayout checks that the panels' data areas line up and that the
// legend column lies right of every data area.
func TestDoseLayout(t *testing.T) {
	st, err := DoseResponse(doseResult(), DoseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := draw.New(vgimg.New(10*vg.Inch, 7*vg.Inch))
	tiles, legend := st.layout(c)
	top, bottom := st.Plots[0].DataCanvas(tiles[0]), st.Plots[1].DataCanvas(tiles[1])
	if top.Min.X != bottom.Min.X || top.Max.X != bottom.Max.X {
		t.Errorf("data areas x %v..%v and %v..%v are not aligned", top.Min.X, top.Max.X, bottom.Min.X, bottom.Max.X)
	}
	if top.Min.Y <= bottom.Max.Y {
		t.Errorf("score panel (y from %v) is not above the NLL panel (y to %v)", top.Min.Y, bottom.Max.Y)
	}
	if legend.Min.X <= top.Max.X || st.Legend.Rectangle(legend).Max.X > c.Max.X {
		t.Errorf("legend column %v..%v overlaps the data (to %v) or leaves the figure", legend.Min.X, legend.Max.X, top.Max.X)
	}
}

// TestDoseColours renders the figure and checks that each variant's colour
// shows in both panels.
func TestDoseColours(t *testing.T) {
	st, err := DoseResponse(doseResult(), DoseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 1000, 700
	img, err := Image(st, w, h)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "dose.png", img)
	c := draw.New(vgimg.New(vg.Length(w)*vg.Inch/96, vg.Length(h)*vg.Inch/96))
	tiles, _ := st.layout(c)
	for k, col := range doseColours[:2] {
		for p, tile := range tiles {
			d := st.Plots[p].DataCanvas(tile)
			if n := countColour(img, d.Rectangle, col.(color.RGBA), h); n < 50 {
				t.Errorf("variant %d colour: %d pixels in panel %d", k, n, p)
			}
		}
	}
}

// countColour counts the pixels of r (in points at 96 dpi, y up) within a
// small distance of col.
func countColour(img image.Image, r vg.Rectangle, col color.RGBA, hPx int) int {
	px := func(l vg.Length) int { return int(l.Dots(96)) }
	n := 0
	for y := hPx - px(r.Max.Y); y < hPx-px(r.Min.Y); y++ {
		for x := px(r.Min.X); x < px(r.Max.X); x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if absDiff(cr>>8, uint32(col.R))+absDiff(cg>>8, uint32(col.G))+absDiff(cb>>8, uint32(col.B)) < 30 {
				n++
			}
		}
	}
	return n
}

// checkExport checks that path parses as its format.
func checkExport(t *testing.T, path string) {
	t.Helper()
	if err := CheckFile(path); err != nil {
		t.Error(err)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{0.65, 2.8, "1 1.5 2 2.5"},
		{0.7, 3.8, "1 2 3"},
		{0, 1, "0 0.2 0.4 0.6 0.8 1"},
		{1.02, 1.09, "1.02 1.04 1.06 1.08"},
	} {
		var got []string
		for _, tk := range niceTicks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("niceTicks(%v, %v) labels %q, want %q", tc.lo, tc.hi, strings.Join(got, " "), tc.want)
		}
	}
}
