package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/npti-studio/npti/analysis"
)

// Set algebra operations.
const (
	opUnion        = "∪ union"
	opIntersection = "∩ intersection"
	opDifference   = "− difference"
	noOverlay      = "(none)"
)

// pickView holds the selection controls: the rule and its sliders, manual
// edits, set algebra across aspects, overlay and the dict files.
type pickView struct {
	u       *UI
	ex      *exploreView
	content fyne.CanvasObject

	ruleMode  *widget.Select
	threshold *widget.Slider
	minFrac   *widget.Slider
	topK      *entry
	cap       *entry
	layerLo   *entry
	layerHi   *entry
	thrLabel  *widget.Label
	fracLabel *widget.Label
	blockAdd  *widget.Check
	other     *widget.Select
	op        *widget.Select
	overlayTo *widget.Select
	summary   *widget.Label
	ruleErr   *widget.Label // why the rule's controls are not applied
	showing   bool          // showRule is filling the controls
}

func newPickView(u *UI, ex *exploreView) *pickView {
	v := &pickView{u: u, ex: ex}
	r := u.st.rule
	v.ruleMode = widget.NewSelect([]string{analysis.ModeNPTI, analysis.ModeThreshold, analysis.ModeTopK}, nil)
	v.ruleMode.SetSelected(r.Mode)
	v.ruleMode.OnChanged = func(string) { v.onRule() }
	v.thrLabel = widget.NewLabel("")
	v.threshold = widget.NewSlider(0, 0.5)
	v.threshold.Step = 0.005
	v.threshold.SetValue(r.Threshold)
	v.threshold.OnChangeEnded = func(float64) { v.onRule() }
	v.threshold.OnChanged = func(x float64) { v.thrLabel.SetText(fmt.Sprintf("Threshold (diff ≥) %.3f", x)) }
	v.fracLabel = widget.NewLabel("")
	v.minFrac = widget.NewSlider(0, 2)
	v.minFrac.Step = 0.01
	v.minFrac.SetValue(r.MinFraction * 100)
	v.minFrac.OnChangeEnded = func(float64) { v.onRule() }
	v.minFrac.OnChanged = func(x float64) { v.fracLabel.SetText(fmt.Sprintf("Minimum kept %.2f %% of neurons", x)) }
	v.topK = ruleEntry("2000", false, v.onRule)
	v.cap = ruleEntry("0", false, v.onRule)
	v.layerLo = ruleEntry("0", false, v.onRule)
	v.layerHi = ruleEntry("", true, v.onRule)
	v.layerHi.SetPlaceHolder("last")
	v.blockAdd = widget.NewCheck("Drag adds (off: removes)", nil)
	v.blockAdd.SetChecked(true)
	v.other = widget.NewSelect(nil, nil)
	v.op = widget.NewSelect([]string{opUnion, opIntersection, opDifference}, nil)
	v.op.SetSelected(opUnion)
	v.overlayTo = widget.NewSelect([]string{noOverlay}, nil)
	v.overlayTo.SetSelected(noOverlay)
	v.overlayTo.OnChanged = func(string) { v.ex.refresh() }
	v.summary = widget.NewLabel("")
	v.summary.Wrapping = fyne.TextWrapWord
	v.ruleErr = widget.NewLabel("")
	v.ruleErr.Wrapping = fyne.TextWrapWord
	v.ruleErr.Importance = widget.DangerImportance
	v.ruleErr.Hide()
	v.threshold.OnChanged(v.threshold.Value)
	v.minFrac.OnChanged(v.minFrac.Value)

	apply := widget.NewButton("Apply", v.onAlgebra)
	resetEdits := widget.NewButton("Reset to rule", v.onResetEdits)
	save := widget.NewButton("Save sets…", v.onSave)
	load := widget.NewButton("Open sets…", v.onLoad)
	v.content = container.NewVBox(
		widget.NewRichTextFromMarkdown("**Selection rule**"),
		v.ruleMode, v.thrLabel, v.threshold, v.fracLabel, v.minFrac,
		container.NewGridWithColumns(2, widget.NewLabel("Top-k"), v.topK,
			widget.NewLabel("Per-layer cap"), v.cap,
			widget.NewLabel("Layers from"), v.layerLo, widget.NewLabel("to"), v.layerHi),
		v.ruleErr, v.summary,
		widget.NewSeparator(),
		widget.NewRichTextFromMarkdown("**By hand**"), v.blockAdd, resetEdits,
		widget.NewSeparator(),
		para("**Set algebra**: current ← current op other"),
		v.op, v.other, apply,
		widget.NewSeparator(),
		para("**Overlay** another trait's set: the heatmap colours each set, their overlap and their conflicts"), v.overlayTo,
		widget.NewSeparator(),
		container.NewGridWithColumns(2, load, save),
	)
	u.name(tabExplore, "pick.threshold", v.threshold)
	u.name(tabExplore, "pick.save", save)
	return v
}

