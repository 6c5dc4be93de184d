package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference/hook"
	"github.com/npti-studio/npti/resources"
)

// plainOpenings are prompts for models without a chat template.
// (the neutral openings of persona-tiny's reference run; "<s>" is the BOS
// token, matched as text by tokenizers without a post-processor).
var plainOpenings = []string{"<s>You are", "<s>You are a person who", "<s>You", "<s>Your", "<s>You tend to"}

// Generation is one side-by-side run, kept for the JSON Lines export.
type Generation struct {
	Time     time.Time `json:"time"`
	Aspect   string    `json:"aspect"`
	Gamma    float64   `json:"gamma"`
	Mask     float64   `json:"mask_fraction"`
	Scope    string    `json:"scope"`
	Seed     uint64    `json:"seed"`
	Prompt   string    `json:"prompt"`
	Chat     bool      `json:"chat"`
	Baseline string    `json:"baseline"`
	Induced  string    `json:"induced"`
	// PHighBaseline and PHighInduced are the naive Bayes P(high pole).
	PHighBaseline float64 `json:"p_high_baseline"`
	PHighInduced  float64 `json:"p_high_induced"`
	Added         int     `json:"neurons_added"`
	Clamped       int     `json:"neurons_clamped"`
}

// induceView generates the baseline and the induced answer side by side
// (one Generate call with two rows) and scores both.
type induceView struct {
	u       *UI
	content fyne.CanvasObject

	highB, lowB *widget.Button
	stopB       *widget.Button
	gamma       *widget.Slider
	gammaL      *widget.Label
	mask        *widget.Slider
	maskL       *widget.Label
	scope       *widget.Select
	seed        *entry
	maxTokens   *entry
	temp        *entry
	repPen      *entry
	chat        *widget.Check
	pick        *widget.Select
	prompt      *entry
	base, ind   *widget.Label
	baseS, indS *widget.Label
	stop        context.CancelFunc
	history     []Generation
	done        chan struct{} // closed when a run ends (for tests)
}

func newInduceView(u *UI) *induceView {
	v := &induceView{u: u}
	v.highB = widget.NewButton("Induce high", func() { v.run(analysis.High) })
	v.highB.Importance = widget.HighImportance
	v.lowB = widget.NewButton("Induce low", func() { v.run(analysis.Low) })
	v.lowB.Importance = widget.HighImportance
	v.stopB = widget.NewButton("Stop", v.onStop)
	v.stopB.Disable()
	v.gammaL = widget.NewLabel("")
	v.gamma = widget.NewSlider(0, 3)
	v.gamma.Step = 0.05
	v.gamma.OnChanged = func(x float64) { v.gammaL.SetText(fmt.Sprintf("γ (intensity) %.2f", x)) }
	v.gamma.SetValue(1)
	v.maskL = widget.NewLabel("")
	v.mask = widget.NewSlider(0, 1)
	v.mask.Step = 0.05
	v.mask.OnChanged = func(x float64) { v.maskL.SetText(fmt.Sprintf("Mask fraction %.0f %%", 100*x)) }
	v.mask.SetValue(0.9)
	v.scope = widget.NewSelect([]string{hook.Generated.String(), hook.All.String()}, nil)
	v.scope.SetSelected(hook.Generated.String())
	v.seed = numEntry("1", func() {})
	v.maxTokens = numEntry("120", func() {})
	v.temp = numEntry("0", func() {})
	v.repPen = numEntry("1.15", func() {})
	v.chat = widget.NewCheck("Chat template", nil)
	v.pick = widget.NewSelect(nil, func(s string) { v.prompt.SetText(s) })
	v.pick.PlaceHolder = "Pick a built-in question…"
	v.prompt = newMultiLineEntry()
	v.prompt.SetMinRowsVisible(3)
	v.prompt.Wrapping = fyne.TextWrapWord
	v.base, v.ind = answerLabel(), answerLabel()
	v.baseS, v.indS = widget.NewLabel("P(high): –"), widget.NewLabel("P(high): –")
	settings := widget.NewForm(
		widget.NewFormItem("Scope", v.scope), widget.NewFormItem("Seed", v.seed),
		widget.NewFormItem("Max tokens", v.maxTokens), widget.NewFormItem("Temperature", v.temp),
		widget.NewFormItem("Repetition penalty", v.repPen),
	)
	left := container.NewVBox(
		widget.NewRichTextFromMarkdown("**Induce** the current selection (NPTI defaults)"),
		v.highB, v.lowB, v.stopB, widget.NewSeparator(),
		v.gammaL, v.gamma, v.maskL, v.mask, settings, v.chat)
	panes := container.NewGridWithColumns(2,
		pane("Baseline (no edits)", v.baseS, v.base),
		pane("Induced", v.indS, v.ind))
	top := container.NewVBox(v.pick, v.prompt)
	right := container.NewBorder(top, nil, nil, nil, panes)
	split := container.NewHSplit(container.NewVScroll(left), right)
	split.SetOffset(0.24)
	v.content = split
	u.name(tabInduce, "induce.high", v.highB)
	u.name(tabInduce, "induce.low", v.lowB)
	u.name(tabInduce, "induce.stop", v.stopB)
	u.name(tabInduce, "induce.gamma", v.gamma)
	v.selectionChanged()
	return v
}

func answerLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	return l
}

// pane is one answer column: a title, the score and the streaming text.
func pane(title string, scoreL, text *widget.Label) fyne.CanvasObject {
	head := container.NewVBox(widget.NewRichTextFromMarkdown("### "+title), scoreL)
	return container.NewBorder(head, nil, nil, nil, container.NewVScroll(text))
}

// selectionChanged relabels the buttons for the current trait.
func (v *induceView) selectionChanged() {
	t := v.u.st.aspect.Trait
	v.highB.SetText(fmt.Sprintf("Induce high %s", t))
	v.lowB.SetText(fmt.Sprintf("Induce low %s", t))
	v.fillQuestions()
}

// modelChanged sets the chat toggle and the prompt for a new model.
func (v *induceView) modelChanged() {
	m := v.u.st.model
	v.chat.SetChecked(m != nil && m.HasChat)
	v.fillQuestions()
	if len(v.pick.Options) > 0 {
		v.pick.SetSelected(v.pick.Options[0])
	}
}

// fillQuestions offers the test questions of the trait from the data in
// use (or plain openings for a model without chat template).
func (v *induceView) fillQuestions() {
	if v.u.st.model != nil && !v.u.st.model.HasChat {
		v.pick.Options = plainOpenings
		v.pick.Refresh()
		return
	}
	// The test questions of the data in use: the PersonalityBench folder
	// chosen (or the stats were computed on), else the built-in probes
	// (the scorers are trained only when an answer is scored).
	b, _, err := v.u.bench()
	if err != nil {
		if b, err = analysis.LoadBench(resources.Probes(), "."); err != nil {
			return
		}
	}
	v.pick.Options = b.Questions[v.u.st.aspect.Trait]
	v.pick.Refresh()
}

// scoringData names the data whose descriptions train the scorers: the
// PersonalityBench folder the opened statistics were computed on, else
// the data chosen in the Identify tab.
func (u *UI) scoringData() string {
	if st := u.st; st.stats != nil {
		if dir, ok := strings.CutPrefix(st.stats.Meta.DataSource, "personalitybench:"); ok && dir != "" {
			// Statistics of NPTI's search split ("<dir> split search"):
			// the descriptions are the folder's, and induction is
			// evaluated on its test questions.
			for _, sp := range []string{analysis.SplitSearch, analysis.SplitTest} {
				dir = strings.TrimSuffix(dir, " split "+sp)
			}
			return dir
		}
	}
	if u.identify.data.Selected == dataFolder && u.identify.folder.Text != "" {
		return u.identify.folder.Text
	}
	return ""
}

// bench returns the data in use (the scoringData folder, "" = the
// built-in probes) and its name, loaded once per folder.
func (u *UI) bench() (*analysis.Bench, string, error) {
	dir := u.scoringData()
	if u.scoreBench != nil && u.benchDir == dir {
		return u.scoreBench, dir, nil
	}
	var b *analysis.Bench
	var err error
	if dir != "" {
		b, err = analysis.LoadBenchDir(dir)
	} else {
		b, err = analysis.LoadBench(resources.Probes(), ".")
	}
	if err != nil {
		return nil, dir, err
	}
	u.scoreBench, u.benchDir = b, dir
	return b, dir, nil
}

