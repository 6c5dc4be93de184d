package inference

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/hook"
)

// Padded batches must give every row exactly what it gives alone.
func TestBatchEqualsSingle(t *testing.T) {
	m := loadModel(t, "models/tiny-random-llama")
	ctx := context.Background()
	prompts := [][]int{{321, 133, 382, 186}, {29, 83, 60, 193, 243, 129, 197, 281, 55, 296, 130, 9}, {7}}
	opts := GenerateOptions{MaxTokens: 10, IgnoreEOS: true, Sampling: Sampling{RepetitionPenalty: 1.15}}
	batch, err := m.Generate(ctx, prompts, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prompts {
		single, err := m.Generate(ctx, [][]int{p}, opts)
		if err != nil {
			t.Fatal(err)
		}
		equalIDs(t, "row", batch[i], single[0])
	}
}

// Side by side: a baseline row and a steered row in one batch equal the
// unsteered and the steered runs alone.
func TestOverrideRows(t *testing.T) {
	m := loadModel(t, "models/tiny-random-llama")
	dir := sharedDir(t) + "/models/tiny-random-llama/neurons/"
	o := testOverride(t, m, dir+"Extraversion_dict.json", dir+"Extraversion_reversed_dict.json", 1, hook.Generated)
	ctx := context.Background()
	p := []int{321, 133, 382, 186}
	both, err := m.Generate(ctx, [][]int{p, p}, GenerateOptions{MaxTokens: 12, IgnoreEOS: true, Override: o, OverrideRows: []bool{false, true}})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := m.Generate(ctx, [][]int{p}, GenerateOptions{MaxTokens: 12, IgnoreEOS: true})
	steered, _ := m.Generate(ctx, [][]int{p}, GenerateOptions{MaxTokens: 12, IgnoreEOS: true, Override: o})
	equalIDs(t, "baseline row", both[0], plain[0])
	equalIDs(t, "steered row", both[1], steered[0])
	if slices.Equal(plain[0], steered[0]) {
		t.Fatal("the override changed nothing")
	}
}

// An empty override is bit-identical to no override.
func TestEmptyOverrideBitIdentical(t *testing.T) {
	m := loadModel(t, "models/tiny-random-qwen2")
	ctx := context.Background()
	seq := [][]int{{410, 356, 433, 381, 336, 274, 17, 433}}
	plain, err := m.Forward(ctx, seq, ForwardOptions{LogProbs: true})
	if err != nil {
		t.Fatal(err)
	}
	o := hook.NewOverride(m.Layers(), m.Neurons())
	o.Scope = hook.All
	edited, err := m.Forward(ctx, seq, ForwardOptions{LogProbs: true, Override: o})
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain[0] {
		if math.Float64bits(plain[0][i]) != math.Float64bits(edited[0][i]) {
			t.Fatalf("position %d: %v vs %v", i, plain[0][i], edited[0][i])
		}
	}
}

// Capture over generated tokens counts one position per decode step.
func TestCaptureScopes(t *testing.T) {
	m := loadModel(t, "models/tiny-random-llama")
	ctx := context.Background()
	p := []int{321, 133, 382, 186}
	for _, c := range []struct {
		scope hook.Scope
		want  int64
	}{{hook.Prompt, 4}, {hook.Generated, 5}, {hook.All, 9}} {
		st := hook.NewStats(m.Layers(), m.Neurons(), true)
		if _, err := m.Generate(ctx, [][]int{p}, GenerateOptions{MaxTokens: 6, IgnoreEOS: true, Capture: st, CaptureScope: c.scope}); err != nil {
			t.Fatal(err)
		}
		// 6 generated tokens: the first comes from the prefill, the next
		// five from decode steps that read tokens 1..5 back.
		if st.Tokens != c.want {
			t.Errorf("scope %v: counted %d positions, want %d", c.scope, st.Tokens, c.want)
		}
	}
}

// Teacher-forced statistics of one sequence equal the prompt-scope
// statistics of generation over the same tokens.
func TestCaptureMatchesForward(t *testing.T) {
	m := loadModel(t, "models/tiny-random-llama")
	ctx := context.Background()
	p := []int{321, 133, 382, 186, 17, 18, 19}
	a := hook.NewStats(m.Layers(), m.Neurons(), true)
	b := hook.NewStats(m.Layers(), m.Neurons(), true)
	if _, err := m.Forward(ctx, [][]int{p}, ForwardOptions{Capture: a}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Generate(ctx, [][]int{p, {5, 6}}, GenerateOptions{MaxTokens: 1, Capture: b, CaptureScope: hook.Prompt}); err != nil {
		t.Fatal(err)
	}
	c := hook.NewStats(m.Layers(), m.Neurons(), true)
	m.Forward(ctx, [][]int{{5, 6}}, ForwardOptions{Capture: c})
	if err := a.Add(c); err != nil {
		t.Fatal(err)
	}
	for i := range a.Active {
		if a.Active[i] != b.Active[i] {
			t.Fatalf("active count %d: %d vs %d", i, a.Active[i], b.Active[i])
		}
	}
	for i := range a.Hist {
		if a.Hist[i] != b.Hist[i] {
			t.Fatalf("histogram entry %d: %d vs %d", i, a.Hist[i], b.Hist[i])
		}
	}
}

func TestCancel(t *testing.T) {
	m := loadModel(t, "models/tiny-random-llama")
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	out, err := m.Generate(ctx, [][]int{{1, 2, 3}}, GenerateOptions{MaxTokens: 50, IgnoreEOS: true,
		OnToken: func(_, _ int) {
			n++
			if n == 3 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(out[0]) != 3 {
		t.Fatalf("got %d tokens before the cancel took effect, want 3", len(out[0]))
	}
}

func TestBadInput(t *testing.T) {
	m := loadModel(t, "models/tiny-random-llama")
	ctx := context.Background()
	if _, err := m.Generate(ctx, [][]int{{1, 99999}}, GenerateOptions{MaxTokens: 2}); err == nil {
		t.Error("token id out of range: no error")
	}
	if _, err := m.Generate(ctx, [][]int{{}}, GenerateOptions{MaxTokens: 2}); err == nil {
		t.Error("empty prompt: no error")
	}
	o := hook.NewOverride(m.Layers()+1, m.Neurons())
	if _, err := m.Generate(ctx, [][]int{{1}}, GenerateOptions{MaxTokens: 2, Override: o}); err == nil {
		t.Error("override of the wrong shape: no error")
	}
	nan := math.NaN()
	for _, s := range []Sampling{{Temperature: nan}, {Temperature: -1}, {Temperature: math.Inf(1)}, {TopK: -1},
		{Temperature: 1, TopP: nan}, {TopP: 1.5}, {TopP: -0.1}, {RepetitionPenalty: nan}, {RepetitionPenalty: -2}} {
		if _, err := m.Generate(ctx, [][]int{{1}}, GenerateOptions{MaxTokens: 2, Sampling: s}); err == nil || !strings.Contains(err.Error(), "sampling") {
			t.Errorf("sampling %+v: error %v, want one naming the setting", s, err)
		}
	}
	if _, err := m.Generate(ctx, [][]int{{1}}, GenerateOptions{MaxTokens: 2, Sampling: Sampling{Temperature: 0.7, TopK: 5, TopP: 0.9, RepetitionPenalty: 1.1}}); err != nil {
		t.Errorf("valid sampling refused: %v", err)
	}
	if _, err := Load(sharedDir(t)+"/models/no-such-model", Options{}); err == nil {
		t.Error("missing model: no error")
	}
}

// drawAdd keeps each added neuron with probability AddFraction, draw by
// draw, with the values unchanged; the seed reproduces the draws.
func TestDrawAdd(t *testing.T) {
	o := hook.NewOverride(4, 6000)
	nonzero := 0
	for i := range o.Add {
		if i%6 != 0 {
			o.Add[i] = float32(i%97) + 0.5
			nonzero++
		}
	}
	o.AddFraction = 0.3
	rng := func() *rand.Rand { return rand.New(rand.NewPCG(11, 0x5851f42d4c957f2d)) }
	r := rng()
	first, second := drawAdd(o, r), drawAdd(o, r)
	kept := 0
	for i, v := range first {
		switch {
		case v != 0 && v != o.Add[i]:
			t.Fatalf("neuron %d: added %g, want %g or 0", i, v, o.Add[i])
		case v != 0:
			kept++
		}
	}
	want, sd := 0.3*float64(nonzero), math.Sqrt(float64(nonzero)*0.3*0.7)
	if math.Abs(float64(kept)-want) > 5*sd {
		t.Errorf("kept %d of %d added neurons, want %.0f ± %.0f", kept, nonzero, want, 5*sd)
	}
	if slices.Equal(first, second) {
		t.Error("two steps drew the same mask")
	}
	if !slices.Equal(drawAdd(o, rng()), first) {
		t.Error("the same seed drew another mask")
	}
	if got := drawAdd(o, nil); &got[0] != &o.Add[0] {
		t.Error("without a random draw the add vector is not the override's own")
	}
}

// A masked induction is reproducible from its seed, and the mask matters:
// at fraction 0.5 the ids differ from the full induction's.
func TestMaskedInduction(t *testing.T) {
	m := loadModel(t, "models/tiny-random-llama")
	dir := sharedDir(t) + "/models/tiny-random-llama/neurons/"
	ctx := context.Background()
	p := []int{321, 133, 382, 186}
	gen := func(frac float64, seed uint64) []int {
		o := testOverride(t, m, dir+"Extraversion_dict.json", dir+"Extraversion_reversed_dict.json", 3, hook.Generated)
		o.AddFraction, o.Seed = frac, seed
		out, err := m.Generate(ctx, [][]int{p}, GenerateOptions{MaxTokens: 16, IgnoreEOS: true, Override: o})
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	a, b, full := gen(0.5, 7), gen(0.5, 7), gen(1, 7)
	equalIDs(t, "same seed", b, a)
	if slices.Equal(a, full) {
		t.Errorf("fraction 0.5 generated the full induction's ids %v", a)
	}
}

// A load reports its progress slot by slot, and a cancelled one stops
// between weights with the context's error.
func TestLoadProgressAndCancel(t *testing.T) {
	dir := sharedDir(t) + "/models/tiny-random-llama"
	var calls, total int
	m, err := Load(dir, Options{Progress: func(done, n int) {
		calls++
		if done != calls {
			t.Errorf("progress %d after %d calls", done, calls)
		}
		total = n
	}})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if calls == 0 || calls != total {
		t.Errorf("%d progress calls for %d slots", calls, total)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err = Load(dir, Options{Context: ctx, Progress: func(done, _ int) {
		if n = done; done == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("cancelled after 3 slots: err %v, %d slots loaded", err, n)
	}
}