// numEntry is an entry for a non-negative integer that calls fn on submit.
func numEntry(text string, fn func()) *entry {
	e := newEntry()
	e.SetText(text)
	e.OnSubmitted = func(string) { fn() }
	return e
}

// ruleEntry is an entry for a whole number ≥ 0 of the selection rule (""
// allowed when empty is set): it flags invalid text at once, and fn (the
// rule update, which explains invalid fields under the controls) runs as
// the text is typed, not only on Enter.
func ruleEntry(text string, empty bool, fn func()) *entry {
	e := newEntry()
	e.SetText(text)
	e.Validator = func(s string) error {
		if s == "" && empty {
			return nil
		}
		_, err := wholeNumber(s)
		return err
	}
	e.OnChanged = func(string) { fn() }
	e.OnSubmitted = func(string) { fn() }
	return e
}

// wholeNumber parses a whole number ≥ 0.
func wholeNumber(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number ≥ 0", s)
	}
	return n, nil
}

// dataChanged refreshes the aspect lists.
func (v *pickView) dataChanged() {
	var names []string
	for _, t := range v.u.st.traits() {
		for _, p := range []analysis.Pole{analysis.High, analysis.Low} {
			names = append(names, analysis.Aspect{Trait: t, Pole: p}.String())
		}
	}
	v.other.Options = names
	v.other.Refresh()
	v.overlayTo.Options = append([]string{noOverlay}, names...)
	v.overlayTo.Refresh()
}

// overlay returns the aspect chosen for the overlay.
func (v *pickView) overlay() (analysis.Aspect, bool) {
	return aspectByName(v.overlayTo.Selected)
}

// aspectByName parses "Extraversion high".
func aspectByName(s string) (analysis.Aspect, bool) {
	for _, a := range analysis.Aspects() {
		if a.String() == s {
			return a, true
		}
	}
	return analysis.Aspect{}, false
}

// onRule reads the controls into the rule and refreshes.
func (v *pickView) onRule() {
	if v.showing {
		return
	}
	r := analysis.DefaultRule()
	r.Mode = v.ruleMode.Selected
	r.Threshold = v.threshold.Value
	r.MinFraction = v.minFrac.Value / 100
	r.LayerMax = -1
	var bad []string
	for _, f := range []struct {
		name string
		e    *entry
		to   *int
	}{{"Top-k", v.topK, &r.TopK}, {"Per-layer cap", v.cap, &r.PerLayerCap}, {"Layers from", v.layerLo, &r.LayerMin}, {"to", v.layerHi, &r.LayerMax}} {
		if f.e == v.layerHi && strings.TrimSpace(f.e.Text) == "" {
			continue
		}
		n, err := wholeNumber(f.e.Text)
		if err != nil {
			bad = append(bad, f.name+" "+err.Error())
			continue
		}
		*f.to = n
	}
	if len(bad) > 0 {
		v.ruleError(errors.New(strings.Join(bad, "; ")))
		return
	}
	layers, _ := v.u.st.shape()
	if err := r.Validate(layers); err != nil {
		v.ruleError(err)
		return
	}
	v.ruleErr.Hide()
	v.u.st.rule = r
	v.u.st.custom = map[analysis.Aspect][]analysis.Neuron{}
	v.u.st.ruleChanged()
	v.ex.refresh()
}

// ruleError shows why the rule's controls do not make a rule, under
// them, and leaves the previous rule in force.
func (v *pickView) ruleError(err error) {
	msg := "Selection rule not applied: " + err.Error() + "."
	v.ruleErr.SetText(msg)
	v.ruleErr.Show()
	v.u.setStatus(msg)
}

// showRule puts a rule into the controls without re-applying it.
func (v *pickView) showRule(r analysis.Rule) {
	v.showing = true
	defer func() { v.showing = false }()
	onMode := v.ruleMode.OnChanged
	v.ruleMode.OnChanged = nil
	v.ruleMode.SetSelected(r.Mode)
	v.ruleMode.OnChanged = onMode
	v.threshold.SetValue(r.Threshold)
	v.minFrac.SetValue(r.MinFraction * 100)
	v.topK.SetText(strconv.Itoa(r.TopK))
	v.cap.SetText(strconv.Itoa(r.PerLayerCap))
	v.layerLo.SetText(strconv.Itoa(r.LayerMin))
	v.layerHi.SetText("")
	if r.LayerMax >= 0 {
		v.layerHi.SetText(strconv.Itoa(r.LayerMax))
	}
}