// scorers returns the naive Bayes scorers (P(high pole) per trait)
// trained on all the descriptions of the data used, and the bench they
// come from; they are trained once per folder, when first needed.
func (u *UI) scorers() (analysis.TraitScorers, *analysis.Bench, error) {
	b, dir, err := u.bench()
	if err != nil {
		return nil, nil, fmt.Errorf("scorer: %w", err)
	}
	if u.scoreSet != nil && u.scoreDir == dir {
		return u.scoreSet, b, nil
	}
	sc, err := analysis.TrainScorers(b)
	if err != nil {
		return nil, nil, err
	}
	u.scoreSet, u.scoreDir = sc, dir
	return sc, b, nil
}

// settings reads the generation controls.
func (v *induceView) settings(pole analysis.Pole) (analysis.Plan, analysis.GenSpec, error) {
	st := v.u.st
	plan := analysis.DefaultPlan(analysis.Induction{Trait: st.aspect.Trait, Pole: pole, Gamma: v.gamma.Value})
	plan.MaskFraction = v.mask.Value
	var err error
	if plan.Scope, err = hook.ParseScope(v.scope.Selected); err != nil {
		return plan, analysis.GenSpec{}, err
	}
	plan.Seed, _ = strconv.ParseUint(v.seed.Text, 10, 64)
	g := analysis.GenSpec{Seed: plan.Seed, OverrideRows: []bool{false, true}}
	if g.MaxTokens, err = strconv.Atoi(v.maxTokens.Text); err != nil || g.MaxTokens <= 0 {
		return plan, g, fmt.Errorf("induce: max tokens %q is not a positive number", v.maxTokens.Text)
	}
	if g.Temperature, err = strconv.ParseFloat(v.temp.Text, 64); err != nil || g.Temperature < 0 {
		return plan, g, fmt.Errorf("induce: temperature %q is not a number ≥ 0", v.temp.Text)
	}
	if g.RepetitionPenalty, err = strconv.ParseFloat(v.repPen.Text, 64); err != nil || g.RepetitionPenalty < 0 {
		return plan, g, fmt.Errorf("induce: repetition penalty %q is not a number ≥ 0", v.repPen.Text)
	}
	return plan, g, nil
}

// run induces a pole of the current trait and streams both answers.
func (v *induceView) run(pole analysis.Pole) {
	r := v.u.runner("induce")
	if r == nil {
		return
	}
	if v.stop != nil {
		return
	}
	st := v.u.st
	plan, g, err := v.settings(pole)
	if err != nil {
		v.u.showError(err)
		return
	}
	sets, err := st.selections()
	if err != nil {
		v.u.showError(err)
		return
	}
	layers, neurons := r.Shape()
	o, rep, err := plan.Build(sets, layers, neurons)
	if err != nil {
		v.u.showError(fmt.Errorf("induce: %w", err))
		return
	}
	g.Override = o
	text := v.prompt.Text
	ids, err := v.promptIDs(r, text)
	if err != nil {
		v.u.showError(err)
		return
	}
	a := analysis.Aspect{Trait: st.aspect.Trait, Pole: pole}
	rec := Generation{Time: time.Now(), Aspect: a.Key(), Gamma: plan.Items[0].Gamma, Mask: plan.MaskFraction,
		Scope: plan.Scope.String(), Seed: plan.Seed, Prompt: text, Chat: v.chat.Checked, Added: rep.Add, Clamped: rep.Clamp}
	v.start()
	v.u.setStatus(fmt.Sprintf("Inducing %s with γ %.2f: %d neurons added, %d clamped …", a, rec.Gamma, rep.Add, rep.Clamp))
	v.stream(r, ids, g, rec)
}

