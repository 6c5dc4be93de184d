package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/hook"
	"github.com/npti-studio/npti/inference/refdata"
	"github.com/npti-studio/npti/inference/tokenizer"
	"github.com/npti-studio/npti/ui/figure"
)

// tinyEngine is a test Engine over the inference package: the app's
// engine lives in package app, which imports ui.
type tinyEngine struct {
	m   *inference.Model
	tok *tokenizer.Tokenizer
}

func (e *tinyEngine) Load(_ context.Context, path string) (ModelInfo, error) {
	m, err := inference.Load(path, inference.Options{})
	if err != nil {
		return ModelInfo{}, err
	}
	tok, err := tokenizer.Load(path)
	if err != nil {
		return ModelInfo{}, err
	}
	e.m, e.tok = m, tok
	return ModelInfo{Path: path, Name: filepath.Base(path), Architecture: m.Config.Architecture,
		Layers: m.Layers(), Neurons: m.Neurons(), DType: m.Config.TorchDType, Backend: m.BackendName(),
		WeightBytes: m.WeightBytes(), WeightDType: m.WeightDType()}, nil
}

func (e *tinyEngine) Runner() analysis.Runner {
	if e.m == nil {
		return nil
	}
	return e
}
func (e *tinyEngine) Cached() ([]CachedModel, error) { return nil, nil }
func (e *tinyEngine) Download(context.Context, string, func(string, int64, int64)) (string, error) {
	return "", os.ErrPermission
}
func (e *tinyEngine) Shape() (int, int)                      { return e.m.Layers(), e.m.Neurons() }
func (e *tinyEngine) ModelInfo() (string, string)            { return e.m.Path, "" }
func (e *tinyEngine) ChatPrompt(string) ([]int, bool, error) { return nil, false, nil }
func (e *tinyEngine) BOS() int                               { return e.m.Config.BOSTokenID }
func (e *tinyEngine) EOS() []int                             { return e.m.Config.EOSTokenIDs }
func (e *tinyEngine) Tokenize(s string, special bool) ([]int, error) {
	ids, err := e.tok.Encode(s, special)
	if err == nil && special && (len(ids) == 0 || ids[0] != 1) {
		ids = append([]int{1}, ids...) // persona-tiny's tokenizer adds no BOS itself
	}
	return ids, err
}
func (e *tinyEngine) Detokenize(ids []int) string {
	var out []int
	for _, id := range ids {
		if id != 2 {
			out = append(out, id)
		}
	}
	return e.tok.Decode(out)
}
func (e *tinyEngine) TeacherForce(ctx context.Context, seqs [][]int, o *hook.Override, c *hook.Stats) error {
	_, err := e.m.Forward(ctx, seqs, inference.ForwardOptions{Override: o, Capture: c})
	return err
}
func (e *tinyEngine) LogProbs(ctx context.Context, seqs [][]int) ([][]float64, error) {
	return e.m.Forward(ctx, seqs, inference.ForwardOptions{LogProbs: true})
}
func (e *tinyEngine) Generate(ctx context.Context, p [][]int, g analysis.GenSpec) ([][]int, error) {
	return e.m.Generate(ctx, p, inference.GenerateOptions{MaxTokens: g.MaxTokens,
		Sampling: inference.Sampling{Temperature: g.Temperature, RepetitionPenalty: g.RepetitionPenalty, Seed: g.Seed},
		StopIDs:  e.EOS(), Override: g.Override, OverrideRows: g.OverrideRows, OnToken: g.OnToken})
}

// sharedDir returns a path in the reference data (../shared).
func sharedDir(t testing.TB, parts ...string) string { return refdata.Path(t, parts...) }

// wait waits for a channel closed by a UI callback.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(8 * time.Minute):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// newTestUI builds the window in the test driver, with a status hook.
func newTestUI(t *testing.T, eng Engine) *UI {
	t.Setenv("HOME", t.TempDir())
	a := test.NewTempApp(t)
	u := New(a, eng, Options{})
	u.win.Resize(fyne.NewSize(1280, 800))
	u.win.Show()
	return u
}

