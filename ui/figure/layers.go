package figure

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
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

// LayerCounts builds a horizontal bar chart of neuron counts per layer,
// with layer 0 at the bottom so it lines up with the heatmap rows. Several
// series are drawn side by side within each layer; hPx, the height in
// pixels the chart will be drawn at (96 dpi), sizes the bars.
func LayerCounts(title string, layers, hPx int, series ...LayerSeries) (*plot.Plot, error) {
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
	p.X.Min = 0
	band := vg.Length(float64(max(hPx, 100))*0.75/float64(layers)) * 72 / 96
	width := max(band*0.8/vg.Length(len(series)), vg.Points(1))
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
		b.Offset = width * vg.Length(float64(k)-float64(len(series)-1)/2)
		p.Add(b)
		if s.Name != "" && len(series) > 1 {
			p.Legend.Add(s.Name, b)
		}
	}
	p.Legend.Top = true
	most := 1
	for _, s := range series {
		for _, n := range s.Counts {
			most = max(most, n)
		}
	}
	p.X.Max = float64(most) * 1.08
	if len(series) > 1 { // room for the legend
		p.X.Max = float64(most) * 1.45
	}
	return p, nil
}