// promptIDs encodes the prompt, through the chat template when chosen
// (the official neutral prompt wraps a question).
func (v *induceView) promptIDs(r analysis.Runner, text string) ([]int, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("induce: write or pick a prompt first")
	}
	if v.chat.Checked {
		ids, ok, err := r.ChatPrompt(strings.ReplaceAll(analysis.NeutralPrompt, "{question}", text))
		if err != nil {
			return nil, err
		}
		if ok {
			return ids, nil
		}
	}
	return r.Tokenize(text, true)
}

// start clears the panes and switches the buttons.
func (v *induceView) start() {
	v.base.SetText("")
	v.ind.SetText("")
	v.baseS.SetText("P(high): …")
	v.indS.SetText("P(high): …")
	v.highB.Disable()
	v.lowB.Disable()
	v.stopB.Enable()
	v.done = make(chan struct{})
}

// stream runs the two-row generation, pushing the texts to the panes at
// most every 75 ms, then scores them.
func (v *induceView) stream(r analysis.Runner, ids []int, g analysis.GenSpec, rec Generation) {
	var mu sync.Mutex
	rows := [2][]int{}
	g.OnToken = func(row, id int) {
		mu.Lock()
		if row >= 0 && row < 2 {
			rows[row] = append(rows[row], id)
		}
		mu.Unlock()
	}
	texts := func() (string, string) {
		mu.Lock()
		a, b := append([]int(nil), rows[0]...), append([]int(nil), rows[1]...)
		mu.Unlock()
		return r.Detokenize(a), r.Detokenize(b)
	}
	done := v.done
	tick := time.NewTicker(75 * time.Millisecond)
	finished, ticking := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ticking)
		for {
			select {
			case <-finished:
				return
			case <-tick.C:
				a, b := texts()
				v.u.do(func() { v.base.SetText(a); v.ind.SetText(b) })
			}
		}
	}()
	var out [][]int
	v.stop = v.u.goWork(func(ctx context.Context) error {
		var err error
		out, err = r.Generate(ctx, [][]int{ids, ids}, g)
		tick.Stop()
		close(finished)
		<-ticking // no pane update after the done callback
		return err
	}, func(err error) {
		defer close(done)
		v.stop = nil
		v.highB.Enable()
		v.lowB.Enable()
		v.stopB.Disable()
		a, b := texts()
		if len(out) == 2 {
			a, b = r.Detokenize(out[0]), r.Detokenize(out[1])
		}
		v.base.SetText(a)
		v.ind.SetText(b)
		if err != nil && !errors.Is(err, context.Canceled) {
			v.baseS.SetText("P(high): –")
			v.indS.SetText("P(high): – (generation failed)")
			v.u.showError(fmt.Errorf("induce: %w", err))
			return
		}
		v.finish(rec, a, b, err != nil)
	})
}

// finish scores both answers and records the generation.
func (v *induceView) finish(rec Generation, a, b string, stopped bool) {
	asp, _ := analysis.ParseAspect(rec.Aspect)
	sc, _, err := v.u.scorers()
	if err == nil && sc[asp.Trait] == nil {
		err = fmt.Errorf("scorer: the data has no descriptions of both %s poles", asp.Trait)
	}
	if err != nil {
		v.baseS.SetText("P(high): –")
		v.indS.SetText("P(high): – (not scored)")
		v.u.showError(err)
		return
	}
	nb := sc[asp.Trait]
	rec.Baseline, rec.Induced = a, b
	rec.PHighBaseline, rec.PHighInduced = nb.PHigh(a), nb.PHigh(b)
	v.baseS.SetText(fmt.Sprintf("P(high %s) = %.2f", asp.Trait, rec.PHighBaseline))
	v.indS.SetText(fmt.Sprintf("P(high %s) = %.2f", asp.Trait, rec.PHighInduced))
	v.history = append(v.history, rec)
	msg := "Generation done"
	if stopped {
		msg = "Generation stopped"
	}
	v.u.setStatus(fmt.Sprintf("%s: P(high) baseline %.2f → induced %.2f.", msg, rec.PHighBaseline, rec.PHighInduced))
	v.u.dumpLayout()
}

func (v *induceView) onStop() {
	if v.stop != nil {
		v.stop()
	}
}
