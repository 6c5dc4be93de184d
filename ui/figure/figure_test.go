package figure

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference/refdata"
	"gonum.org/v1/plot/vg"
)

var regen = flag.Bool("regen", false, "rewrite the golden images in testdata/")

// shared returns a path in the reference data (../shared).
func shared(t testing.TB) string { return refdata.Path(t) }

// llamaGrid loads the published Extraversion sets as a signed grid: the
// high pole's diff where it holds a neuron, minus the low pole's elsewhere.
func llamaGrid(t testing.TB) (*Dense, analysis.Sets) {
	t.Helper()
	sets, err := analysis.LoadSets(filepath.Join(shared(t), "data", "npti-llama3-8b-instruct"))
	if err != nil {
		t.Fatal(err)
	}
	g := NewDense(32, 14336)
	for _, n := range sets[analysis.Aspect{Trait: analysis.Extraversion, Pole: analysis.Low}] {
		g.Set(n.Layer, n.Index, -n.Diff)
	}
	for _, n := range sets[analysis.Aspect{Trait: analysis.Extraversion, Pole: analysis.High}] {
		g.Set(n.Layer, n.Index, n.Diff)
	}
	return g, sets
}

func TestSaveFormats(t *testing.T) {
	g, _ := llamaGrid(t)
	f, err := NewHeatmap(g, HeatOptions{Title: "Extraversion"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, ext := range Formats {
		path := filepath.Join(dir, "heat"+ext)
		if err := Save(f, path, 6*vg.Inch, 4*vg.Inch); err != nil {
			t.Fatalf("save %s: %v", ext, err)
		}
		if err := CheckFile(path); err != nil {
			t.Fatal(err)
		}
		if ext == ".png" {
			img, err := png.Decode(bytes.NewReader(readFile(t, path)))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 6*PrintDPI || b.Dy() != 4*PrintDPI {
				t.Errorf("png size %v, want 6 × 4 inches at %d dpi", b, PrintDPI)
			}
		}
	}
	if err := Save(f.Plot, filepath.Join(dir, "x.gif"), vg.Inch, vg.Inch); err == nil || !strings.Contains(err.Error(), "x.gif") {
		t.Errorf("unknown format: got %v, want an error naming the file", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("folder holds %d files, want the 3 exports and no temporary file", len(entries))
	}
}

// TestLocateRoundTrip renders the grid and checks that the colour of the
// pixel under a located cell is the colour of a neuron in its column.
func TestLocateRoundTrip(t *testing.T) {
	g := NewDense(4, 10)
	for l := 0; l < 4; l++ {
		for i := 0; i < 10; i++ {
			g.Set(l, i, float64(l*10+i)/40-0.5)
		}
	}
	f, err := NewHeatmap(g, HeatOptions{Max: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 600, 400
	img, err := f.Image(w, h)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for y := 5; y < h; y += 37 {
		for x := 5; x < w; x += 23 {
			c, ok := f.Locate(w, h, float64(x)+0.5, float64(y)+0.5)
			if !ok {
				continue
			}
			found++
			want := f.Heat.colour(g.Value(c.Layer, c.Neuron))
			r, gg, b, _ := img.At(x, y).RGBA()
			if d := math.Abs(float64(r>>8)-float64(want.R)) + math.Abs(float64(gg>>8)-float64(want.G)) + math.Abs(float64(b>>8)-float64(want.B)); d > 12 {
				t.Errorf("pixel (%d,%d) located at %+v has colour %d,%d,%d, want %v", x, y, c, r>>8, gg>>8, b>>8, want)
			}
		}
	}
	if found < 20 {
		t.Errorf("only %d sample pixels fell on the grid", found)
	}
	if _, ok := f.Locate(w, h, 1, 1); ok {
		t.Error("the top-left corner is outside the grid but was located")
	}
}

// TestBinningKeepsPeaks checks that a single strong neuron among 14336
// still shows at full colour when a pixel covers many neurons.
func TestBinningKeepsPeaks(t *testing.T) {
	g := NewDense(2, 14336)
	g.Set(1, 7777, 0.9)
	h := &Heat{Grid: g, Max: 0.9, X0: -0.5, X1: 14335.5, Y0: -0.5, Y1: 1.5}
	img := h.Raster(200, 20)
	peak := h.colour(0.9)
	hits := 0
	for x := 0; x < 200; x++ {
		if img.RGBAAt(x, 2) == peak {
			hits++
		}
	}
	if hits != 1 {
		t.Errorf("peak drawn in %d pixel columns of layer 1, want 1", hits)
	}
	if img.RGBAAt(108, 15) == peak {
		t.Error("peak leaked into layer 0")
	}
}

func TestLayerCountsLlama(t *testing.T) {
	_, sets := llamaGrid(t)
	counts := make([]int, 32)
	for _, ls := range analysis.PerLayer(sets[analysis.Aspect{Trait: analysis.Extraversion, Pole: analysis.High}]) {
		counts[ls.Layer] = ls.Count
	}
	p, err := LayerCounts("Extraversion high", 32, 400, LayerSeries{Name: "high", Counts: counts})
	if err != nil {
		t.Fatal(err)
	}
	if p.Plot.X.Max < 1000 {
		t.Errorf("x range max %v: the largest layers hold thousands of neurons", p.Plot.X.Max)
	}
	if _, err := LayerCounts("bad", 32, 400, LayerSeries{Counts: counts[:3]}); err == nil {
		t.Error("series of the wrong length accepted")
	}
}

func TestGoldenImages(t *testing.T) {
	g, sets := llamaGrid(t)
	heat, err := NewHeatmap(g, HeatOptions{Title: "Extraversion (Llama-3-8B, published sets)"})
	if err != nil {
		t.Fatal(err)
	}
	sorted, err := NewHeatmap(g, HeatOptions{Title: "sorted", Order: SortedOrder(g), X0: -0.5, X1: 2999.5})
	if err != nil {
		t.Fatal(err)
	}
	series := []LayerSeries{}
	for _, p := range []analysis.Pole{analysis.High, analysis.Low} {
		counts := make([]int, 32)
		for _, ls := range analysis.PerLayer(sets[analysis.Aspect{Trait: analysis.Extraversion, Pole: p}]) {
			counts[ls.Layer] = ls.Count
		}
		series = append(series, LayerSeries{Name: p.String(), Counts: counts})
	}
	bars, err := LayerCounts("neurons per layer", 32, 400, series...)
	if err != nil {
		t.Fatal(err)
	}
	overlay, err := NewHeatmap(overlayGrid(g), HeatOptions{Title: "overlay", Categories: overlayCats, Label: "set"})
	if err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string]func() (image.Image, error){
		"heatmap.png":         func() (image.Image, error) { return heat.Image(800, 400) },
		"heatmap_sorted.png":  func() (image.Image, error) { return sorted.Image(800, 400) },
		"heatmap_overlay.png": func() (image.Image, error) { return overlay.Image(800, 400) },
		"layers.png":          func() (image.Image, error) { return Image(bars, 300, 400) },
	} {
		got, err := img()
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, name, got)
	}
}

// overlayCats are categories with the long names of the app's overlay.
var overlayCats = []Category{
	{Name: "Extraversion high only\n(20780)", Colour: color.RGBA{230, 120, 0, 255}},
	{Name: "Neuroticism high only\n(11952)", Colour: color.RGBA{40, 110, 220, 255}},
	{Name: "both\n(1052)", Colour: color.RGBA{150, 40, 170, 255}},
	{Name: "conflict\n(11802)", Colour: color.RGBA{20, 20, 20, 255}},
}

// overlayGrid classifies g's cells into the overlay categories by value.
func overlayGrid(g *Dense) *Dense {
	d := NewDense(g.Layers, g.Neurons)
	for k, v := range g.Data {
		switch {
		case v > 0.3:
			d.Data[k] = 4
		case v > 0.1:
			d.Data[k] = 1
		case v < -0.3:
			d.Data[k] = 3
		case v < -0.1:
			d.Data[k] = 2
		}
	}
	return d
}

// TestNothingClipped renders the figures whose keys and legends used to
// be cut off (long category names, two series, count ticks) at screen
// and export sizes and checks that nothing is drawn on the image's
// outermost pixels: every label fits inside.
func TestNothingClipped(t *testing.T) {
	g, sets := llamaGrid(t)
	overlay, err := NewHeatmap(overlayGrid(g), HeatOptions{Title: "Overlay: Extraversion high vs Neuroticism high", Categories: overlayCats})
	if err != nil {
		t.Fatal(err)
	}
	heat, err := NewHeatmap(g, HeatOptions{Title: "Extraversion"})
	if err != nil {
		t.Fatal(err)
	}
	var series []LayerSeries
	for _, p := range []analysis.Pole{analysis.High, analysis.Low} {
		counts := make([]int, 32)
		for _, ls := range analysis.PerLayer(sets[analysis.Aspect{Trait: analysis.Extraversion, Pole: p}]) {
			counts[ls.Layer] = ls.Count
		}
		series = append(series, LayerSeries{Name: "Extraversion " + p.String(), Counts: counts})
	}
	bars, err := LayerCounts("selected per layer", 32, 580, series...)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    Figure
		w, h int
	}{{"overlay", overlay, 740, 580}, {"overlay small", overlay, 500, 300}, {"heatmap", heat, 740, 580},
		{"layers", bars, 210, 580}, {"layers export", bars, 384, 480}} {
		img, err := Image(c.f, c.w, c.h)
		if err != nil {
			t.Fatal(err)
		}
		if n := inkOnBorder(img); n > 0 {
			t.Errorf("%s at %d×%d: %d non-white pixels on the border (something is cut off)", c.name, c.w, c.h, n)
		}
	}
	// The count axis is labelled with whole numbers.
	for _, tk := range bars.Plot.X.Tick.Marker.Ticks(bars.Plot.X.Min, bars.Plot.X.Max) {
		if strings.Contains(tk.Label, ".") {
			t.Errorf("count tick label %q", tk.Label)
		}
	}
}

// inkOnBorder counts the non-white pixels of the outermost rows and columns.
func inkOnBorder(img image.Image) int {
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if x != b.Min.X && x != b.Max.X-1 && y != b.Min.Y && y != b.Max.Y-1 {
				continue
			}
			if r, g, bb, _ := img.At(x, y).RGBA(); r < 0xf000 || g < 0xf000 || bb < 0xf000 {
				n++
			}
		}
	}
	return n
}

// checkGolden compares img with testdata/name (rewritten with -regen),
// allowing a small per-channel difference for font rasterisation.
func checkGolden(t *testing.T, name string, img image.Image) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *regen {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -regen to create it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if want.Bounds() != img.Bounds() {
		t.Fatalf("%s: size %v, golden %v", name, img.Bounds(), want.Bounds())
	}
	bad := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, _ := img.At(x, y).RGBA()
			r2, g2, b2, _ := want.At(x, y).RGBA()
			if absDiff(r1, r2) > 8<<8 || absDiff(g1, g2) > 8<<8 || absDiff(b1, b2) > 8<<8 {
				bad++
			}
		}
	}
	if bad > b.Dx()*b.Dy()/500 {
		t.Errorf("%s: %d pixels differ from the golden image", name, bad)
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// BenchmarkHeatmap32x14336 renders a Llama-3-8B sized heatmap at a typical
// on-screen size; the issue asks for at most 50 ms.
func BenchmarkHeatmap32x14336(b *testing.B) {
	g, _ := llamaGrid(b)
	f, err := NewHeatmap(g, HeatOptions{Title: "Extraversion"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.Image(1000, 560); err != nil {
			b.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
