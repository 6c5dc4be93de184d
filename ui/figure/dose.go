package figure

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/npti-studio/npti/analysis"
)

// DoseOptions configures DoseResponse. The zero value draws every
// variant with its NLL panel and a generated title.
type DoseOptions struct {
	// Title replaces the generated title.
	Title string
	// Variants limits the variants drawn (default: all in the result).
	Variants []string
	// HideNLL draws the trait score panel only.
	HideNLL bool
}

// doseColours are the variant colours (colour-blind friendly), and
// doseGlyphs their marker shapes, so the variants stay apart in grey.
var (
	doseColours = []color.Color{
		color.RGBA{180, 4, 38, 255}, color.RGBA{59, 76, 192, 255}, color.RGBA{0, 140, 80, 255},
		color.RGBA{230, 140, 0, 255}, color.RGBA{120, 60, 160, 255},
	}
	doseGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{},
		draw.SquareGlyph{}, draw.TriangleGlyph{}}
	promptColours = []color.Color{color.RGBA{140, 81, 10, 255}, color.RGBA{0, 130, 140, 255}}
)

var (
	baseGrey   = color.RGBA{70, 70, 70, 255}
	budgetGrey = color.RGBA{150, 150, 150, 255}
	dashed     = []vg.Length{vg.Points(6), vg.Points(3)}
	dotted     = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
	dashDot    = []vg.Length{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)}
	lineWidth  = vg.Points(1.6)
)

// DoseResponse draws a sweep as two stacked panels sharing the γ axis:
// the trait score P(induced pole) in [0, 1] on top and the NLL in nats per
// token below. Each variant keeps its colour and marker in both panels;
// the unsteered baseline is a dashed grey line and the prompt baselines
// dotted lines in both panels, a clamp-only variant a dash-dot line, the
// fluency budget a light dotted line in the NLL panel, and each sweet spot
// a ring on its score with a vertical line through both panels. The one
// legend sits right of the panels, outside the data.
func DoseResponse(res *analysis.SweepResult, opts DoseOptions) (*Stack, error) {
	if res == nil || len(res.Points) == 0 {
		return nil, fmt.Errorf("dose-response: no sweep points")
	}
	variants := doseVariants(res, opts.Variants)
	if len(variants) == 0 {
		return nil, fmt.Errorf("dose-response: none of the variants %v is in the sweep", opts.Variants)
	}
	leg := plot.NewLegend()
	leg.TextStyle.Font.Size = vg.Points(10.5)
	leg.ThumbnailWidth = vg.Points(24)
	leg.Padding = vg.Points(3)
	st := &Stack{Title: opts.Title, Legend: &leg, Heights: []float64{1.15, 1}}
	if st.Title == "" {
		st.Title = fmt.Sprintf("Inducing %s (%s pole): trait score and fluency vs γ, %d questions", res.Trait, res.Pole, res.Questions)
	}
	lo, hi := gammaRange(res)
	d := &dose{res: res, leg: &leg, score: panel(lo, hi, "P("+res.Pole+" pole)")}
	d.score.Y.Min, d.score.Y.Max = 0, 1
	d.score.Y.Tick.Marker = plot.ConstantTicks(ticks([]float64{0, 0.25, 0.5, 0.75, 1}, "%.2g"))
	st.Plots = []*plot.Plot{d.score}
	if !opts.HideNLL {
		d.nll = panel(lo, hi, "NLL (nats/token)")
		st.Plots = append(st.Plots, d.nll)
	}
	last := st.Plots[len(st.Plots)-1]
	last.X.Label.Text = "γ (induction intensity)"
	if gs := sweptGammas(res); len(gs) > 1 && len(gs) <= 12 {
		last.X.Tick.Marker = plot.ConstantTicks(ticks(gs, "%.3g"))
	}
	if d.nll != nil {
		d.score.X.Tick.Marker = unlabelled{last.X.Tick.Marker}
	}
	for k, v := range variants {
		if err := d.variant(v, doseColours[k%len(doseColours)], doseGlyphs[k%len(doseGlyphs)]); err != nil {
			return nil, err
		}
	}
	d.baselines()
	if d.nll != nil {
		d.nll.Y.Min, d.nll.Y.Max = nllRange(res, variants)
		d.nll.Y.Tick.Marker = plot.TickerFunc(niceTicks)
	}
	for k, v := range variants {
		d.sweetSpot(v, doseColours[k%len(doseColours)], len(d.spots))
	}
	return st, nil
}

