package ui

import (
	"context"
	"fmt"
	"image"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/ui/figure"
)

// View orders of the heatmap.
const (
	orderModel  = "Model order"
	orderSorted = "Sorted by diff"
	modePick    = "Pick"
	modeZoom    = "Zoom"
)

// exploreView shows the contrast heatmap of a trait with the per-layer
// counts of the selection, and the picking controls (pick.go).
type exploreView struct {
	u       *UI
	content fyne.CanvasObject

	trait   *widget.Select
	pole    *widget.RadioGroup
	order   *widget.Select
	mode    *widget.RadioGroup
	heat    *plotView
	layers  *plotView
	hover   *widget.Label
	counts  *widget.Label
	pick    *pickView
	fig     *figure.HeatFigure
	sorted  map[analysis.Trait][][]int32
	x0, x1  float64 // visible columns (edges); x1 <= x0: all
	l0, l1  float64 // visible layers (edges); l1 <= l0: all
	lastErr string
}

func newExploreView(u *UI) *exploreView {
	v := &exploreView{u: u, sorted: map[analysis.Trait][][]int32{}}
	v.trait = widget.NewSelect(nil, v.onTrait)
	v.trait.PlaceHolder = "(no data yet)"
	v.pole = widget.NewRadioGroup([]string{"high", "low"}, nil)
	v.pole.Horizontal = true
	v.pole.SetSelected("high")
	v.pole.OnChanged = v.onPole
	v.order = widget.NewSelect([]string{orderModel, orderSorted}, nil)
	v.order.SetSelected(orderModel)
	v.order.OnChanged = func(string) { v.resetZoom() }
	v.mode = widget.NewRadioGroup([]string{modePick, modeZoom}, nil)
	v.mode.Horizontal = true
	v.mode.SetSelected(modePick)
	v.hover = widget.NewLabel("Hover the heatmap to read a neuron; click toggles it, drag a rectangle to add a block (Pick) or zoom (Zoom); scroll zooms.")
	v.hover.Truncation = fyne.TextTruncateEllipsis
	v.counts = widget.NewLabel("")
	v.counts.Truncation = fyne.TextTruncateEllipsis
	v.heat = newPlotView(v.renderHeat)
	v.heat.minHeight = 300
	v.heat.onError = v.renderError
	v.heat.onHover, v.heat.onTap, v.heat.onRect, v.heat.onScroll = v.onHover, v.onTap, v.onRect, v.onScroll
	v.layers = newPlotView(v.renderLayers)
	v.layers.onError = v.renderError
	v.pick = newPickView(u, v)

	// Icons and a short label: the toolbar fits a 1280-pixel window.
	zoomOut := widget.NewButtonWithIcon("", theme.ZoomOutIcon(), v.zoomOut)
	reset := widget.NewButtonWithIcon("Reset", theme.ZoomFitIcon(), v.resetZoom)
	left := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { v.pan(-0.5) })
	right := widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { v.pan(0.5) })
	bar := container.NewHBox(widget.NewLabel("Trait"), v.trait, v.pole, widget.NewSeparator(),
		fitSelect(v.order), widget.NewSeparator(), widget.NewLabel("Mouse"), v.mode, left, right, zoomOut, reset)
	plots := container.NewHSplit(v.heat, v.layers)
	plots.SetOffset(0.78)
	main := container.NewBorder(container.NewHScroll(bar), container.NewVBox(v.counts, v.hover), nil, nil, plots)
	// The rule panel wraps its text, so its minimum width stays small and
	// the heatmap gets the rest of the window.
	split := container.NewHSplit(container.NewVScroll(v.pick.content), main)
	split.SetOffset(0.24)
	v.content = split
	u.name(tabExplore, "explore.trait", v.trait)
	u.name(tabExplore, "explore.heatmap", v.heat)
	u.name(tabExplore, "explore.layers", v.layers)
	u.name(tabExplore, "explore.sorted", v.order)
	return v
}

// fitSelect gives a select the width of its longest option: in a row of
// widgets it gets only its minimum, which cut "Sorted by diff" off.
func fitSelect(sel *widget.Select) fyne.CanvasObject {
	w := float32(0)
	for _, o := range sel.Options {
		w = max(w, fyne.MeasureText(o, theme.TextSize(), fyne.TextStyle{}).Width)
	}
	w += 4*theme.InnerPadding() + theme.IconInlineSize()
	return container.NewGridWrap(fyne.NewSize(max(w, sel.MinSize().Width), sel.MinSize().Height), sel)
}

// aspect returns the aspect shown.
func (v *exploreView) aspect() analysis.Aspect { return v.u.st.aspect }

// dataChanged refreshes the trait list after stats or sets were opened.
func (v *exploreView) dataChanged() {
	var names []string
	for _, t := range v.u.st.traits() {
		names = append(names, string(t))
	}
	v.trait.Options = names
	v.sorted = map[analysis.Trait][][]int32{}
	cur := string(v.u.st.aspect.Trait)
	found := false
	for _, n := range names {
		found = found || n == cur
	}
	if !found && len(names) > 0 {
		cur = names[0]
	}
	v.trait.SetSelected(cur) // calls onTrait → refresh
	v.trait.Refresh()
	v.pick.dataChanged()
	v.refresh()
}