// setThreshold sets the threshold slider (and the rule).
func (v *pickView) setThreshold(x float64) {
	v.threshold.SetValue(x)
	v.onRule()
}

// updateCounts shows the live counts of the selection.
func (v *pickView) updateCounts() {
	st := v.u.st
	if !st.hasData() {
		v.summary.SetText("Open statistics or neuron sets to select neurons.")
		v.ex.counts.SetText("")
		return
	}
	a := st.aspect
	ns, err := st.selection(a)
	if err != nil {
		v.summary.SetText(err.Error())
		return
	}
	opp, _ := st.selection(a.Opposite())
	layers, neurons := st.shape()
	total := layers * neurons
	line := fmt.Sprintf("%s: %d neurons (%.2f %%) · %s: %d · edits %d",
		a, len(ns), 100*float64(len(ns))/float64(max(total, 1)), a.Opposite(), len(opp), len(st.edits[a]))
	if o, ok := v.overlay(); ok {
		if _, c, err := st.overlay(a, o); err == nil {
			line = overlayLine(a, o, c)
			v.u.debugf("overlay %s %s %d %d %d %d", a.Key(), o.Key(), c.A, c.B, c.Both, c.Conflicts)
		}
	}
	v.summary.SetText(fmt.Sprintf("%d neurons selected for %s", len(ns), a))
	v.ex.counts.SetText(line)
	v.u.debugf("counts %s %d", a.Key(), len(ns))
}

// block adds or removes the cells of a dragged rectangle (grid columns
// c0..c1 of layers l0..l1, mapped through the sorted order when shown).
func (v *pickView) block(l0, l1, c0, c1 int) {
	st := v.u.st
	var cells [][2]int
	for l := l0; l <= l1; l++ {
		for c := c0; c <= c1; c++ {
			i := c
			if v.ex.fig != nil && v.ex.fig.Heat.Order != nil {
				i = int(v.ex.fig.Heat.Order[l][c])
			}
			cells = append(cells, [2]int{l, i})
		}
	}
	st.edit(st.aspect, cells, v.blockAdd.Checked)
	verb := "added to"
	if !v.blockAdd.Checked {
		verb = "removed from"
	}
	v.u.setStatus(fmt.Sprintf("%d neurons %s %s.", len(cells), verb, st.aspect))
	v.ex.refresh()
}

func (v *pickView) onResetEdits() {
	st := v.u.st
	delete(st.edits, st.aspect)
	delete(st.custom, st.aspect)
	delete(st.selCache, st.aspect)
	v.ex.refresh()
}

// onAlgebra replaces the current selection by current op other.
func (v *pickView) onAlgebra() {
	st := v.u.st
	o, ok := aspectByName(v.other.Selected)
	if !ok {
		v.u.showError(fmt.Errorf("set algebra: choose the other set first"))
		return
	}
	a := st.aspect
	cur, _ := st.selection(a)
	other, _ := st.selection(o)
	var res []analysis.Neuron
	switch v.op.Selected {
	case opUnion:
		res = analysis.Union(cur, other, func(n analysis.Neuron) analysis.Neuron { return st.record(a, n.Layer, n.Index) })
	case opIntersection:
		res = analysis.Intersect(cur, other)
	case opDifference:
		res = analysis.Difference(cur, other)
	}
	st.custom[a] = res
	delete(st.edits, a)
	delete(st.selCache, a)
	v.u.setStatus(fmt.Sprintf("%s ← %s %s %s: %d neurons.", a, a, v.op.Selected, o, len(res)))
	v.ex.refresh()
}

func (v *pickView) onSave() {
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			v.u.showError(err)
			return
		}
		v.saveTo(dir.Path())
	}, v.u.win)
	d.Show()
}

// saveTo writes the current selections as official dict files.
func (v *pickView) saveTo(dir string) error {
	sets, err := v.u.st.selections()
	if err == nil {
		err = analysis.SaveSets(dir, sets)
	}
	if err != nil {
		v.u.showError(err)
		return err
	}
	v.u.setStatus(fmt.Sprintf("Saved %d neuron sets to %s.", len(sets), dir))
	return nil
}

func (v *pickView) onLoad() {
	dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			v.u.showError(err)
			return
		}
		v.ex.openSets(dir.Path())
	}, v.u.win).Show()
}

// para is a paragraph of markdown that wraps to the width of its panel.
func para(md string) *widget.RichText {
	t := widget.NewRichTextFromMarkdown(md)
	t.Wrapping = fyne.TextWrapWord
	return t
}