// dose holds the panels and the legend while DoseResponse fills them.
type dose struct {
	res        *analysis.SweepResult
	score, nll *plot.Plot
	leg        *plot.Legend
	spots      []float64
}

// panel returns an empty panel over the γ range with readable fonts.
func panel(lo, hi float64, ylabel string) *plot.Plot {
	p := plot.New()
	p.X.Min, p.X.Max = lo, hi
	p.Y.Label.Text = ylabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font.Size = vg.Points(12)
		ax.Tick.Label.Font.Size = vg.Points(10.5)
		ax.Padding = vg.Points(2)
	}
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = color.Gray{Y: 225}, color.Gray{Y: 225}
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	p.Add(g)
	return p
}

// unlabelled marks the ticks of its ticker without labels, for the x axis
// of an upper panel whose lower neighbour labels the same range.
type unlabelled struct{ plot.Ticker }

// Ticks returns the ticks with their labels removed.
func (u unlabelled) Ticks(lo, hi float64) []plot.Tick {
	ts := slices.Clone(u.Ticker.Ticks(lo, hi)) // ConstantTicks shares its slice
	for k := range ts {
		ts[k].Label = ""
	}
	return ts
}

// ticks returns labelled major ticks at vs.
func ticks(vs []float64, format string) []plot.Tick {
	out := make([]plot.Tick, len(vs))
	for k, v := range vs {
		out[k] = plot.Tick{Value: v, Label: fmt.Sprintf(format, v)}
	}
	return out
}

// niceTicks returns 3 to 7 labelled ticks at a step of 1, 2, 2.5 or 5
// times a power of ten, with unlabelled halves between them.
func niceTicks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	mag := math.Pow(10, math.Floor(math.Log10(hi-lo)))
	step := mag
	for _, m := range []float64{0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10} {
		if step = m * mag; (hi-lo)/step <= 6 {
			break
		}
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step*2) * step / 2; v <= hi+1e-9*step; v += step / 2 {
		t := plot.Tick{Value: v}
		if r := math.Round(v / step); math.Abs(v/step-r) < 1e-6 {
			t.Value, t.Label = r*step, strconv.FormatFloat(r*step, 'g', 4, 64)
		}
		out = append(out, t)
	}
	return out
}

// sweptGammas returns the distinct non-zero γ values of the sweep, sorted.
func sweptGammas(res *analysis.SweepResult) []float64 {
	var gs []float64
	for _, pt := range res.Points {
		if pt.Gamma != 0 && !slices.Contains(gs, pt.Gamma) {
			gs = append(gs, pt.Gamma)
		}
	}
	slices.Sort(gs)
	return gs
}

// gammaRange returns the x range: the γ values swept, with a margin.
func gammaRange(res *analysis.SweepResult) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, pt := range res.Points {
		if pt.Gamma != 0 {
			lo, hi = math.Min(lo, pt.Gamma), math.Max(hi, pt.Gamma)
		}
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	pad := math.Max((hi-lo)*0.05, 0.05)
	return lo - pad, hi + pad
}

