package ui

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// pixel is a position in the pixels of a plotView's image.
type pixel struct{ x, y float64 }

// plotView shows a plot rendered at exactly its pixel size (re-rendered on
// resize, so it stays sharp) and reports pointer events in image pixels:
// hover, tap, a dragged rectangle and the scroll wheel.
type plotView struct {
	widget.BaseWidget
	img *canvas.Image
	box *canvas.Rectangle

	// render draws the plot at w × h pixels.
	render func(w, h int) (image.Image, error)
	// onError reports a failed render.
	onError func(error)

	onHover  func(p pixel, w, h int, in bool)
	onTap    func(p pixel, w, h int)
	onRect   func(a, b pixel, w, h int)
	onScroll func(p pixel, w, h int, dy float32)

	pw, ph    int
	dragFrom  fyne.Position
	dragging  bool
	dragEnd   fyne.Position
	minHeight float32
}

func newPlotView(render func(w, h int) (image.Image, error)) *plotView {
	v := &plotView{render: render, minHeight: 200}
	v.img = &canvas.Image{FillMode: canvas.ImageFillStretch, ScaleMode: canvas.ImageScalePixels}
	v.box = canvas.NewRectangle(color.Transparent)
	v.box.StrokeColor = color.NRGBA{20, 20, 20, 220}
	v.box.StrokeWidth = 1.5
	v.box.Hide()
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer implements fyne.Widget.
func (v *plotView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(v.img, container.NewWithoutLayout(v.box)))
}

// MinSize keeps the plot readable.
func (v *plotView) MinSize() fyne.Size { return fyne.NewSize(200, v.minHeight) }

// Resize re-renders at the new size.
func (v *plotView) Resize(s fyne.Size) {
	if s == v.Size() && v.img.Image != nil {
		return
	}
	v.BaseWidget.Resize(s)
	v.redraw()
}

// scale returns device pixels per Fyne unit.
func (v *plotView) scale() float32 {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil && c.Scale() > 0 {
		return c.Scale()
	}
	return 1
}

// redraw renders the plot at the current size.
func (v *plotView) redraw() {
	s := v.Size()
	sc := v.scale()
	w, h := int(s.Width*sc), int(s.Height*sc)
	if w < 20 || h < 20 || v.render == nil {
		return
	}
	img, err := v.render(w, h)
	if err != nil {
		if v.onError != nil {
			v.onError(err)
		}
		return
	}
	v.pw, v.ph = w, h
	v.img.Image = img
	v.img.Refresh()
}

// toPixel converts a widget position to image pixels.
func (v *plotView) toPixel(p fyne.Position) pixel {
	s := v.Size()
	if s.Width == 0 || s.Height == 0 {
		return pixel{}
	}
	return pixel{float64(p.X) * float64(v.pw) / float64(s.Width), float64(p.Y) * float64(v.ph) / float64(s.Height)}
}

// Tapped implements fyne.Tappable.
func (v *plotView) Tapped(e *fyne.PointEvent) {
	if v.onTap != nil && v.pw > 0 {
		v.onTap(v.toPixel(e.Position), v.pw, v.ph)
	}
}

// MouseIn implements desktop.Hoverable.
func (v *plotView) MouseIn(e *desktop.MouseEvent) { v.MouseMoved(e) }

// MouseMoved implements desktop.Hoverable.
func (v *plotView) MouseMoved(e *desktop.MouseEvent) {
	if v.onHover != nil && v.pw > 0 {
		v.onHover(v.toPixel(e.Position), v.pw, v.ph, true)
	}
}

// MouseOut implements desktop.Hoverable.
func (v *plotView) MouseOut() {
	if v.onHover != nil {
		v.onHover(pixel{}, v.pw, v.ph, false)
	}
}

// Dragged implements fyne.Draggable: it draws the rectangle being dragged.
func (v *plotView) Dragged(e *fyne.DragEvent) {
	if v.onRect == nil {
		return
	}
	if !v.dragging {
		v.dragging = true
		v.dragFrom = e.Position.Subtract(e.Dragged)
	}
	a, b := v.dragFrom, e.Position
	v.box.Move(fyne.NewPos(min(a.X, b.X), min(a.Y, b.Y)))
	v.box.Resize(fyne.NewSize(abs32(b.X-a.X), abs32(b.Y-a.Y)))
	v.box.Show()
	v.box.Refresh()
	v.dragEnd = e.Position
}

// DragEnd implements fyne.Draggable: it reports the rectangle.
func (v *plotView) DragEnd() {
	if !v.dragging {
		return
	}
	v.dragging = false
	v.box.Hide()
	if v.onRect != nil && v.pw > 0 {
		v.onRect(v.toPixel(v.dragFrom), v.toPixel(v.dragEnd), v.pw, v.ph)
	}
}

// Scrolled implements fyne.Scrollable.
func (v *plotView) Scrolled(e *fyne.ScrollEvent) {
	if v.onScroll != nil && v.pw > 0 {
		v.onScroll(v.toPixel(e.Position), v.pw, v.ph, e.Scrolled.DY)
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
