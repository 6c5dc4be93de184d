package inference

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/compute/gobackend"

	"github.com/npti-studio/npti/inference/hook"
)

// TestFusionPasses: the Go backend fuses each RMS norm's nine graph ops,
// each SwiGLU's five and each RoPE's six into one op, each residual Add
// and the norm of its sum into one op with both results, ops read the
// reshaped and sliced q/k/v as views instead of running those ops, and
// the reference models (trained and random norm weights) compute bit for
// bit what they compute without the fusions: teacher-forced log-probs
// (batched rows: the parallel path; one short row; steered rows), greedy
// continuations with and without the hook, and the FFN statistics of the
// decode steps.
func TestFusionPasses(t *testing.T) {
	for _, name := range []string{"persona-tiny", "tiny-random-qwen2"} {
		t.Run(name, func(t *testing.T) { testFusionPasses(t, filepath.Join(sharedDir(t), "models", name)) })
	}
}

// fusionCounts are the Go backend's fusion counters.
type fusionCounts struct {
	rmsNorms, swiglus, ropes int64
	views                    int64 // inputs read as views
	addNorms                 int64 // residual Adds fused with the next norm
}

func countFusions() fusionCounts {
	return fusionCounts{gobackend.RMSNormsFused(), gobackend.SwiGLUsFused(), gobackend.RoPEsFused(),
		gobackend.ViewsFolded(), gobackend.AddNormsFused()}
}

func (c fusionCounts) minus(d fusionCounts) fusionCounts {
	return fusionCounts{c.rmsNorms - d.rmsNorms, c.swiglus - d.swiglus, c.ropes - d.ropes,
		c.views - d.views, c.addNorms - d.addNorms}
}

// fusionResult is what testFusionPasses compares, and how much the passes
// fused over the graphs compiled.
type fusionResult struct {
	logProbs [][]float64
	tokens   [][]int
	stats    *hook.Stats
	fusionCounts
	layers int64
}