// settle waits until every background job of the window has run its
// done callback (UI.work): the wait orders the UI's writes before the
// test's reads, which polling widgets would not.
func settle(t *testing.T, u *UI) {
	t.Helper()
	ch := make(chan struct{})
	go func() {
		u.work.Wait()
		close(ch)
	}()
	wait(t, ch, "background work")
}

// waitStatus waits for the background work, then checks the status line.
func waitStatus(t *testing.T, u *UI, want string) {
	t.Helper()
	settle(t, u)
	if s := u.status.Text; !strings.Contains(s, want) {
		t.Fatalf("status %q, want %q", s, want)
	}
}

func TestFlowPersonaTiny(t *testing.T) {
	eng := &tinyEngine{}
	u := newTestUI(t, eng)
	// 1. Load.
	u.start.load(sharedDir(t, "models", "persona-tiny"))
	waitStatus(t, u, "Model loaded")
	if got := u.start.card.Text; !strings.Contains(got, "4 layers × 384 neurons") {
		t.Fatalf("model card %q lacks the shape", got)
	}
	// 2. Identify, teacher mode, two traits, into a temp folder.
	iv := u.identify
	if iv.mode.Selected != analysis.IdentifyTeacher {
		t.Errorf("default mode for a model without chat template = %q, want teacher", iv.mode.Selected)
	}
	iv.traits.SetSelected([]string{"Extraversion", "Neuroticism"})
	// PersonalityBench lines 0-69: persona-tiny's training descriptions,
	// as in the reference run (RESULTS.md).
	iv.folder.SetText(sharedDir(t, "data", "personalitybench"))
	iv.lines.SetText("0-69")
	if raceEnabled {
		iv.lines.SetText("0-11")
	}
	out := filepath.Join(t.TempDir(), "stats")
	iv.out.SetText(out)
	test.Tap(iv.run)
	wait(t, iv.done, "identification")
	waitStatus(t, u, "Identification done")
	if _, err := os.Stat(filepath.Join(out, analysis.MetaFile)); err != nil {
		t.Fatalf("no stats folder written: %v", err)
	}
	// 3. Explore: the heatmap shows Extraversion with a selection.
	st := u.st
	if st.aspect.Trait != analysis.Extraversion || u.explore.fig == nil {
		t.Fatalf("explore shows %v (figure %v)", st.aspect, u.explore.fig != nil)
	}
	ns, err := st.selection(st.aspect)
	if err != nil || len(ns) == 0 {
		t.Fatalf("rule selected %d neurons (%v)", len(ns), err)
	}
	// 4. Pick by rule: a higher threshold selects fewer neurons.
	u.explore.pick.ruleMode.SetSelected(analysis.ModeThreshold)
	u.explore.pick.setThreshold(0.05)
	loose, _ := st.selection(st.aspect)
	u.explore.pick.setThreshold(0.2)
	strict, _ := st.selection(st.aspect)
	if len(strict) >= len(loose) || len(loose) == 0 {
		t.Errorf("threshold 0.2 selects %d, 0.05 selects %d: want fewer", len(strict), len(loose))
	}
	// The reference selection (diff ≥ 0.1) has 402 Extraversion-high neurons.
	u.explore.pick.setThreshold(0.1)
	if ref, _ := st.selection(st.aspect); !raceEnabled && (len(ref) < 340 || len(ref) > 465) {
		t.Errorf("diff ≥ 0.1 selects %d Extraversion-high neurons, the reference 402", len(ref))
	}
	checkOverlay(t, u)
	// Pick by tapping the heatmap: zoom in so one pixel is one neuron,
	// then tap the centre of the grid and check that neuron toggled.
	ex := u.explore
	ex.x0, ex.x1 = -0.5, 31.5
	ex.refresh()
	sz := ex.heat.Size()
	pos := fyne.NewPos(sz.Width*0.45, sz.Height*0.5)
	c, ok := ex.cellAt(ex.heat.toPixel(pos), ex.heat.pw, ex.heat.ph)
	if !ok {
		t.Fatalf("centre of the heatmap %v is not on the grid", pos)
	}
	before := st.selected(st.aspect, c.Layer, c.Neuron)
	test.TapAt(ex.heat, pos)
	if st.selected(st.aspect, c.Layer, c.Neuron) == before {
		t.Errorf("tapping neuron %d of layer %d did not toggle it", c.Neuron, c.Layer)
	}
	// 5. Induce low Extraversion: both panes fill and are scored. (From
	// "<s>You are" the unsteered text already scores P(high) ≈ 1, so the
	// low pole is the one whose effect shows.)
	u.explore.pick.ruleMode.SetSelected(analysis.ModeNPTI)
	u.explore.pick.setThreshold(0.1)
	iu := u.induce
	iu.prompt.SetText("<s>You are")
	iu.maxTokens.SetText("24")
	test.Tap(iu.lowB)
	wait(t, iu.done, "induction")
	waitStatus(t, u, "Generation done")
	if iu.base.Text == "" || iu.ind.Text == "" {
		t.Fatalf("panes: baseline %q, induced %q", iu.base.Text, iu.ind.Text)
	}
	if iu.base.Text == iu.ind.Text {
		t.Errorf("the induced answer equals the baseline: %q", iu.ind.Text)
	}
	if len(iu.history) != 1 || !strings.Contains(iu.indS.Text, "P(high") {
		t.Errorf("no scored generation recorded (%d, %q)", len(iu.history), iu.indS.Text)
	}
	// P(high) is scored by the scorer trained on PersonalityBench, the
	// data used: inducing low Extraversion lowers it.
	if g := iu.history[0]; !raceEnabled && !(g.PHighInduced < g.PHighBaseline-0.3) {
		t.Errorf("P(high) baseline %.2f, induced %.2f: want a clear drop", g.PHighBaseline, g.PHighInduced)
	}
	checkSweep(t, u)
	// 6. Export in each plot format.
	for _, f := range []string{"png", "svg", "pdf"} {
		dir := filepath.Join(t.TempDir(), f)
		u.report.export(dir, []string{f})
		waitStatus(t, u, "Exported 3 plots ("+f+")")
		checkExport(t, filepath.Join(dir, "heatmap."+f))
		checkExport(t, filepath.Join(dir, "layers."+f))
		checkExport(t, filepath.Join(dir, "dose_response."+f))
		checkStatsCSV(t, u, dir)
		for _, name := range []string{"statistics.csv", "selection.csv", "generations.jsonl", "session.json", "neurons/Extraversion_dict.json"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
				t.Errorf("export %s: %s missing or empty", f, name)
			}
		}
	}
	checkSession(t, u)
}