// nllRange returns the NLL panel's y range: every NLL drawn and the
// fluency budget, with a margin.
func nllRange(res *analysis.SweepResult, variants []string) (float64, float64) {
	ys := []float64{res.Unsteered.NLL}
	if res.MaxFluencyCost > 0 {
		ys = append(ys, res.Unsteered.NLL+res.MaxFluencyCost)
	}
	for _, b := range res.Baselines {
		ys = append(ys, b.NLL)
	}
	for _, pt := range res.Points {
		if slices.Contains(variants, pt.Variant) {
			ys = append(ys, pt.NLL)
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, y := range ys {
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	if lo > hi {
		return 0, 1
	}
	pad := math.Max((hi-lo)*0.08, 0.05)
	return math.Max(0, lo-pad), hi + pad
}

// doseVariants lists the variants to draw, in the order of the sweep.
func doseVariants(res *analysis.SweepResult, want []string) []string {
	var out []string
	for _, pt := range res.Points {
		if !slices.Contains(out, pt.Variant) && (len(want) == 0 || slices.Contains(want, pt.Variant)) {
			out = append(out, pt.Variant)
		}
	}
	return out
}

// variant draws one variant's score and NLL series in its colour and
// marker, and adds its legend entry.
func (d *dose) variant(v string, c color.Color, g draw.GlyphDrawer) error {
	var score, nll plotter.XYs
	for _, pt := range d.res.Points {
		if pt.Variant == v {
			score = append(score, plotter.XY{X: pt.Gamma, Y: pt.Score})
			nll = append(nll, plotter.XY{X: pt.Gamma, Y: pt.NLL})
		}
	}
	if len(score) == 1 && score[0].X == 0 { // γ-independent (clamp only)
		f := hline(d.score, score[0].Y, c, dashDot)
		hline(d.nll, nll[0].Y, c, dashDot)
		d.leg.Add(v+" (no γ)", f)
		return nil
	}
	slices.SortFunc(score, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
	slices.SortFunc(nll, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
	var thumbs []plot.Thumbnailer
	for _, s := range []struct {
		p  *plot.Plot
		xy plotter.XYs
	}{{d.score, score}, {d.nll, nll}} {
		if s.p == nil {
			continue
		}
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return fmt.Errorf("dose-response: %s: %w", v, err)
		}
		l.Color, l.Width = c, lineWidth
		pts.Color, pts.Shape, pts.Radius = c, g, vg.Points(3.5)
		s.p.Add(l, pts)
		thumbs = []plot.Thumbnailer{l, pts}
	}
	d.leg.Add(v, thumbs...)
	return nil
}

// baselines draws the unsteered and prompt baselines in both panels and
// the fluency budget in the NLL panel.
func (d *dose) baselines() {
	res := d.res
	f := hline(d.score, res.Unsteered.Score, baseGrey, dashed)
	hline(d.nll, res.Unsteered.NLL, baseGrey, dashed)
	d.leg.Add("unsteered", f)
	for k, b := range res.Baselines {
		c := promptColours[k%len(promptColours)]
		f := hline(d.score, b.Score, c, dotted)
		hline(d.nll, b.NLL, c, dotted)
		d.leg.Add(b.Condition+" prompt", f)
	}
	if d.nll != nil && res.MaxFluencyCost > 0 {
		f := hline(d.nll, res.Unsteered.NLL+res.MaxFluencyCost, budgetGrey, dotted)
		f.Width = vg.Points(1)
		d.leg.Add(fmt.Sprintf("fluency budget (+%.2g)", res.MaxFluencyCost), f)
	}
}

// sweetSpot marks variant v's sweet spot, if found: a ring on its score,
// a vertical line through both panels and a label; k staggers the labels
// of several variants.
func (d *dose) sweetSpot(v string, c color.Color, k int) {
	for _, s := range d.res.SweetSpots {
		if s.Variant != v || !s.Found || s.Gamma < d.score.X.Min || s.Gamma > d.score.X.Max {
			continue // none, or a γ-free variant's (its line shows it)
		}
		ring, _ := plotter.NewScatter(plotter.XYs{{X: s.Gamma, Y: s.Shift + d.res.Unsteered.Score}})
		ring.Color, ring.Shape, ring.Radius = c, draw.RingGlyph{}, vg.Points(8)
		var thumbs []plot.Thumbnailer
		sty := draw.LineStyle{Color: c, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
		for _, p := range []*plot.Plot{d.score, d.nll} {
			if p == nil {
				continue
			}
			l, _ := plotter.NewLine(plotter.XYs{{X: s.Gamma, Y: p.Y.Min}, {X: s.Gamma, Y: p.Y.Max}})
			l.LineStyle = sty
			p.Add(l)
			thumbs = []plot.Thumbnailer{l, ring}
		}
		d.score.Add(ring)
		lab, err := plotter.NewLabels(plotter.XYLabels{
			XYs:    plotter.XYs{{X: s.Gamma, Y: 0.04 + 0.09*float64(k)}},
			Labels: []string{fmt.Sprintf("γ* = %.3g", s.Gamma)},
		})
		if err == nil {
			lab.TextStyle[0].Font.Size = vg.Points(10.5)
			lab.TextStyle[0].Color = c
			lab.Offset = vg.Point{X: vg.Points(4)}
			d.score.Add(lab)
		}
		d.leg.Add(fmt.Sprintf("%s sweet spot (γ %.3g)", v, s.Gamma), thumbs...)
		d.spots = append(d.spots, s.Gamma)
	}
}

// hline adds a horizontal line at y across p (if p is not nil) and
// returns it for the legend.
func hline(p *plot.Plot, y float64, c color.Color, dash []vg.Length) *plotter.Function {
	f := plotter.NewFunction(func(float64) float64 { return y })
	f.Color, f.Width, f.Dashes = c, lineWidth, dash
	if p != nil && !math.IsNaN(y) && !math.IsInf(y, 0) {
		p.Add(f)
	}
	return f
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