func testFusionPasses(t *testing.T, dir string) {
	run := func() fusionResult {
		m, err := Load(dir, Options{Backend: "go"})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		before := countFusions()
		seqs := randomSeqs(m, 4, 96)
		lp, err := m.Forward(t.Context(), seqs, ForwardOptions{LogProbs: true})
		if err != nil {
			t.Fatal(err)
		}
		// One short row: the fused kernels' single-chunk path.
		short, err := m.Forward(t.Context(), [][]int{seqs[2][:8]}, ForwardOptions{LogProbs: true})
		if err != nil {
			t.Fatal(err)
		}
		lp = append(lp, short...)
		// The same rows steered (the hook's per-layer override rows).
		o := hook.NewOverride(m.Layers(), m.Neurons())
		for i := 0; i < len(o.Clamp); i += 7 {
			o.Clamp[i] = true
			o.Add[(i+3)%len(o.Add)] = 0.75
		}
		steered, err := m.Forward(t.Context(), seqs[:2], ForwardOptions{LogProbs: true, Override: o})
		if err != nil {
			t.Fatal(err)
		}
		lp = append(lp, steered...)
		st := hook.NewStats(m.Layers(), m.Neurons(), true)
		toks, err := m.Generate(t.Context(), [][]int{seqs[0][:9], seqs[1][:5]}, GenerateOptions{
			MaxTokens: 12, IgnoreEOS: true, Capture: st, CaptureScope: hook.Generated})
		if err != nil {
			t.Fatal(err)
		}
		plainToks, err := m.Generate(t.Context(), [][]int{seqs[2][:7]}, GenerateOptions{MaxTokens: 12, IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, plainToks...)
		return fusionResult{lp, toks, st, countFusions().minus(before), int64(m.Config.NumLayers)}
	}
	fused := run()
	layers := fused.layers
	// Each compiled graph has 2 norms a layer and the final one.
	if norms := 2*layers + 1; fused.rmsNorms < 2*norms || fused.rmsNorms%norms != 0 {
		t.Fatalf("%d RMS norms fused over the graphs compiled, want a multiple of %d for at least 2 graphs", fused.rmsNorms, norms)
	}
	// The SwiGLU of every layer in the graphs without the hook (the
	// log-probs' and the prompt's); the capturing decode steps keep theirs.
	if fused.swiglus < 2*layers || fused.swiglus%layers != 0 {
		t.Fatalf("%d SwiGLUs fused, want a multiple of %d for at least 2 graphs", fused.swiglus, layers)
	}
	// One RoPE a layer (queries and keys rotate together) in every graph.
	if fused.ropes < 3*layers || fused.ropes%layers != 0 {
		t.Fatalf("%d RoPEs fused, want a multiple of %d for at least 3 graphs", fused.ropes, layers)
	}
	// A one-token step reads five views a layer: the RoPE's input (a
	// reshaped slice of the joined q/k/v product), the queries of the
	// attention, the new key and value of the cache updates, and the
	// attention's output in the output projection; two decode graphs.
	if fused.views < 2*5*layers {
		t.Fatalf("%d inputs read as views, want at least %d", fused.views, 2*5*layers)
	}
	// Every residual Add feeds the next norm, the last one the final norm
	// where no Gather of the last positions comes between: 2L a graph for
	// the three log-prob graphs (one steered), 2L-1 for the four others
	// (two prompts' prefill, two decode steps).
	if want := 3*2*layers + 4*(2*layers-1); fused.addNorms != want {
		t.Fatalf("%d Add + RMS norm pairs fused, want %d", fused.addNorms, want)
	}
	// The fusions without the views give the same bits too.
	t.Setenv("GOMLX_GO_NO_VIEWS", "1")
	noViews := run()
	if noViews.views != 0 || noViews.addNorms != fused.addNorms {
		t.Fatalf("with the views turned off: %d views, %d Add + norm pairs (want 0, %d)", noViews.views, noViews.addNorms, fused.addNorms)
	}
	sameBits(t, "without views", fused, noViews)
	t.Setenv("GOMLX_GO_NO_VIEWS", "")
	t.Setenv("GOMLX_GO_NO_FUSION", "1")
	plain := run()
	if plain.fusionCounts != (fusionCounts{}) {
		t.Fatalf("fused with the passes turned off: %+v", plain.fusionCounts)
	}
	sameBits(t, "unfused", fused, plain)
}

// sameBits fails unless b's log-probs, tokens and statistics are a's.
func sameBits(t *testing.T, what string, a, b fusionResult) {
	t.Helper()
	if len(a.logProbs) != len(b.logProbs) || len(a.tokens) != len(b.tokens) {
		t.Fatalf("%d log-prob rows and %d token rows fused, %d and %d %s",
			len(a.logProbs), len(a.tokens), len(b.logProbs), len(b.tokens), what)
	}
	for i := range a.logProbs {
		if len(a.logProbs[i]) != len(b.logProbs[i]) {
			t.Fatalf("log-prob row %d: %d fused, %d %s", i, len(a.logProbs[i]), len(b.logProbs[i]), what)
		}
		for j, x := range a.logProbs[i] {
			if y := b.logProbs[i][j]; math.Float64bits(x) != math.Float64bits(y) {
				t.Fatalf("log-prob [%d][%d]: fused %v, %s %v", i, j, x, what, y)
			}
		}
	}
	for i := range a.tokens {
		if !slices.Equal(a.tokens[i], b.tokens[i]) {
			t.Fatalf("row %d: fused generated %v, %s %v", i, a.tokens[i], what, b.tokens[i])
		}
	}
	if !slices.Equal(a.stats.Active, b.stats.Active) || !slices.Equal(a.stats.Hist, b.stats.Hist) {
		t.Fatalf("decode-step FFN statistics differ %s", what)
	}
}
