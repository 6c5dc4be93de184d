package inference

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/npti-studio/npti/inference/hook"
	"github.com/npti-studio/npti/inference/refdata"
)

// sharedDir returns a path in the reference data (../shared).
func sharedDir(t testing.TB) string { return refdata.Path(t) }

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadModel(t testing.TB, rel string) *Model {
	t.Helper()
	return loadModelOpts(t, rel, Options{})
}

func loadModelOpts(t testing.TB, rel string, o Options) *Model {
	t.Helper()
	m, err := Load(filepath.Join(sharedDir(t), rel), o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func equalIDs(t *testing.T, what string, got, want []int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d ids %v, want %d %v", what, len(got), got, len(want), want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: ids differ at %d:\n got %v\nwant %v", what, i, got, want)
			return
		}
	}
}

func TestStoriesGolden(t *testing.T) {
	var golden struct {
		Cases []struct {
			PromptIDs []int `json:"prompt_ids"`
			Greedy    []int `json:"greedy"`
		} `json:"cases"`
	}
	readJSON(t, filepath.Join(sharedDir(t), "models/stories260K/golden.json"), &golden)
	for _, rel := range []string{"models/stories260K/stories260K.bin", "models/stories260K-hf"} {
		m := loadModel(t, rel)
		for i, c := range golden.Cases {
			got, err := m.Generate(context.Background(), [][]int{c.PromptIDs},
				GenerateOptions{MaxTokens: len(c.Greedy), IgnoreEOS: true})
			if err != nil {
				t.Fatal(err)
			}
			equalIDs(t, rel+" case "+strconv.Itoa(i), got[0], c.Greedy)
		}
	}
}

type expected struct {
	Cases []struct {
		PromptIDs  []int `json:"prompt_ids"`
		Greedy     []int `json:"greedy"`
		RepPen     []int `json:"repetition_penalty_1_15"`
		InduceHigh []int `json:"induce_high_gamma_1_scope_generated"`
		InduceLow  []int `json:"induce_low_gamma_1_5_scope_all"`
	} `json:"cases"`
	StatsIDs []int `json:"stats_ids"`
	Stats    struct {
		PActive [][]float64 `json:"p_active"`
		Q95     [][]float64 `json:"q95"`
	} `json:"stats"`
}

// testOverride builds an NPTI override straight from the dict files, as
// the reference does: clamp the neurons of clampFile, add
// q95·γ·σ(10(diff−0.15)) to those of addFile.
func testOverride(t *testing.T, m *Model, addFile, clampFile string, gamma float64, scope hook.Scope) *hook.Override {
	t.Helper()
	o := hook.NewOverride(m.Layers(), m.Neurons())
	o.Scope = scope
	var add, clamp map[string][][]float64
	readJSON(t, addFile, &add)
	readJSON(t, clampFile, &clamp)
	for _, rows := range clamp {
		for _, r := range rows {
			o.Clamp[int(r[0])*m.Neurons()+int(r[1])] = true
		}
	}
	for _, rows := range add {
		for _, r := range rows {
			o.Add[int(r[0])*m.Neurons()+int(r[1])] += float32(r[4] * gamma / (1 + math.Exp(-10*(r[2]-0.15))))
		}
	}
	return o
}

// TestTinyRandomExpected runs the reference cases on the F32 Llama and the
// BF16 Qwen2, the latter with its weights held as bfloat16 and as float32:
// both must give the reference outputs.
func TestTinyRandomExpected(t *testing.T) {
	for _, c := range []struct{ name, weights, dtype string }{
		{"tiny-random-llama", "", "f32"}, {"tiny-random-qwen2", "bf16", "bf16"}, {"tiny-random-qwen2", "f32", "f32"},
	} {
		name := c.name
		t.Run(name+"/"+c.dtype, func(t *testing.T) {
			dir := filepath.Join(sharedDir(t), "models", name)
			var exp expected
			readJSON(t, filepath.Join(dir, "expected.json"), &exp)
			m := loadModelOpts(t, "models/"+name, Options{Weights: c.weights})
			if got := m.WeightDType(); got != c.dtype {
				t.Fatalf("weights held as %s, want %s", got, c.dtype)
			}
			ctx := context.Background()
			hi := filepath.Join(dir, "neurons/Extraversion_dict.json")
			lo := filepath.Join(dir, "neurons/Extraversion_reversed_dict.json")
			for i, c := range exp.Cases {
				run := func(what string, want []int, o GenerateOptions) {
					o.MaxTokens, o.IgnoreEOS = len(want), true
					got, err := m.Generate(ctx, [][]int{c.PromptIDs}, o)
					if err != nil {
						t.Fatal(err)
					}
					equalIDs(t, what+" case "+strconv.Itoa(i), got[0], want)
				}
				run("greedy", c.Greedy, GenerateOptions{})
				run("repetition penalty", c.RepPen, GenerateOptions{Sampling: Sampling{RepetitionPenalty: 1.15}})
				run("induce high", c.InduceHigh, GenerateOptions{Override: testOverride(t, m, hi, lo, 1, hook.Generated)})
				run("induce low", c.InduceLow, GenerateOptions{Override: testOverride(t, m, lo, hi, 1.5, hook.All)})
			}
			st := hook.NewStats(m.Layers(), m.Neurons(), true)
			if _, err := m.Forward(ctx, [][]int{exp.StatsIDs}, ForwardOptions{Capture: st}); err != nil {
				t.Fatal(err)
			}
			if st.Tokens != int64(len(exp.StatsIDs)) {
				t.Fatalf("counted %d tokens, want %d", st.Tokens, len(exp.StatsIDs))
			}
			p, q := st.PActive(), st.Q95()
			bad := 0
			for l := range p {
				for i := range p[l] {
					if math.Abs(p[l][i]-exp.Stats.PActive[l][i]) > 1e-5 || math.Abs(q[l][i]-exp.Stats.Q95[l][i]) > 1e-5 {
						if bad < 5 {
							t.Errorf("layer %d neuron %d: p %v q95 %v, want %v %v", l, i, p[l][i], q[l][i], exp.Stats.PActive[l][i], exp.Stats.Q95[l][i])
						}
						bad++
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d neurons differ", bad)
			}
		})
	}
}
