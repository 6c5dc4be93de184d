package figure

import (
	"image"
	"image/color"
	stddraw "image/draw"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid is a layers × neurons matrix of signed values (a contrast diff).
type Grid interface {
	Dims() (layers, neurons int)
	Value(layer, neuron int) float64
}

// Dense is a Grid held in one slice: Data[layer*Neurons+neuron].
type Dense struct {
	Layers, Neurons int
	Data            []float32
}

// NewDense returns a zero grid of the shape.
func NewDense(layers, neurons int) *Dense {
	return &Dense{Layers: layers, Neurons: neurons, Data: make([]float32, layers*neurons)}
}

// Dims returns the shape.
func (d *Dense) Dims() (int, int) { return d.Layers, d.Neurons }

// Value returns the value of one cell.
func (d *Dense) Value(l, i int) float64 { return float64(d.Data[l*d.Neurons+i]) }

// Set sets the value of one cell.
func (d *Dense) Set(l, i int, v float64) { d.Data[l*d.Neurons+i] = float32(v) }

// SortedOrder returns, per layer, the neuron indices sorted by value
// descending (ties by index), for Heat.Order.
func SortedOrder(g Grid) [][]int32 {
	layers, neurons := g.Dims()
	out := make([][]int32, layers)
	for l := range out {
		idx := make([]int32, neurons)
		for i := range idx {
			idx[i] = int32(i)
		}
		slices.SortStableFunc(idx, func(a, b int32) int {
			va, vb := g.Value(l, int(a)), g.Value(l, int(b))
			switch {
			case va > vb:
				return -1
			case va < vb:
				return 1
			}
			return 0
		})
		out[l] = idx
	}
	return out
}

// Heat is a gonum plotter for a layers × neurons grid that maps every
// output pixel to the neurons it covers rather than scaling a bitmap: a
// pixel column covering many neurons shows the one of largest |value|,
// so no strong neuron disappears at any zoom. Layer l is drawn centred on
// y = l, neuron (or rank) i centred on x = i. The part of the X range
// beyond X1 holds the colour bar.
type Heat struct {
	Grid Grid
	// Order, when set, gives per layer the neuron shown in each column
	// (column k of layer l shows neuron Order[l][k]): the sorted view.
	Order [][]int32
	// Mask, when set, marks selected neurons (Mask[l*neurons+i]); when a
	// pixel column covers at most 4 neurons, columns holding a selected
	// neuron get a dark tick along the top of the layer.
	Mask []bool
	// Max is the value mapped to the ends of the colour map (±Max).
	Max float64
	// X0, X1 and Y0, Y1 are the visible data range (cell edges).
	X0, X1, Y0, Y1 float64
	// Label names the value in the colour bar ("diff").
	Label string
	// Categories, when set, make the grid categorical: value k > 0 is
	// drawn in Categories[k-1].Colour, 0 in light grey; a pixel covering
	// several neurons shows the highest category (list them by rising
	// priority), and a legend replaces the colour bar.
	Categories []Category

	lut []color.RGBA
}

// Category is one class of a categorical heatmap.
type Category struct {
	Name   string
	Colour color.RGBA
}

// noCategory is the colour of cells in no category.
var noCategory = color.RGBA{236, 236, 236, 255}

// lutSize is the number of colours precomputed from the colour map.
const lutSize = 256

// palette returns the diverging lookup table (moreland SmoothBlueRed).
func (h *Heat) palette() []color.RGBA {
	if h.lut != nil {
		return h.lut
	}
	cm := moreland.SmoothBlueRed()
	cm.SetMin(0)
	cm.SetMax(1)
	h.lut = make([]color.RGBA, lutSize)
	for k := range h.lut {
		c, err := cm.At(float64(k) / (lutSize - 1))
		if err != nil {
			c = color.Gray{128}
		}
		r, g, b, _ := c.RGBA()
		h.lut[k] = color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
	}
	return h.lut
}

// colour maps a value to its palette colour.
func (h *Heat) colour(v float64) color.RGBA {
	if h.Categories != nil {
		k := int(math.Round(math.Abs(v)))
		if k < 1 || k > len(h.Categories) {
			return noCategory
		}
		return h.Categories[k-1].Colour
	}
	lut := h.palette()
	m := h.Max
	if !(m > 0) {
		m = 1
	}
	t := (v/m + 1) / 2
	k := int(math.Round(t * (lutSize - 1)))
	return lut[min(max(k, 0), lutSize-1)]
}

// neuronAt returns the neuron shown at column k of layer l.
func (h *Heat) neuronAt(l, k int) int {
	if h.Order != nil {
		return int(h.Order[l][k])
	}
	return k
}

// Plot draws the grid; it implements plot.Plotter. The colour bar or the
// category legend is drawn beside the plot by HeatFigure.Draw.
func (h *Heat) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	rect := vg.Rectangle{
		Min: vg.Point{X: trX(h.X0), Y: trY(h.Y0)},
		Max: vg.Point{X: trX(h.X1), Y: trY(h.Y1)},
	}
	scale := 2.0 // pixels per point for vector formats
	if rc := rasterOf(c); rc != nil {
		scale = rc.DPI() / 72
	}
	w := int(math.Round(float64(rect.Size().X) * scale))
	ht := int(math.Round(float64(rect.Size().Y) * scale))
	if w <= 0 || ht <= 0 || h.Grid == nil {
		return
	}
	img := h.Raster(w, ht)
	if rc := rasterOf(c); rc != nil {
		blit(rc, rect, img)
	} else {
		c.DrawImage(rect, img)
	}
}

