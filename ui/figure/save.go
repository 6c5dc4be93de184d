// Package figure draws the plots of NPTI Studio with gonum/plot: the
// contrast heatmap (layers × neurons), the per-layer count chart and the
// dose-response plot. It never imports Fyne; the ui package shows the
// images these plots render to, and Save exports them to PNG, SVG or PDF.
package figure

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Formats lists the file extensions Save understands.
var Formats = []string{".png", ".svg", ".pdf"}

// Save writes p to path as PNG, SVG or PDF (chosen by the extension, case
// insensitive) with the given size. The file is written to a temporary
// name in the same folder and renamed into place, so a failed export never
// leaves a truncated file behind.
func Save(p *plot.Plot, path string, w, h vg.Length) error {
	if p == nil {
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
	if err := render(p, format, w, h, &buf); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return writeAtomic(path, buf.Bytes())
}

// render draws p into a canvas of the format and writes it to buf.
func render(p *plot.Plot, format string, w, h vg.Length, buf *bytes.Buffer) (err error) {
	defer func() { // gonum/plot panics on some degenerate inputs
		if r := recover(); r != nil {
			err = fmt.Errorf("render %s: %v", format, r)
		}
	}()
	c, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return err
	}
	p.Draw(draw.New(c))
	_, err = c.WriteTo(buf)
	return err
}

// writeAtomic writes data to path via a temporary file and rename.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// Image renders p to an RGBA image of w × h pixels at 96 dpi, for display.
func Image(p *plot.Plot, wPx, hPx int) (img image.Image, err error) {
	if p == nil || wPx <= 0 || hPx <= 0 {
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
	p.Draw(draw.New(c))
	return c.Image(), nil
}