// checkOverlay overlays Neuroticism high on Extraversion high and checks
// the counts against analysis.Plan (conflicts) and the set union.
func checkOverlay(t *testing.T, u *UI) {
	t.Helper()
	st := u.st
	eh, nh := st.aspect, analysis.Aspect{Trait: analysis.Neuroticism, Pole: analysis.High}
	u.explore.pick.overlayTo.SetSelected(nh.String())
	defer u.explore.pick.overlayTo.SetSelected(noOverlay)
	_, c, err := st.overlay(eh, nh)
	if err != nil {
		t.Fatal(err)
	}
	sets, _ := st.selections()
	layers, neurons := st.shape()
	_, rep, err := analysis.DefaultPlan(analysis.Induction{Trait: eh.Trait, Pole: eh.Pole, Gamma: 1},
		analysis.Induction{Trait: nh.Trait, Pole: nh.Pole, Gamma: 1}).Build(sets, layers, neurons)
	if err != nil {
		t.Fatal(err)
	}
	if c.Conflicts != rep.Conflicts || c.Conflicts == 0 {
		t.Errorf("overlay shows %d conflicts, the plan finds %d", c.Conflicts, rep.Conflicts)
	}
	if all := len(analysis.Union(sets[eh], sets[nh], nil)); c.A+c.B+c.Both+c.Conflicts != all {
		t.Errorf("overlay classes %+v sum to %d, the union has %d", c, c.A+c.B+c.Both+c.Conflicts, all)
	}
	if c.Both == 0 || c.A == 0 || c.B == 0 {
		t.Errorf("overlay counts %+v: want every class present", c)
	}
	if got := u.explore.counts.Text; !strings.Contains(got, fmt.Sprintf("conflicts %d", c.Conflicts)) {
		t.Errorf("counts line %q lacks the conflicts", got)
	}
}

