package figure

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LayerSeries is one set's neuron count per layer (Counts[l] for layer l).
type LayerSeries struct {
	Name   string
	Counts []int
	Color  color.Color
}

// Series colours: a red for the first set (the high pole's hue), a blue
// for the second, matching the heatmap's colour map.
var seriesColours = []color.Color{
	color.RGBA{180, 4, 38, 255},
	color.RGBA{59, 76, 192, 255},
	color.RGBA{90, 90, 90, 255},
}

// LayerChart is the per-layer count chart: the bar plot, and under it,
// outside the data, a legend with one line per series when there are
// several (drawn inside the plot it covered the bars of the last layers,
// which hold the most neurons, and the title).
type LayerChart struct {
	Plot   *plot.Plot
	Series []LayerSeries // with their colours set
}

// LayerCounts builds a horizontal bar chart of neuron counts per layer,
// with layer 0 at the bottom so it lines up with the heatmap rows. Several
// series are drawn side by side within each layer; hPx, the height in
// pixels the chart will be drawn at (96 dpi), sizes the bars.
func LayerCounts(title string, layers, hPx int, series ...LayerSeries) (*LayerChart, error) {
	if layers <= 0 {
		return nil, fmt.Errorf("layer chart: no layers")
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("layer chart: no data")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "neurons"
	p.Y.Label.Text = "layer"
	p.Y.Min, p.Y.Max = -0.5, float64(layers)-0.5
	p.Y.Tick.Marker = layerTicks{}
	p.X.Tick.Marker = countTicks{}
	p.X.Min = 0
	band := vg.Length(float64(max(hPx, 100))*0.75/float64(layers)) * 72 / 96
	width := max(band*0.8/vg.Length(len(series)), vg.Points(1))
	chart := &LayerChart{Plot: p}
	for k, s := range series {
		if len(s.Counts) != layers {
			return nil, fmt.Errorf("layer chart: series %q has %d layers, want %d", s.Name, len(s.Counts), layers)
		}
		vals := make(plotter.Values, layers)
		for l, n := range s.Counts {
			vals[l] = float64(n)
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("layer chart: %w", err)
		}
		b.Horizontal = true
		b.LineStyle.Width = 0
		b.Color = s.Color
		if b.Color == nil {
			b.Color = seriesColours[k%len(seriesColours)]
		}
		// The first series on top within each layer band.
		b.Offset = -width * vg.Length(float64(k)-float64(len(series)-1)/2)
		p.Add(b)
		s.Color = b.Color
		chart.Series = append(chart.Series, s)
	}
	most := 1
	for _, s := range series {
		for _, n := range s.Counts {
			most = max(most, n)
		}
	}
	p.X.Max = float64(most) * 1.05
	return chart, nil
}

// Draw draws the chart and, below it, the legend of several series.
func (lc *LayerChart) Draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	var names []LayerSeries
	for _, s := range lc.Series {
		if s.Name != "" && len(lc.Series) > 1 {
			names = append(names, s)
		}
	}
	sty := lc.Plot.Legend.TextStyle
	lineH := sty.Font.Size * 1.35
	margin := sty.Font.Size * 0.5 // below the legend, and between it and the axis label
	pc := c
	pc.Max.X -= margin // the axis line and the last tick label off the edge
	if len(names) > 0 {
		pc.Min.Y += vg.Length(len(names))*lineH + 2*margin
	}
	lc.Plot.Draw(pc)
	if len(names) == 0 {
		return
	}
	x0 := lc.Plot.DataCanvas(pc).Min.X
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	sw := sty.Font.Size * 0.8
	for i, s := range names {
		y := c.Min.Y + margin + (vg.Length(len(names)-i)-0.5)*lineH
		c.SetColor(s.Color)
		c.Fill(vg.Rectangle{Min: vg.Point{X: x0, Y: y - sw/2}, Max: vg.Point{X: x0 + 1.6*sw, Y: y + sw/2}}.Path())
		c.FillText(sty, vg.Point{X: x0 + 1.6*sw + 4, Y: y}, s.Name)
	}
}

// countTicks labels whole counts only ("2500", never "2500.00"): the
// default ticks without fractional values.
type countTicks struct{}

// Ticks implements plot.Ticker.
func (countTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, tk := range (plot.DefaultTicks{}).Ticks(min, max) {
		if tk.Value != math.Trunc(tk.Value) {
			if tk.IsMinor() {
				out = append(out, tk)
			}
			continue
		}
		if !tk.IsMinor() {
			tk.Label = strconv.FormatInt(int64(tk.Value), 10)
		}
		out = append(out, tk)
	}
	return out
}
