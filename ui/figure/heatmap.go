package figure

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// HeatOptions configures NewHeatmap. The zero value shows the whole grid
// in model order with an automatic symmetric colour range.
type HeatOptions struct {
	Title string
	// Order gives the sorted view (see SortedOrder); nil is model order.
	Order [][]int32
	// Mask marks the selected neurons (see Heat.Mask).
	Mask []bool
	// Max fixes the colour range ±Max; 0 uses the largest |value|.
	Max float64
	// X0, X1 (neuron or rank edges) and L0, L1 (layer edges) give the
	// visible range; X1 <= X0 or L1 <= L0 shows everything.
	X0, X1, L0, L1 float64
	// Label names the value (default "diff").
	Label string
	// Categories make the grid categorical (see Heat.Categories).
	Categories []Category
}

// HeatFigure is a heatmap plot with the plotter that draws it, so that a
// pixel of a rendered image can be traced back to its neuron. It is a
// Figure: Draw puts the colour bar (or the category legend) in a column
// right of the plot, sized to its labels, outside the data area.
type HeatFigure struct {
	Plot *plot.Plot
	Heat *Heat
}

// Cell identifies a neuron under the pointer.
type Cell struct {
	Layer, Neuron int
	// Column is the x position in the grid (the rank in the sorted view).
	Column int
}

// NewHeatmap builds the heatmap of g: layers on the Y axis (0 at the
// bottom), neurons on the X axis, a diverging blue-red colour map centred
// on 0 with its colour bar.
func NewHeatmap(g Grid, o HeatOptions) (*HeatFigure, error) {
	if g == nil {
		return nil, fmt.Errorf("heatmap: no data")
	}
	layers, neurons := g.Dims()
	if layers <= 0 || neurons <= 0 {
		return nil, fmt.Errorf("heatmap: empty grid %d×%d", layers, neurons)
	}
	if o.Order != nil && len(o.Order) != layers {
		return nil, fmt.Errorf("heatmap: order has %d layers, grid %d", len(o.Order), layers)
	}
	if o.Mask != nil && len(o.Mask) != layers*neurons {
		return nil, fmt.Errorf("heatmap: mask has %d entries, want %d", len(o.Mask), layers*neurons)
	}
	h := &Heat{Grid: g, Order: o.Order, Mask: o.Mask, Max: o.Max, Label: o.Label, Categories: o.Categories,
		X0: o.X0, X1: o.X1, Y0: o.L0, Y1: o.L1}
	if h.X1 <= h.X0 {
		h.X0, h.X1 = -0.5, float64(neurons)-0.5
	}
	if h.Y1 <= h.Y0 {
		h.Y0, h.Y1 = -0.5, float64(layers)-0.5
	}
	if h.Label == "" {
		h.Label = "diff"
	}
	if !(h.Max > 0) && h.Categories == nil {
		h.Max = MaxAbs(g)
	}
	p := plot.New()
	p.Title.Text = o.Title
	p.X.Label.Text = "neuron"
	if o.Order != nil {
		p.X.Label.Text = "rank within layer (by diff)"
	}
	p.Y.Label.Text = "layer"
	p.X.Min, p.X.Max = h.X0, h.X1
	p.Y.Min, p.Y.Max = h.Y0, h.Y1
	p.X.Tick.Marker = clipTicks{max: h.X1}
	p.Y.Tick.Marker = layerTicks{}
	p.Add(h)
	return &HeatFigure{Plot: p, Heat: h}, nil
}

// MaxAbs returns the largest |value| of g (1 when all are zero).
func MaxAbs(g Grid) float64 {
	layers, neurons := g.Dims()
	m := 0.0
	for l := 0; l < layers; l++ {
		for i := 0; i < neurons; i++ {
			m = max(m, math.Abs(g.Value(l, i)))
		}
	}
	if m == 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		return 1
	}
	return m
}

// Draw draws the plot and, right of it, the colour bar or legend.
func (f *HeatFigure) Draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	pc, key := f.split(c)
	f.Plot.Draw(pc)
	dc := f.Plot.DataCanvas(pc)
	f.Heat.drawKey(key, f.Plot.Y.Tick.Label, dc.Min.Y, dc.Max.Y)
}

// split divides c into the plot's part and the key's column at the right.
func (f *HeatFigure) split(c draw.Canvas) (plotC, keyC draw.Canvas) {
	w := min(f.Heat.keyWidth(f.Plot.Y.Tick.Label), (c.Max.X-c.Min.X)/2)
	plotC, keyC = c, c
	plotC.Max.X -= w
	keyC.Min.X = plotC.Max.X
	return plotC, keyC
}

// Image renders the figure to a w × h pixel image (96 dpi).
func (f *HeatFigure) Image(w, h int) (image.Image, error) { return Image(f, w, h) }

// Locate maps pixel (x, y) of an image of w × h pixels rendered by Image
// (origin top left) to the cell drawn there; ok is false outside the grid.
func (f *HeatFigure) Locate(w, h int, x, y float64) (Cell, bool) {
	const dpi = 96
	pt := vg.Length(72.0 / dpi)
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*pt, vg.Length(h)*pt), vgimg.UseDPI(dpi))
	pc, _ := f.split(draw.New(c))
	dc := f.Plot.DataCanvas(pc)
	px := vg.Length(x) * pt
	py := vg.Length(h)*pt - vg.Length(y)*pt
	if dc.Size().X <= 0 || dc.Size().Y <= 0 {
		return Cell{}, false
	}
	p := f.Plot
	dx := p.X.Min + float64((px-dc.Min.X)/dc.Size().X)*(p.X.Max-p.X.Min)
	dy := p.Y.Min + float64((py-dc.Min.Y)/dc.Size().Y)*(p.Y.Max-p.Y.Min)
	hm := f.Heat
	if dx < hm.X0 || dx >= hm.X1 || dy < hm.Y0 || dy >= hm.Y1 {
		return Cell{}, false
	}
	layers, neurons := hm.Grid.Dims()
	l, k := int(math.Floor(dy+0.5)), int(math.Floor(dx+0.5))
	if l < 0 || l >= layers || k < 0 || k >= neurons {
		return Cell{}, false
	}
	return Cell{Layer: l, Neuron: hm.neuronAt(l, k), Column: k}, true
}

// clipTicks is the default tick marker limited to values <= max, so no
// tick is drawn under the colour bar.
type clipTicks struct{ max float64 }

// Ticks implements plot.Ticker.
func (t clipTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, tk := range (plot.DefaultTicks{}).Ticks(min, max) {
		if tk.Value <= t.max && tk.Value >= -0.5 {
			if tk.Label != "" {
				tk.Label = strconv.FormatFloat(tk.Value, 'f', -1, 64)
			}
			out = append(out, tk)
		}
	}
	return out
}

// layerTicks labels integer layers, thinned to at most about 16 labels.
type layerTicks struct{}

// Ticks implements plot.Ticker.
func (layerTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := int(math.Ceil(min)), int(math.Floor(max))
	step := 1
	for (hi-lo)/step > 16 {
		step *= 2
	}
	var out []plot.Tick
	for l := lo; l <= hi; l++ {
		tk := plot.Tick{Value: float64(l)}
		if l%step == 0 {
			tk.Label = strconv.Itoa(l)
		}
		out = append(out, tk)
	}
	return out
}
