package inference

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/npti-studio/npti/inference/hook"
)

// TestCaptureBins checks the graph's histogram binning against hook.BinOf
// on every float32 edge, its neighbours and values far out of range.
func TestCaptureBins(t *testing.T) {
	var vals []float32
	for _, e := range hook.BinEdges() {
		if math.IsInf(float64(e), 0) {
			continue
		}
		vals = append(vals, e, math.Nextafter32(e, -1), math.Nextafter32(e, 2), e+0.005)
	}
	vals = append(vals, -3, 0, 3, 1e9, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30)
	be, err := newBackend("")
	if err != nil {
		t.Fatal(err)
	}
	N := len(vals)
	e, err := graph.NewExec(be, func(a, count *graph.Node) (*graph.Node, *graph.Node) {
		return capture(a, count)
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Call(tensors.FromFlatDataAndDimensions(vals, 1, 1, N),
		tensors.FromFlatDataAndDimensions([]int32{1}, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	active := tensors.MustCopyFlatData[int32](res[0])
	hist := tensors.MustCopyFlatData[int32](res[1])
	for i, v := range vals {
		want := hook.BinOf(v)
		for b := 0; b < hook.Bins; b++ {
			if got, w := hist[i*hook.Bins+b], int32(boolInt(b == want)); got != w {
				t.Errorf("a=%v (bits %08x): bin %d counts %d, want %d (BinOf %d)", v, math.Float32bits(v), b, got, w, want)
			}
		}
		if got, w := active[i], int32(boolInt(v > 0)); got != w {
			t.Errorf("a=%v: active %d, want %d", v, got, w)
		}
	}
}
