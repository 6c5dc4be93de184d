package inference

import (
	"runtime"
	"testing"
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