func (v *exploreView) onTrait(s string) {
	t, err := analysis.ParseTrait(s)
	if err != nil {
		return
	}
	v.u.st.aspect.Trait = t
	v.resetZoom()
}

func (v *exploreView) onPole(s string) {
	p, err := analysis.ParsePole(s)
	if err != nil {
		return
	}
	v.u.st.aspect.Pole = p
	v.refresh()
}

// refresh redraws both plots and the counts.
func (v *exploreView) refresh() {
	if v.heat == nil || v.pick == nil {
		return // still being built
	}
	v.lastErr = ""
	v.heat.redraw()
	v.layers.redraw()
	v.pick.updateCounts()
	if v.u.induce != nil {
		v.u.induce.selectionChanged()
	}
}

func (v *exploreView) renderError(err error) {
	if err.Error() != v.lastErr { // one report per refresh
		v.lastErr = err.Error()
		v.u.setStatus("Plot: " + err.Error())
	}
}

// renderHeat draws the heatmap of the current trait at w × h pixels.
func (v *exploreView) renderHeat(w, h int) (image.Image, error) {
	st := v.u.st
	if !st.hasData() {
		return blank(w, h), nil
	}
	g, err := st.grid(st.aspect.Trait)
	if err != nil {
		return nil, err
	}
	// The sorted view ranks each layer by the trait's diff, also under an
	// overlay (whose categories would give another order): the cache per
	// trait then always holds the order of the trait's own grid.
	if v.order.Selected == orderSorted && v.sorted[st.aspect.Trait] == nil {
		v.sorted[st.aspect.Trait] = figure.SortedOrder(g)
	}
	o := figure.HeatOptions{Mask: st.mask(st.aspect), X0: v.x0, X1: v.x1, L0: v.l0, L1: v.l1,
		Title: fmt.Sprintf("%s: p(high) − p(low)", st.aspect.Trait)}
	if st.stats == nil {
		o.Title = fmt.Sprintf("%s: diff of the published sets (high +, low −)", st.aspect.Trait)
	}
	if b, ok := v.pick.overlay(); ok {
		d, c, err := st.overlay(st.aspect, b)
		if err != nil {
			return nil, err
		}
		g, o.Mask, o.Categories, o.Label = d, nil, overlayCategories(st.aspect, b, c), "set"
		o.Title = fmt.Sprintf("Overlay: %s vs %s", st.aspect, b)
	}
	if v.order.Selected == orderSorted {
		o.Order = v.sorted[st.aspect.Trait]
	}
	f, err := figure.NewHeatmap(g, o)
	if err != nil {
		return nil, err
	}
	v.fig = f
	return f.Image(w, h)
}

// layerSeries returns the per-layer counts of the shown aspect (and of
// the overlay aspect when one is chosen).
func (v *exploreView) layerSeries() []figure.LayerSeries {
	st := v.u.st
	s := []figure.LayerSeries{{Name: st.aspect.String(), Counts: st.layerCounts(st.aspect)}}
	if o, ok := v.pick.overlay(); ok {
		s = append(s, figure.LayerSeries{Name: o.String(), Counts: st.layerCounts(o)})
	}
	return s
}

// renderLayers draws the per-layer count chart of the selection.
func (v *exploreView) renderLayers(w, h int) (image.Image, error) {
	st := v.u.st
	layers, _ := st.shape()
	if !st.hasData() || layers == 0 {
		return blank(w, h), nil
	}
	p, err := figure.LayerCounts("selected per layer", layers, h, v.layerSeries()...)
	if err != nil {
		return nil, err
	}
	return figure.Image(p, w, h)
}

// blank is a white image shown before any data is open.
func blank(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	return img
}

// cellAt locates the neuron under a pixel of the heatmap.
func (v *exploreView) cellAt(p pixel, w, h int) (figure.Cell, bool) {
	if v.fig == nil {
		return figure.Cell{}, false
	}
	return v.fig.Locate(w, h, p.x, p.y)
}

func (v *exploreView) onHover(p pixel, w, h int, in bool) {
	c, ok := v.cellAt(p, w, h)
	if !in || !ok {
		return
	}
	v.hover.SetText(v.describe(c.Layer, c.Neuron))
}

// describe formats the record of one neuron for the hover line.
func (v *exploreView) describe(l, i int) string {
	st := v.u.st
	a := st.aspect
	sel := ""
	if st.selected(a, l, i) {
		sel = "  ● selected for " + a.String()
	}
	if c, _ := st.contrast(a.Trait); c != nil {
		q := "q95 n/a"
		if c.Q95High != nil {
			q = fmt.Sprintf("q95 high %.3f  low %.3f", c.Q95High[l][i], c.Q95Low[l][i])
		}
		return fmt.Sprintf("layer %d  neuron %d   diff %+.4f   p_high %.4f   p_low %.4f   %s%s",
			l, i, c.Diff[l][i], c.PHigh[l][i], c.PLow[l][i], q, sel)
	}
	for _, p := range []analysis.Pole{analysis.High, analysis.Low} {
		asp := analysis.Aspect{Trait: a.Trait, Pole: p}
		if r, ok := st.dictRecords(asp)[[2]int{l, i}]; ok {
			return fmt.Sprintf("layer %d  neuron %d   in %s set: diff %.4f   p %.4f   q95 %.3f%s",
				l, i, asp, r.Diff, r.P, r.Q95, sel)
		}
	}
	return fmt.Sprintf("layer %d  neuron %d   not in the published sets%s", l, i, sel)
}