// checkSweep runs a tiny dose-response sweep (2 γ values, 2 openings)
// and checks that the figure replaces the placeholder.
func checkSweep(t *testing.T, u *UI) {
	t.Helper()
	rv := u.report
	if !rv.empty.Visible() || rv.result != nil {
		t.Fatal("the Report tab shows no placeholder before a sweep")
	}
	rv.gammas.SetText("0.5, 1.5")
	rv.questions.SetText("2")
	rv.tokens.SetText("20")
	rv.onSweep()
	wait(t, rv.done, "sweep")
	waitStatus(t, u, "Dose-response sweep done")
	res := rv.result
	if res == nil || len(res.Points) != 2 || res.Questions != 2 {
		t.Fatalf("sweep result %+v: want 2 points over 2 questions", res)
	}
	u.showTab(tabReport)
	if rv.empty.Visible() || rv.dose.img.Image == nil {
		t.Error("the dose-response figure is not shown after the sweep")
	}
	if best := max(res.Points[0].Score, res.Points[1].Score); !(best > res.Unsteered.Score) {
		t.Errorf("P(high) unsteered %.2f, induced %v: want a rise", res.Unsteered.Score, res.Points)
	}
}

// checkSession saves the session, reopens it in a fresh window and
// compares; then changes a data file and checks that reopening reports it.
func checkSession(t *testing.T, u *UI) {
	t.Helper()
	st := u.st
	u.induce.gamma.SetValue(1.25)
	u.explore.pick.overlayTo.SetSelected("Neuroticism low")
	path := filepath.Join(t.TempDir(), "session.json")
	if err := u.saveSession(path); err != nil {
		t.Fatal(err)
	}
	want, _ := st.selection(st.aspect)
	u2 := newTestUI(t, &tinyEngine{})
	u2.OpenSession(path)
	waitStatus(t, u2, "Model loaded")
	s2 := u2.st
	switch {
	case s2.model == nil || s2.model.Path != st.model.Path:
		t.Errorf("model not restored: %+v", s2.model)
	case s2.statsDir != st.statsDir || s2.stats == nil || len(s2.stats.Poles) != len(st.stats.Poles):
		t.Errorf("stats not restored: %q", s2.statsDir)
	case s2.aspect != st.aspect || s2.rule != st.rule:
		t.Errorf("aspect/rule %v %+v, want %v %+v", s2.aspect, s2.rule, st.aspect, st.rule)
	case u2.induce.gamma.Value != 1.25 || u2.induce.prompt.Text != u.induce.prompt.Text:
		t.Errorf("plan not restored: γ %v prompt %q", u2.induce.gamma.Value, u2.induce.prompt.Text)
	case u2.explore.pick.overlayTo.Selected != "Neuroticism low":
		t.Errorf("overlay %q not restored", u2.explore.pick.overlayTo.Selected)
	case u2.explore.pick.threshold.Value != st.rule.Threshold:
		t.Errorf("threshold slider %v, rule %v", u2.explore.pick.threshold.Value, st.rule.Threshold)
	case u2.identify.data.Selected != dataFolder || u2.identify.folder.Text != u.identify.folder.Text ||
		u2.identify.lines.Text != u.identify.lines.Text || u2.identify.mode.Selected != u.identify.mode.Selected ||
		len(u2.identify.traits.Selected) != 2:
		t.Errorf("identification settings not restored: data %q folder %q lines %q mode %q traits %v",
			u2.identify.data.Selected, u2.identify.folder.Text, u2.identify.lines.Text, u2.identify.mode.Selected, u2.identify.traits.Selected)
	}
	got, _ := s2.selection(s2.aspect)
	if len(got) != len(want) || len(analysis.Difference(want, got)) != 0 || len(st.edits[st.aspect]) == 0 {
		t.Errorf("selection of %d neurons (edits %d) restored as %d", len(want), len(st.edits[st.aspect]), len(got))
	}
	// A changed data file is reported through its hash.
	meta := filepath.Join(st.statsDir, analysis.MetaFile)
	f, err := os.OpenFile(meta, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n")
	f.Close()
	u3 := newTestUI(t, &tinyEngine{})
	u3.OpenSession(path)
	settle(t, u3)
	if !strings.Contains(overlayText(u3), meta) {
		t.Errorf("reopening after %s changed shows no warning naming it: %q", meta, overlayText(u3))
	}
}

// overlayText joins the label texts of the window's top overlay (dialog).
func overlayText(u *UI) string {
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		return ""
	}
	var b strings.Builder
	for _, o := range test.LaidOutObjects(top) {
		if l, ok := o.(*widget.Label); ok {
			b.WriteString(l.Text + " ")
		}
	}
	return b.String()
}

