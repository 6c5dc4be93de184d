package inference

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/npti-studio/npti/inference/hook"
)

// TestCaptureBins checks the capture's counting of activations (one
// [B, S, N] per layer) against a scan of the bin edges, on every float32
// edge, its neighbours and values far out of range, NaN included;
// positions not marked for counting (padding, prompt tokens outside the
// scope) must not count at all.
func TestCaptureBins(t *testing.T) {
	var vals []float32
	for _, e := range hook.BinEdges() {
		if math.IsInf(float64(e), 0) {
			continue
		}
		vals = append(vals, e, math.Nextafter32(e, -1), math.Nextafter32(e, 2), e+0.005)
	}
	vals = append(vals, -3, 0, 3, 1e9, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, float32(math.NaN()))
	const L, B, S = 3, 2, 2
	N := len(vals)
	flat := make([]float32, L*B*S*N)
	count := []bool{true, false, false, true} // [B*S]
	for l := range L {
		for p := range B * S {
			for n := range N {
				v := vals[n]
				if !count[p] {
					v = 0.5 // must not be counted
				}
				flat[((l*B*S)+p)*N+n] = v
			}
		}
	}
	st := hook.NewStats(L, N, true)
	var acts []*tensors.Tensor
	for l := range L {
		acts = append(acts, tensors.FromFlatDataAndDimensions(flat[l*B*S*N:(l+1)*B*S*N], B, S, N))
	}
	accumulate(st, 2, count, acts)
	if st.Tokens != 2 {
		t.Fatalf("tokens %d, want 2", st.Tokens)
	}
	for l := range L {
		for i, v := range vals {
			want := binByScan(v)
			for b := 0; b < hook.Bins; b++ {
				w := uint32(0)
				if b == want {
					w = 2
				}
				if got := st.Hist[(l*N+i)*hook.Bins+b]; got != w {
					t.Errorf("layer %d a=%v (bits %08x): bin %d counts %d, want %d (by scan %d)", l, v, math.Float32bits(v), b, got, w, want)
				}
			}
			if got, w := st.Active[l*N+i], 2*int64(boolInt(v > 0)); got != w {
				t.Errorf("layer %d a=%v: active %d, want %d", l, v, got, w)
			}
		}
	}
}

var scanEdges = hook.BinEdges()

// binByScan is the histogram bin of a by a linear scan of the edges
// (bins are left-open, right-closed; NaN counts as not active): an oracle
// independent of hook.BinOf's arithmetic guess and correction.
func binByScan(a float32) int {
	if !(a > 0) {
		return 0
	}
	for b := 1; b < hook.Bins; b++ {
		if a <= scanEdges[b+1] {
			return b
		}
	}
	return hook.Bins - 1
}

// TestCaptureFull: a capture that would count more positions than uint32
// histograms hold fails, and counts nothing.
func TestCaptureFull(t *testing.T) {
	m := loadModel(t, "models/tiny-random-llama")
	defer m.Close()
	st := hook.NewStats(m.Layers(), m.Neurons(), true)
	st.Tokens = hook.MaxHistTokens - 3
	_, err := m.Forward(context.Background(), [][]int{{1, 5, 9, 12}}, ForwardOptions{Capture: st})
	if err == nil || !strings.Contains(err.Error(), "exceed") {
		t.Fatalf("err %v, want the histogram limit", err)
	}
	if st.Tokens != hook.MaxHistTokens-3 || slices.ContainsFunc(st.Active, func(v int64) bool { return v != 0 }) ||
		slices.ContainsFunc(st.Hist, func(v uint32) bool { return v != 0 }) {
		t.Fatal("a refused capture changed the statistics")
	}
	// Several sequences: refused as a whole, not after the first groups.
	if _, err := m.Forward(context.Background(), [][]int{{1, 5}, {1, 9}}, ForwardOptions{Capture: st}); err == nil || st.Tokens != hook.MaxHistTokens-3 {
		t.Fatalf("two sequences past the limit: err %v, tokens %d", err, st.Tokens)
	}
	// Generation: its most positions (prompt + max tokens) are checked first.
	if _, err := m.Generate(context.Background(), [][]int{{1, 5}}, GenerateOptions{MaxTokens: 2, Capture: st, CaptureScope: hook.All}); err == nil || st.Tokens != hook.MaxHistTokens-3 {
		t.Fatalf("generation past the limit: err %v, tokens %d", err, st.Tokens)
	}
	if _, err := m.Forward(context.Background(), [][]int{{1, 5, 9}}, ForwardOptions{Capture: st}); err != nil || st.Tokens != hook.MaxHistTokens {
		t.Fatalf("filling up to the limit: err %v, tokens %d", err, st.Tokens)
	}
}
