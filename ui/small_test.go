package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/npti-studio/npti/analysis"
)

// TestRuleEntriesValidate: the rule's number fields apply as typed (no
// Enter needed) and show invalid text as an error instead of reading 0.
func TestRuleEntriesValidate(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	u.explore.openSets(sharedDir(t, "data", "npti-llama3-8b-instruct"))
	waitStatus(t, u, "Opened 8 neuron sets")
	pv := u.explore.pick
	pv.ruleMode.SetSelected(analysis.ModeTopK)
	pv.topK.SetText("")
	test.Type(pv.topK, "150")
	if u.st.rule.TopK != 150 {
		t.Errorf("typed top-k 150, rule has %d", u.st.rule.TopK)
	}
	if ns, _ := u.st.selection(u.st.aspect); len(ns) != 150 {
		t.Errorf("top-k 150 selects %d", len(ns))
	}
	pv.cap.SetText("x1")
	if !pv.ruleErr.Visible() || !strings.Contains(pv.ruleErr.Text, `Per-layer cap "x1" is not a whole number`) {
		t.Errorf("invalid cap: error label %q (shown %v)", pv.ruleErr.Text, pv.ruleErr.Visible())
	}
	if pv.cap.Validate() == nil {
		t.Error("the entry does not flag its invalid text")
	}
	if u.st.rule.PerLayerCap != 0 || u.st.rule.TopK != 150 {
		t.Errorf("an invalid field changed the rule: %+v", u.st.rule)
	}
	pv.cap.SetText("3")
	if pv.ruleErr.Visible() || u.st.rule.PerLayerCap != 3 {
		t.Errorf("valid cap: error shown %v, rule cap %d", pv.ruleErr.Visible(), u.st.rule.PerLayerCap)
	}
}

// TestInduceQuestionsFromBench: with a PersonalityBench folder chosen the
// question picker offers that folder's questions, not the built-in ones.
func TestInduceQuestionsFromBench(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	dir := sharedDir(t, "data", "personalitybench")
	u.identify.folder.SetText(dir)
	b, err := analysis.LoadBenchDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := b.Questions[u.st.aspect.Trait]
	if got := u.induce.pick.Options; len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("picker offers %d questions, the folder has %d", len(got), len(want))
	}
}

// Statistics identified on the search split name their folder with the
// split ("personalitybench:DIR split search"): scoring still trains on
// DIR's descriptions and offers its test questions.
func TestScoringDataOfSearchSplit(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	dir := sharedDir(t, "data", "personalitybench")
	u.st.stats = &analysis.StatsSet{Meta: analysis.Meta{DataSource: "personalitybench:" + dir + " split search"}}
	if got := u.scoringData(); got != dir {
		t.Fatalf("scoring data %q, want %q", got, dir)
	}
	if _, b, err := u.scorers(); err != nil || len(b.Questions) == 0 {
		t.Fatalf("scorers of the search split's folder: %v", err)
	}
}

// failEngine fails every generation.
type failEngine struct{ *tinyEngine }

func (e *failEngine) Runner() analysis.Runner {
	if e.m == nil {
		return nil
	}
	return e
}
func (e *failEngine) Generate(context.Context, [][]int, analysis.GenSpec) ([][]int, error) {
	return nil, errors.New("out of memory")
}

// TestInduceErrorClearsScores: after a failed generation the panes no
// longer say a score is coming.
func TestInduceErrorClearsScores(t *testing.T) {
	u := newTestUI(t, &failEngine{&tinyEngine{}})
	u.start.load(sharedDir(t, "models", "persona-tiny"))
	waitStatus(t, u, "Model loaded")
	iv := u.induce
	iv.start()
	iv.stream(u.engine.Runner(), []int{1}, analysis.GenSpec{MaxTokens: 2}, Generation{Aspect: "Extraversion_high"})
	wait(t, iv.done, "induction")
	settle(t, u)
	for _, l := range []string{u.induce.baseS.Text, u.induce.indS.Text} {
		if strings.Contains(l, "…") {
			t.Errorf("score label %q still waits after the error", l)
		}
	}
}

// TestOrderSelectFits: the view order select is wide enough for its
// longest option.
func TestOrderSelectFits(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	u.showTab(tabExplore)
	need := fyne.MeasureText(orderSorted, theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding() + theme.IconInlineSize()
	if w := u.explore.order.Size().Width; w < need {
		t.Errorf("order select %v wide, %q needs %v", w, orderSorted, need)
	}
}

// The sweep's summary line names the sweet spot, or says that no γ kept
// the answers within the fluency budget (the plot's dotted line).
func TestSweepSummarySweetSpot(t *testing.T) {
	res := &analysis.SweepResult{Pole: "high", MaxFluencyCost: 1, Unsteered: analysis.SweepPoint{Score: 0.75, NLL: 0.74},
		Points:     []analysis.SweepPoint{{Variant: "npti", Gamma: 0.8, Score: 0.9, NLL: 1.5}, {Variant: "npti", Gamma: 1, Score: 1, NLL: 1.99}},
		SweetSpots: []analysis.SweetSpot{{Variant: "npti", Found: true, Gamma: 0.8}}}
	if got := sweepSummary(res); !strings.Contains(got, "→ 1.00 at γ 1") || !strings.Contains(got, "sweet spot γ 0.8") {
		t.Errorf("summary %q", got)
	}
	res.SweetSpots[0].Found = false
	if got := sweepSummary(res); !strings.Contains(got, "no γ keeps npti within the fluency budget (NLL +1)") {
		t.Errorf("summary without a sweet spot %q", got)
	}
}