// checkStatsCSV checks that statistics.csv holds every neuron of both
// identified traits and selection.csv the selected neurons.
func checkStatsCSV(t *testing.T, u *UI, dir string) {
	t.Helper()
	lines := func(name string) []string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}
	stats := lines("statistics.csv")
	layers, neurons := u.st.shape()
	if want := 1 + 2*layers*neurons; len(stats) != want || stats[0] != "trait,layer,neuron,p_high,p_low,diff,q95_high,q95_low" {
		t.Errorf("statistics.csv: %d lines (header %q), want %d: every neuron of both traits", len(stats), stats[0], want)
	} else if f := strings.Split(stats[len(stats)-1], ","); len(f) != 8 || f[0] != "Neuroticism" {
		t.Errorf("statistics.csv last row %q", stats[len(stats)-1])
	}
	sets, _ := u.st.selections()
	n := 0
	for _, ns := range sets {
		n += len(ns)
	}
	if sel := lines("selection.csv"); len(sel) != 1+n {
		t.Errorf("selection.csv: %d lines, want %d selected neurons", len(sel)-1, n)
	}
}

// checkExport checks that an exported plot parses in its format.
func checkExport(t *testing.T, path string) {
	t.Helper()
	if err := figure.CheckFile(path); err != nil {
		t.Error(err)
	}
}

// TestPublishedLlamaSets opens the published Llama-3-8B sets without a
// model and checks the layer pattern through the per-layer counts shown.
func TestPublishedLlamaSets(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	u.explore.openSets(sharedDir(t, "data", "npti-llama3-8b-instruct"))
	waitStatus(t, u, "Opened 8 neuron sets")
	if got := u.explore.trait.Options; len(got) != 4 {
		t.Fatalf("traits offered %v, want the 4 published", got)
	}
	u.explore.trait.SetSelected("Extraversion")
	u.explore.pole.SetSelected("high")
	series := u.explore.layerSeries()
	counts := series[0].Counts
	if len(counts) != 32 {
		t.Fatalf("%d layers, want 32", len(counts))
	}
	total, early := 0, counts[0]+counts[1]+counts[2]
	for _, c := range counts {
		total += c
	}
	// Layers 0-2 nearly empty: their mean is under a quarter of the mean layer.
	if total < 20000 || early*32*4 > total*3 {
		t.Errorf("Extraversion high: %d neurons, %d in layers 0-2: want >20k and layers 0-2 nearly empty", total, early)
	}
	peak := 0
	for l, c := range counts {
		if c > counts[peak] {
			peak = l
		}
	}
	if peak < 28 {
		t.Errorf("Extraversion high peaks in layer %d, want one of the last layers", peak)
	}
	// Hover text comes from the dict records.
	if s := u.explore.describe(31, int(u.st.sets[analysis.Aspect{Trait: analysis.Extraversion}][0].Index)); !strings.Contains(s, "set") {
		t.Errorf("hover text %q", s)
	}
}
