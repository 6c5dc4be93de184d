package inference

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/compute/gobackend"

	"github.com/npti-studio/npti/inference/hook"
)

// TestRMSNormFusion: the Go backend fuses each RMS norm's nine graph ops
// into one, and the reference models (trained and random norm weights)
// compute bit for bit what they compute without the fusion: teacher-forced log-probs (batched rows: the parallel path),
// greedy continuations and the FFN statistics of the decode steps.
func TestRMSNormFusion(t *testing.T) {
	for _, name := range []string{"persona-tiny", "tiny-random-qwen2"} {
		t.Run(name, func(t *testing.T) { testRMSNormFusion(t, filepath.Join(sharedDir(t), "models", name)) })
	}
}

func testRMSNormFusion(t *testing.T, dir string) {
	type result struct {
		logProbs [][]float64
		tokens   [][]int
		stats    *hook.Stats
		fused    int64
		norms    int64
	}
	run := func() result {
		m, err := Load(dir, Options{Backend: "go"})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		before := gobackend.RMSNormsFused()
		seqs := randomSeqs(m, 4, 96)
		lp, err := m.Forward(t.Context(), seqs, ForwardOptions{LogProbs: true})
		if err != nil {
			t.Fatal(err)
		}
		st := hook.NewStats(m.Layers(), m.Neurons(), true)
		toks, err := m.Generate(t.Context(), [][]int{seqs[0][:9], seqs[1][:5]}, GenerateOptions{
			MaxTokens: 12, IgnoreEOS: true, Capture: st, CaptureScope: hook.Generated})
		if err != nil {
			t.Fatal(err)
		}
		return result{lp, toks, st, gobackend.RMSNormsFused() - before, int64(2*m.Config.NumLayers + 1)}
	}
	fused := run()
	// Each compiled graph has 2 norms a layer and the final one.
	if norms := fused.norms; fused.fused < 2*norms || fused.fused%norms != 0 {
		t.Fatalf("%d RMS norms fused over the graphs compiled, want a multiple of %d for at least 2 graphs", fused.fused, norms)
	}
	t.Setenv("GOMLX_GO_NO_RMSNORM_FUSION", "1")
	plain := run()
	if plain.fused != 0 {
		t.Fatalf("%d RMS norms fused with the fusion turned off", plain.fused)
	}
	for i := range fused.logProbs {
		for j, a := range fused.logProbs[i] {
			if b := plain.logProbs[i][j]; math.Float64bits(a) != math.Float64bits(b) {
				t.Fatalf("log-prob [%d][%d]: fused %v, unfused %v", i, j, a, b)
			}
		}
	}
	for i := range fused.tokens {
		if !slices.Equal(fused.tokens[i], plain.tokens[i]) {
			t.Fatalf("row %d: fused generated %v, unfused %v", i, fused.tokens[i], plain.tokens[i])
		}
	}
	if !slices.Equal(fused.stats.Active, plain.stats.Active) || !slices.Equal(fused.stats.Hist, plain.stats.Hist) {
		t.Fatal("decode-step FFN statistics differ with the fusion")
	}
}
