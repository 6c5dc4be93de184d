package figure

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/npti-studio/npti/analysis"
)

// DoseOptions configures DoseResponse. The zero value draws every
// variant with its NLL series and a generated title.
type DoseOptions struct {
	// Title replaces the generated title.
	Title string
	// Variants limits the variants drawn (default: all in the result).
	Variants []string
	// HideNLL draws the trait score only.
	HideNLL bool
}

// doseColours are the variant colours (colour-blind friendly).
var doseColours = []color.Color{
	color.RGBA{180, 4, 38, 255}, color.RGBA{59, 76, 192, 255}, color.RGBA{0, 140, 80, 255},
	color.RGBA{230, 140, 0, 255}, color.RGBA{120, 60, 160, 255},
}

var (
	baseGrey  = color.RGBA{90, 90, 90, 255}
	dashed    = []vg.Length{vg.Points(6), vg.Points(3)}
	dotted    = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
	dashDot   = []vg.Length{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)}
	lineWidth = vg.Points(1.6)
)

// DoseResponse draws a sweep as twin series against γ on one axis: the
// trait score P(induced pole) (solid, filled markers) and the NLL in nats
// per token (dashed, open markers) of each variant; the unsteered and
// prompt baselines as horizontal lines (dashed grey for unsteered, dotted
// for prompts), a clamp-only variant as a dash-dot line, and each
// variant's sweet spot as a large ring on its score.
func DoseResponse(res *analysis.SweepResult, opts DoseOptions) (*plot.Plot, error) {
	if res == nil || len(res.Points) == 0 {
		return nil, fmt.Errorf("dose-response: no sweep points")
	}
	p := plot.New()
	p.Title.Text = opts.Title
	if p.Title.Text == "" {
		p.Title.Text = fmt.Sprintf("Inducing %s %s: trait score and fluency vs γ (%d questions)", res.Trait, res.Pole, res.Questions)
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = "γ (induction intensity)"
	p.Y.Label.Text = "P(" + res.Pole + " pole)  —  NLL (nats/token), dashed"
	if opts.HideNLL {
		p.Y.Label.Text = "P(" + res.Pole + " pole)"
	}
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font.Size = vg.Points(12)
		ax.Tick.Label.Font.Size = vg.Points(10)
	}
	p.Legend.TextStyle.Font.Size = vg.Points(9.5)
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	p.Y.Min = 0
	p.X.Min, p.X.Max = gammaRange(res)
	variants := doseVariants(res, opts.Variants)
	if len(variants) == 0 {
		return nil, fmt.Errorf("dose-response: none of the variants %v is in the sweep", opts.Variants)
	}
	for k, v := range variants {
		if err := addVariant(p, res, v, doseColours[k%len(doseColours)], opts.HideNLL); err != nil {
			return nil, err
		}
	}
	addBaselines(p, res, opts.HideNLL)
	return p, nil
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

// addVariant draws one variant's score and NLL series and its sweet spot.
func addVariant(p *plot.Plot, res *analysis.SweepResult, v string, c color.Color, hideNLL bool) error {
	var score, nll plotter.XYs
	for _, pt := range res.Points {
		if pt.Variant == v {
			score = append(score, plotter.XY{X: pt.Gamma, Y: pt.Score})
			nll = append(nll, plotter.XY{X: pt.Gamma, Y: pt.NLL})
		}
	}
	if len(score) == 1 && score[0].X == 0 { // γ-independent (clamp only)
		hline(p, score[0].Y, c, dashDot, v+" score")
		if !hideNLL {
			hline(p, nll[0].Y, c, dotted, v+" NLL")
		}
		return nil
	}
	slices.SortFunc(score, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
	slices.SortFunc(nll, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
	series := []struct {
		xy    plotter.XYs
		name  string
		glyph draw.GlyphDrawer
		dash  []vg.Length
	}{{score, v + " score", draw.CircleGlyph{}, nil}, {nll, v + " NLL", draw.RingGlyph{}, dashed}}
	if hideNLL {
		series = series[:1]
	}
	for _, s := range series {
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return fmt.Errorf("dose-response: %s: %w", s.name, err)
		}
		l.Color, l.Width, l.Dashes = c, lineWidth, s.dash
		pts.Color, pts.Shape, pts.Radius = c, s.glyph, vg.Points(3)
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
	}
	for _, s := range res.SweetSpots {
		if s.Variant == v && s.Found {
			spot, _ := plotter.NewScatter(plotter.XYs{{X: s.Gamma, Y: s.Shift + res.Unsteered.Score}})
			spot.Color, spot.Shape, spot.Radius = c, draw.RingGlyph{}, vg.Points(8)
			p.Add(spot)
			p.Legend.Add(fmt.Sprintf("%s sweet spot (γ %.2g, NLL +%.2f)", v, s.Gamma, s.Cost), spot)
		}
	}
	return nil
}

// addBaselines draws the unsteered and prompt baselines.
func addBaselines(p *plot.Plot, res *analysis.SweepResult, hideNLL bool) {
	hline(p, res.Unsteered.Score, baseGrey, dashed, "unsteered score")
	if !hideNLL {
		hline(p, res.Unsteered.NLL, color.RGBA{150, 150, 150, 255}, dotted, "unsteered NLL")
	}
	for k, b := range res.Baselines {
		c := doseColours[(len(doseColours)-1-k)%len(doseColours)]
		hline(p, b.Score, c, dotted, b.Condition+" prompt score")
	}
}

// hline adds a horizontal line at y across the plot.
func hline(p *plot.Plot, y float64, c color.Color, dash []vg.Length, name string) {
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return
	}
	f := plotter.NewFunction(func(float64) float64 { return y })
	f.Color, f.Width, f.Dashes = c, lineWidth, dash
	p.Add(f)
	p.Legend.Add(name, f)
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