// Raster renders the visible range to a w × ht image, one pixel per output
// pixel, aggregating the neurons under each pixel by largest |value|.
func (h *Heat) Raster(w, ht int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, ht))
	layers, neurons := h.Grid.Dims()
	cols := columnRanges(h.X0, h.X1, w, neurons)
	dy := (h.Y1 - h.Y0) / float64(ht)
	vals := make([]float64, w)
	sel := make([]bool, w)
	plain := make([]byte, 4*w) // the layer's row colours
	ticked := make([]byte, 4*w)
	prev := -1
	tickPx := max(2, ht/layers/5)
	// Selection ticks only where a pixel column covers a few neurons: at
	// overview zoom they would cover everything (the per-layer chart
	// shows the counts there).
	ticks := h.Mask != nil && (h.X1-h.X0)/float64(w) <= 4
	for r := 0; r < ht; r++ {
		y := h.Y1 - (float64(r)+0.5)*dy // data y at the pixel centre
		l := int(math.Floor(y + 0.5))
		row := img.Pix[r*img.Stride : r*img.Stride+4*w]
		if l < 0 || l >= layers {
			for k := range row {
				row[k] = 255
			}
			continue
		}
		if l != prev {
			h.aggregateLayer(l, neurons, cols, vals, sel)
			for j := 0; j < w; j++ {
				c := h.colour(vals[j])
				plain[4*j], plain[4*j+1], plain[4*j+2], plain[4*j+3] = c.R, c.G, c.B, 255
				if sel[j] {
					c = color.RGBA{20, 20, 20, 255}
				}
				ticked[4*j], ticked[4*j+1], ticked[4*j+2], ticked[4*j+3] = c.R, c.G, c.B, 255
			}
			prev = l
		}
		top := float64(l) + 0.5 // upper edge of the layer band
		if ticks && (top-y)/dy < float64(tickPx) {
			copy(row, ticked)
		} else {
			copy(row, plain)
		}
	}
	return img
}

// raster is a pixel canvas (vgimg) that exposes its image.
type raster interface {
	Image() stddraw.Image
	DPI() float64
}

// rasterOf returns the pixel canvas under c (plot nests draw.Canvas
// values), or nil for vector canvases.
func rasterOf(c draw.Canvas) raster {
	inner := c.Canvas
	for {
		dc, ok := inner.(draw.Canvas)
		if !ok {
			break
		}
		inner = dc.Canvas
	}
	rc, _ := inner.(raster)
	return rc
}

// blit copies img into a raster canvas at rect, pixel for pixel, which is
// much faster than the canvas's resampling DrawImage.
func blit(rc raster, rect vg.Rectangle, img *image.RGBA) {
	dst := rc.Image()
	s := rc.DPI() / 72
	x0 := int(math.Round(float64(rect.Min.X) * s))
	y0 := dst.Bounds().Dy() - int(math.Round(float64(rect.Max.Y)*s))
	stddraw.Draw(dst, img.Bounds().Add(image.Pt(x0, y0)), img, image.Point{}, stddraw.Src)
}

// columnRanges returns for each of w pixel columns the half-open range of
// columns [a, b) of the grid it covers (at least one when inside).
func columnRanges(x0, x1 float64, w, n int) [][2]int {
	out := make([][2]int, w)
	dx := (x1 - x0) / float64(w)
	for j := range out {
		lo, hi := x0+float64(j)*dx, x0+float64(j+1)*dx
		a, b := int(math.Floor(lo+0.5)), int(math.Floor(hi+0.5))
		if b <= a {
			a = int(math.Floor((lo+hi)/2 + 0.5))
			b = a + 1
		}
		a, b = max(a, 0), min(b, n)
		out[j] = [2]int{a, b}
	}
	return out
}