func (v *exploreView) onTap(p pixel, w, h int) {
	c, ok := v.cellAt(p, w, h)
	if !ok {
		return
	}
	v.toggle(c.Layer, c.Neuron)
}

// toggle adds or removes one neuron of the current selection.
func (v *exploreView) toggle(l, i int) {
	st := v.u.st
	add := !st.selected(st.aspect, l, i)
	st.edit(st.aspect, [][2]int{{l, i}}, add)
	verb := "removed from"
	if add {
		verb = "added to"
	}
	v.u.setStatus(fmt.Sprintf("Neuron %d of layer %d %s %s.", i, l, verb, st.aspect))
	v.refresh()
	v.hover.SetText(v.describe(l, i))
}

func (v *exploreView) onRect(a, b pixel, w, h int) {
	ca, oka := v.cellAt(a, w, h)
	cb, okb := v.cellAt(b, w, h)
	if !oka || !okb {
		return
	}
	c0, c1 := min(ca.Column, cb.Column), max(ca.Column, cb.Column)
	l0, l1 := min(ca.Layer, cb.Layer), max(ca.Layer, cb.Layer)
	if v.mode.Selected == modeZoom {
		v.x0, v.x1 = float64(c0)-0.5, float64(c1)+0.5
		v.l0, v.l1 = float64(l0)-0.5, float64(l1)+0.5
		v.refresh()
		return
	}
	v.pick.block(l0, l1, c0, c1)
}

// onScroll zooms the neuron axis around the pointer.
func (v *exploreView) onScroll(p pixel, w, h int, dy float32) {
	c, ok := v.cellAt(p, w, h)
	if !ok || v.fig == nil {
		return
	}
	f := 0.7
	if dy < 0 {
		f = 1 / 0.7
	}
	v.zoomAround(float64(c.Column), f)
}

// zoomAround scales the visible neuron range by f around column x.
func (v *exploreView) zoomAround(x, f float64) {
	_, neurons := v.u.st.shape()
	x0, x1 := v.view()
	w := math.Max(8, (x1-x0)*f)
	t := (x - x0) / (x1 - x0)
	nx0 := x - t*w
	v.setX(nx0, nx0+w, neurons)
}

// view returns the visible column range.
func (v *exploreView) view() (float64, float64) {
	_, neurons := v.u.st.shape()
	if v.x1 <= v.x0 {
		return -0.5, float64(neurons) - 0.5
	}
	return v.x0, v.x1
}

// setX sets the visible range, clamped to the grid.
func (v *exploreView) setX(x0, x1 float64, neurons int) {
	lo, hi := -0.5, float64(neurons)-0.5
	w := math.Min(x1-x0, hi-lo)
	x0 = math.Max(lo, math.Min(x0, hi-w))
	v.x0, v.x1 = x0, x0+w
	v.refresh()
}

func (v *exploreView) zoomOut() {
	x0, x1 := v.view()
	v.zoomAround((x0+x1)/2, 2)
}

// pan moves the view by a fraction of its width.
func (v *exploreView) pan(f float64) {
	_, neurons := v.u.st.shape()
	x0, x1 := v.view()
	d := (x1 - x0) * f
	v.setX(x0+d, x1+d, neurons)
}

func (v *exploreView) resetZoom() {
	v.x0, v.x1, v.l0, v.l1 = 0, 0, 0, 0
	v.refresh()
}

// openSets loads neuron dict files in the background and shows them.
func (v *exploreView) openSets(dir string) {
	v.u.setStatus("Opening neuron sets " + dir + " …")
	var sets analysis.Sets
	v.u.goWork(func(context.Context) error {
		var err error
		sets, err = analysis.LoadSets(dir)
		return err
	}, func(err error) {
		if err != nil {
			v.u.showError(err)
			return
		}
		st := v.u.st
		st.sets, st.setsDir = sets, dir
		st.reset()
		v.dataChanged()
		n := 0
		for _, ns := range sets {
			n += len(ns)
		}
		v.u.setStatus(fmt.Sprintf("Opened %d neuron sets (%d neurons) from %s.", len(sets), n, dir))
		v.u.warnSetsMismatch()
		v.u.showTab(tabExplore)
		v.u.dumpLayout()
	})
}

// warnSetsMismatch tells, in the status line and a dialog, when the
// opened neuron sets do not fit the loaded model.
func (u *UI) warnSetsMismatch() {
	if msg := u.st.setsMismatch(); msg != "" {
		u.setStatus("Warning: neuron sets do not match the model: " + msg)
		dialog.ShowInformation("Neuron sets do not match the model", msg, u.win)
	}
}
