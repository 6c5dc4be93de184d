package inference

import (
	"runtime"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestWeightsOffHeap checks that on Linux the Go backend holds the weights
// outside the Go heap (the patched backend maps them), so the collector's
// heap goal does not grow with the model: loading 0.5 GB of weights may
// not add more than a tenth of that to the heap.
func TestWeightsOffHeap(t *testing.T) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := Synthesize("smollm2-135m", 1, Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if w := m.WeightBytes(); grew > w/10 {
		t.Fatalf("the heap grew by %d MB loading %d MB of weights", grew>>20, w>>20)
	}
	// The weights are usable: one greedy step runs.
	if _, err := m.Generate(t.Context(), [][]int{{1, 2, 3}}, GenerateOptions{MaxTokens: 1, IgnoreEOS: true}); err != nil {
		t.Fatal(err)
	}
}

// TestReadAheadHints: between decode products the Go backend's idle worker
// reads the weight matrix that came next last time (plain loads, which
// would fault on unmapped memory). Decoding records those hints, and once
// the model's weights are unmapped none is left.
func TestReadAheadHints(t *testing.T) {
	m, err := Synthesize("smollm2-135m", 1, Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Generate(t.Context(), [][]int{{1, 2, 3}}, GenerateOptions{MaxTokens: 3, IgnoreEOS: true}); err != nil {
		t.Fatal(err)
	}
	// The AVX2 build's team runs the decode products: at least one hint
	// per weight matrix (4 per layer and the head).
	if h := gobackend.PrefetchHints(); fastAttention && h < 4*m.Config.NumLayers+1 {
		t.Fatalf("%d read-ahead hints after decoding, want ≥ %d", h, 4*m.Config.NumLayers+1)
	}
	m.Close()
	m = nil
	for deadline := time.Now().Add(20 * time.Second); gobackend.PrefetchHints() != 0 && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if h := gobackend.PrefetchHints(); h != 0 {
		t.Fatalf("%d read-ahead hints left after the weights were freed", h)
	}
}

// TestReadAheadOnlyOffHeap: products whose weights live on the Go heap
// (shared buffers under 256 KiB) record no read-ahead hints: only off-heap
// weights are unmapped after the hints are dropped.
func TestReadAheadOnlyOffHeap(t *testing.T) {
	be, err := newBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	e, err := graph.NewExec(be, func(x, w *graph.Node) *graph.Node { return linear(x, w, nil) })
	if err != nil {
		t.Fatal(err)
	}
	const rows, in = 96, 576 // 216 KiB: the team's size, on the heap
	ws := make([]*tensors.Tensor, 2)
	for i := range ws {
		w := make([]float32, rows*in)
		for j := range w {
			w[j] = float32((i+j)%5) * 0.1
		}
		ws[i] = tensors.FromFlatDataAndDimensions(w, rows, in)
	}
	x := tensors.FromFlatDataAndDimensions(make([]float32, in), 1, in)
	before := gobackend.PrefetchHints()
	for range 3 {
		for _, w := range ws {
			r, err := e.Call(x, w)
			if err != nil {
				t.Fatal(err)
			}
			_ = r[0].FinalizeAll()
		}
	}
	if after := gobackend.PrefetchHints(); after != before {
		t.Fatalf("read-ahead hints went from %d to %d over products with Go-heap weights", before, after)
	}
}

// TestOffHeapDonatedStaysMapped: a shared backend buffer of 256 KiB or more
// lives off the Go heap; donated to a graph that updates it in place, it
// comes back as a shallow clone of the donated Buffer. The mapping must
// outlive the donated struct: after collections the result still reads
// back (before the fix, the collector unmapped it and the read faulted).
func TestOffHeapDonatedStaysMapped(t *testing.T) {
	be, err := newBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	const n = 128 << 10 // 512 KiB of float32
	e, err := graph.NewExec(be, func(x *graph.Node) *graph.Node { return graph.AddScalar(x, 1) })
	if err != nil {
		t.Fatal(err)
	}
	in, err := tensors.FromShapeForBackend(be, 0, shapes.Make(dtypes.Float32, n))
	if err != nil {
		t.Fatal(err)
	}
	for step := range 3 {
		d, err := graph.DonateTensorBuffer(in, be, 0)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Call(d)
		if err != nil {
			t.Fatal(err)
		}
		in = res[0]
		for range 3 {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
		tensors.MustConstFlatData(in, func(flat []float32) {
			for i, v := range flat {
				if v != float32(step+1) {
					t.Fatalf("step %d: value %d is %v", step, i, v)
				}
			}
		})
	}
	_ = in.FinalizeAll()
}

// TestOffHeapUnmapped: a finalized off-heap buffer is unmapped once the
// collector finds nothing over it, whatever small objects were allocated
// beside the object that stands for its mapping.
func TestOffHeapUnmapped(t *testing.T) {
	be, err := newBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // what earlier tests left unreachable goes first
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	before := gobackend.OffHeapMappings()
	var keep []*int // small pointer-free neighbours, alive throughout
	ts := make([]*tensors.Tensor, 4)
	for i := range ts {
		keep = append(keep, new(int))
		if ts[i], err = tensors.FromShapeForBackend(be, 0, shapes.Make(dtypes.Float32, 128<<10)); err != nil {
			t.Fatal(err)
		}
		keep = append(keep, new(int))
	}
	if got := gobackend.OffHeapMappings(); got != before+len(ts) {
		t.Fatalf("%d off-heap mappings after allocating %d, want %d", got, len(ts), before+len(ts))
	}
	for _, x := range ts {
		_ = x.FinalizeAll()
	}
	ts = nil
	for deadline := time.Now().Add(20 * time.Second); gobackend.OffHeapMappings() > before && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if got := gobackend.OffHeapMappings(); got > before {
		t.Fatalf("%d off-heap mappings left after finalizing, want %d", got, before)
	}
	runtime.KeepAlive(keep)
}
