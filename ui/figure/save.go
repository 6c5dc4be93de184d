// Package figure draws the plots of NPTI Studio with gonum/plot: the
// contrast heatmap (layers × neurons), the per-layer count chart and the
// dose-response plot. It never imports Fyne; the ui package shows the
// images these plots render to, and Save exports them to PNG, SVG or PDF.
package figure

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/npti-studio/npti/analysis"
)

// PrintDPI is the resolution of exported PNG files: print quality, so a
// figure can go into a paper as it is.
const PrintDPI = 300

// Formats lists the file extensions Save understands.
var Formats = []string{".png", ".svg", ".pdf"}

// Figure is anything Save and Image can draw into a canvas: a *plot.Plot
// or a Stack of plots.
type Figure interface {
	Draw(c draw.Canvas)
}

// Save writes f to path as PNG (at PrintDPI), SVG or PDF (chosen by the
// extension, case insensitive) with the given size. The file is written to a temporary
// name in the same folder and renamed into place, so a failed export never
// leaves a truncated file behind.
func Save(f Figure, path string, w, h vg.Length) error {
	if isNil(f) {
		return fmt.Errorf("save %s: no plot", path)
	}
	if w <= 0 || h <= 0 {
		return fmt.Errorf("save %s: bad size %v × %v", path, w, h)
	}
	ext := strings.ToLower(filepath.Ext(path))
	format := strings.TrimPrefix(ext, ".")
	switch format {
	case "png", "svg", "pdf":
	default:
		return fmt.Errorf("save %s: unknown format %q (want .png, .svg or .pdf)", path, ext)
	}
	var buf bytes.Buffer
	if err := render(f, format, w, h, &buf); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return analysis.WriteFileAtomic(path, buf.Bytes())
}

// isNil reports whether f is nil or a nil plot or stack.
func isNil(f Figure) bool {
	switch v := f.(type) {
	case nil:
		return true
	case *plot.Plot:
		return v == nil
	case *Stack:
		return v == nil
	case *HeatFigure:
		return v == nil || v.Plot == nil
	case *LayerChart:
		return v == nil || v.Plot == nil
	}
	return false
}

// render draws f into a canvas of the format and writes it to buf.
func render(f Figure, format string, w, h vg.Length, buf *bytes.Buffer) (err error) {
	defer func() { // gonum/plot panics on some degenerate inputs
		if r := recover(); r != nil {
			err = fmt.Errorf("render %s: %v", format, r)
		}
	}()
	var c vg.CanvasWriterTo
	if format == "png" { // at print resolution (the default is 96 dpi)
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PrintDPI))}
	} else if c, err = draw.NewFormattedCanvas(w, h, format); err != nil {
		return err
	}
	f.Draw(draw.New(c))
	_, err = c.WriteTo(buf)
	return err
}

// Image renders f to an RGBA image of w × h pixels at 96 dpi, for display.
func Image(f Figure, wPx, hPx int) (img image.Image, err error) {
	if isNil(f) || wPx <= 0 || hPx <= 0 {
		return nil, fmt.Errorf("render image: bad plot or size %d × %d", wPx, hPx)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("render image: %v", r)
		}
	}()
	const dpi = 96
	w := vg.Length(wPx) * vg.Inch / dpi
	h := vg.Length(hPx) * vg.Inch / dpi
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	f.Draw(draw.New(c))
	return c.Image(), nil
}

// Stack is a figure of plots stacked vertically with their data areas
// aligned, so panels that share an x range line up exactly, under one
// optional title and with one optional legend in a column at the right,
// outside every panel's data.
type Stack struct {
	// Title is drawn centred above the panels' data area.
	Title string
	// TitleSize is the title's font size (default 13 pt).
	TitleSize vg.Length
	// Plots are the panels, top first.
	Plots []*plot.Plot
	// Heights are the panels' relative heights (default equal).
	Heights []float64
	// Legend, when it has entries, is drawn at the top of the right column.
	Legend *plot.Legend
	// Gap is the space between panels (default 6 pt).
	Gap vg.Length
}

// Draw lays out and draws the stack in c.
func (s *Stack) Draw(c draw.Canvas) {
	if len(s.Plots) == 0 {
		return
	}
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	pad := vg.Points(6)
	c = draw.Crop(c, pad/2, -pad, pad/2, -pad/2)
	var title text.Style
	titleTop := c.Max.Y
	if s.Title != "" {
		title = titleStyle(s.TitleSize)
		c.Max.Y -= title.Rectangle(s.Title).Size().Y + pad
	}
	tiles, legend := s.layout(c)
	for k, p := range s.Plots {
		p.Draw(tiles[k])
	}
	if s.Title != "" {
		data := s.Plots[0].DataCanvas(tiles[0])
		x := (data.Min.X + data.Max.X) / 2
		c.FillText(title, vg.Point{X: x, Y: titleTop + title.FontExtents().Descent}, s.Title)
	}
	if s.Legend != nil {
		l := *s.Legend
		l.Top, l.Left = true, true
		l.Draw(legend)
	}
}

// layout returns the panels' tiles in c and the legend's column, right of
// the panels and from the top of the first panel's data area down.
func (s *Stack) layout(c draw.Canvas) ([]draw.Canvas, draw.Canvas) {
	const pad = vg.Length(6)
	panels := c
	if s.Legend != nil {
		if w := s.Legend.Rectangle(c).Size().X; w > 0 {
			panels.Max.X -= w + 2*pad
		}
	}
	tiles := s.align(panels)
	legend := c
	legend.Min.X, legend.Max.Y = panels.Max.X+2*pad, s.Plots[0].DataCanvas(tiles[0]).Max.Y
	return tiles, legend
}

// align splits c into one tile per plot by the relative heights and crops
// the tiles so that every plot's data area spans the same x interval.
func (s *Stack) align(c draw.Canvas) []draw.Canvas {
	n := len(s.Plots)
	gap := s.Gap
	if gap == 0 {
		gap = vg.Points(6)
	}
	total, hs := 0.0, make([]float64, n)
	for k := range hs {
		hs[k] = 1
		if k < len(s.Heights) && s.Heights[k] > 0 {
			hs[k] = s.Heights[k]
		}
		total += hs[k]
	}
	avail := c.Max.Y - c.Min.Y - gap*vg.Length(n-1)
	tiles := make([]draw.Canvas, n)
	top := c.Max.Y
	var left, right vg.Length
	for k, p := range s.Plots {
		t := c
		t.Max.Y, t.Min.Y = top, top-avail*vg.Length(hs[k]/total)
		top = t.Min.Y - gap
		tiles[k] = t
		d := p.DataCanvas(t)
		left, right = max(left, d.Min.X-t.Min.X), max(right, t.Max.X-d.Max.X)
	}
	for k, p := range s.Plots {
		d := p.DataCanvas(tiles[k])
		tiles[k] = draw.Crop(tiles[k], left-(d.Min.X-tiles[k].Min.X), -(right - (tiles[k].Max.X - d.Max.X)), 0, 0)
	}
	return tiles
}

// titleStyle is the default plot title style at the given size.
func titleStyle(size vg.Length) text.Style {
	sty := plot.New().Title.TextStyle
	if size > 0 {
		sty.Font.Size = size
	} else {
		sty.Font.Size = vg.Points(13)
	}
	return sty
}
