package inference

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/npti-studio/npti/inference/hook"
)

// The speed benchmarks of the engine, on a random model with SmolLM2-135M's
// shape (npti bench measures the same): prefill of 4 × 128 tokens with NPTI
// capture, and greedy decode at batch 1 and 2. Throughput is reported as
// tok/s.

func benchModel(b *testing.B) *Model { return benchModelWeights(b, "f32") }

func benchModelWeights(b *testing.B, weights string) *Model {
	b.Helper()
	m, err := Synthesize("smollm2-135m", 1, Options{Weights: weights})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func randomSeqs(m *Model, n, length int) [][]int {
	rng := rand.New(rand.NewPCG(3, 3))
	seqs := make([][]int, n)
	for i := range seqs {
		seqs[i] = make([]int, length)
		for j := range seqs[i] {
			seqs[i][j] = rng.IntN(m.Config.VocabSize)
		}
	}
	return seqs
}

func BenchmarkPrefillCapture(b *testing.B) {
	m := benchModel(b)
	seqs := randomSeqs(m, 4, 128)
	ctx := context.Background()
	st := hook.NewStats(m.Layers(), m.Neurons(), true)
	if _, err := m.Forward(ctx, seqs, ForwardOptions{Capture: st}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := m.Forward(ctx, seqs, ForwardOptions{Capture: st}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(4*128*b.N)/b.Elapsed().Seconds(), "tok/s")
	b.ReportMetric(float64(4*128*b.N)/(cpuTime()-cpu0).Seconds(), "tok/cpu-s")
}

func benchDecode(b *testing.B, rows int, weights string) {
	benchDecodeWith(b, benchModelWeights(b, weights), rows, GenerateOptions{})
}

// benchDecodeWith measures greedy decode steps of rows rows under o (its
// MaxTokens and IgnoreEOS are set here).
func benchDecodeWith(b *testing.B, m *Model, rows int, o GenerateOptions) {
	prompts := randomSeqs(m, rows, 16)
	ctx := context.Background()
	const n = 32
	o.MaxTokens, o.IgnoreEOS = n, true
	run := func() {
		if _, err := m.Generate(ctx, prompts, o); err != nil {
			b.Fatal(err)
		}
	}
	run()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		run()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu0).Seconds(), "steps/cpu-s")
}

// cpuTime is the user+system CPU time of this process so far: on a loaded
// machine, work per CPU-second is steadier than wall-clock throughput.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeSteeredBatch2 is the studio's side-by-side stream: row 0
// unsteered, row 1 with an override (1 % of the neurons clamped, 1 %
// added, NPTI's 0.9 add fraction) at every decode step.
func BenchmarkDecodeSteeredBatch2(b *testing.B) {
	m := benchModelWeights(b, "f32")
	o := hook.NewOverride(m.Layers(), m.Neurons())
	o.AddFraction, o.Seed = 0.9, 5
	for i := 0; i < len(o.Clamp); i += 100 {
		o.Clamp[i] = true
		o.Add[(i+50)%len(o.Add)] = 1.5
	}
	benchDecodeWith(b, m, 2, GenerateOptions{Override: o, OverrideRows: []bool{false, true}})
}

func BenchmarkDecodeBatch1(b *testing.B) { benchDecode(b, 1, "f32") }
func BenchmarkDecodeBatch2(b *testing.B) { benchDecode(b, 2, "f32") }

// The same with the weight matrices held as bfloat16 (half the bytes).
func BenchmarkDecodeBatch1BF16(b *testing.B) { benchDecode(b, 1, "bf16") }
func BenchmarkDecodeBatch2BF16(b *testing.B) { benchDecode(b, 2, "bf16") }