// aggregateLayer fills vals (largest |value|) and sel (any selected) for
// each pixel column of layer l.
func (h *Heat) aggregateLayer(l, neurons int, cols [][2]int, vals []float64, sel []bool) {
	for j, cr := range cols {
		best, any := 0.0, false
		for k := cr[0]; k < cr[1]; k++ {
			i := h.neuronAt(l, k)
			v := h.Grid.Value(l, i)
			if math.Abs(v) > math.Abs(best) {
				best = v
			}
			if h.Mask != nil && h.Mask[l*neurons+i] {
				any = true
			}
		}
		vals[j], sel[j] = best, any
	}
}

// Key layout, in points.
const (
	keyGap   = vg.Length(8)  // between the plot and the key
	keyBar   = vg.Length(10) // width of the colour bar and legend swatches
	keyText  = vg.Length(4)  // between a bar or swatch and its text
	keyRight = vg.Length(4)  // right margin
)

// keyWidth returns the width of the colour bar or legend drawn with text
// style sty, labels included, so the plot can leave exactly that room.
func (h *Heat) keyWidth(sty text.Style) vg.Length {
	w := vg.Length(0)
	if h.Categories != nil {
		for _, cat := range h.Categories {
			for _, line := range strings.Split(cat.Name, "\n") {
				w = max(w, sty.Width(line))
			}
		}
		return keyGap + keyBar + keyText + w + keyRight
	}
	for _, tk := range h.barTicks() {
		w = max(w, sty.Width(tk.Label))
	}
	return keyGap + max(keyBar+keyText+w, sty.Width(h.Label)) + keyRight
}

// barTicks returns the labelled ticks of the colour bar: round values
// within ±Max.
func (h *Heat) barTicks() []plot.Tick {
	var out []plot.Tick
	for _, tk := range (plot.DefaultTicks{}).Ticks(-h.Max, h.Max) {
		if tk.IsMinor() || tk.Value < -h.Max || tk.Value > h.Max {
			continue
		}
		tk.Label = signed(tk.Value)
		out = append(out, tk)
	}
	return out
}

// signed formats a colour bar value with a true minus sign.
func signed(v float64) string {
	if math.Abs(v) < 1e-12 {
		return "0"
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', -1, 64)
	if v < 0 {
		return "−" + s
	}
	return s
}

// drawKey draws the colour bar (or the category legend) in the column c,
// beside a data area spanning y0..y1.
func (h *Heat) drawKey(c draw.Canvas, sty text.Style, y0, y1 vg.Length) {
	if h.Categories != nil {
		h.drawLegend(c, sty, y1)
		return
	}
	x0 := c.Min.X + keyGap
	const steps = 128
	for k := 0; k < steps; k++ {
		ya := y0 + (y1-y0)*vg.Length(k)/steps
		yb := y0 + (y1-y0)*vg.Length(k+1)/steps
		v := h.Max * (2*(float64(k)+0.5)/steps - 1)
		c.SetColor(h.colour(v))
		top := yb + 0.5
		if k == steps-1 {
			top = yb
		}
		c.Fill(vg.Rectangle{Min: vg.Point{X: x0, Y: ya}, Max: vg.Point{X: x0 + keyBar, Y: top}}.Path())
	}
	ls := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	c.StrokeLines(ls, []vg.Point{{X: x0, Y: y0}, {X: x0 + keyBar, Y: y0}, {X: x0 + keyBar, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	for _, tk := range h.barTicks() {
		y := y0 + (y1-y0)*vg.Length((tk.Value/h.Max+1)/2)
		c.StrokeLine2(ls, x0+keyBar, y, x0+keyBar+2, y)
		c.FillText(sty, vg.Point{X: x0 + keyBar + keyText, Y: y}, tk.Label)
	}
	if h.Label != "" {
		sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
		c.FillText(sty, vg.Point{X: x0, Y: y1 + 3}, h.Label)
	}
}

// drawLegend draws a swatch and the name of each category, top down from
// y (the top of the data area), in the column c.
func (h *Heat) drawLegend(c draw.Canvas, sty text.Style, y vg.Length) {
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	x0 := c.Min.X + keyGap
	lineH := sty.Font.Size * 1.2
	for k := len(h.Categories) - 1; k >= 0; k-- { // highest priority on top
		cat := h.Categories[k]
		c.SetColor(cat.Colour)
		sw := min(keyBar, lineH*0.8)
		c.Fill(vg.Rectangle{Min: vg.Point{X: x0, Y: y - lineH/2 - sw/2}, Max: vg.Point{X: x0 + sw, Y: y - lineH/2 + sw/2}}.Path())
		lines := strings.Split(cat.Name, "\n")
		for i, line := range lines {
			c.FillText(sty, vg.Point{X: x0 + keyBar + keyText, Y: y - vg.Length(i)*lineH}, line)
		}
		y -= vg.Length(len(lines))*lineH + sty.Font.Size*0.8
	}
}
