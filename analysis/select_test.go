package analysis

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/npti-studio/npti/inference/hook"
)

// smallContrast: 2 layers x 4 neurons with hand-set diffs; q95 0.5
// everywhere except high-pole neuron (1, 3).
func smallContrast() *Contrast {
	diff := [][]float64{{0.30, -0.20, 0.05, 0.12}, {0.30, 0.12, -0.40, 0.50}}
	c := &Contrast{Trait: Extraversion, Layers: 2, Neurons: 4, Diff: diff}
	for l := range 2 {
		c.PHigh = append(c.PHigh, make([]float64, 4))
		c.PLow = append(c.PLow, make([]float64, 4))
		c.Q95High = append(c.Q95High, []float64{0.5, 0.5, 0.5, 0.5})
		c.Q95Low = append(c.Q95Low, []float64{0.5, 0.5, 0.5, 0.5})
		for i, d := range diff[l] {
			c.PLow[l][i] = 0.45
			c.PHigh[l][i] = 0.45 + d
		}
	}
	c.Q95High[1][3] = 0
	return c
}

func TestSelect(t *testing.T) {
	type li = [2]int
	tests := []struct {
		name string
		pole Pole
		rule Rule
		want []li
	}{
		{"npti threshold only", High, Rule{Mode: ModeNPTI, Threshold: 0.1, LayerMax: -1}, []li{{0, 0}, {1, 0}, {0, 3}, {1, 1}}},
		{"npti minimum 5", High, Rule{Mode: ModeNPTI, MinCount: 5, Threshold: 0.1, LayerMax: -1}, []li{{0, 0}, {1, 0}, {0, 3}, {1, 1}, {0, 2}}},
		{"npti minimum fraction 0.75", High, Rule{Mode: ModeNPTI, MinFraction: 0.75, Threshold: 0.1, LayerMax: -1}, []li{{0, 0}, {1, 0}, {0, 3}, {1, 1}, {0, 2}, {0, 1}}},
		{"threshold 0.2", High, Rule{Mode: ModeThreshold, Threshold: 0.2, LayerMax: -1}, []li{{0, 0}, {1, 0}}},
		{"low pole", Low, Rule{Mode: ModeThreshold, Threshold: 0.1, LayerMax: -1}, []li{{1, 2}, {0, 1}}},
		{"low pole topk 3", Low, Rule{Mode: ModeTopK, TopK: 3, LayerMax: -1}, []li{{1, 2}, {0, 1}, {0, 2}}},
		{"topk tie by layer", High, Rule{Mode: ModeTopK, TopK: 1, LayerMax: -1}, []li{{0, 0}}},
		{"per-layer cap", High, Rule{Mode: ModeThreshold, Threshold: 0.1, PerLayerCap: 1, LayerMax: -1}, []li{{0, 0}, {1, 0}}},
		{"layer range", High, Rule{Mode: ModeThreshold, Threshold: 0.1, LayerMin: 1, LayerMax: 1}, []li{{1, 0}, {1, 1}}},
		{"layer max", High, Rule{Mode: ModeThreshold, Threshold: 0.1, LayerMax: 0}, []li{{0, 0}, {0, 3}}},
		{"invalid rule", High, Rule{Mode: "best"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := smallContrast()
			var got []li
			for _, n := range Select(c, tt.pole, tt.rule) {
				got = append(got, li{n.Layer, n.Index})
				wantDiff := c.Diff[n.Layer][n.Index]
				wantP, wantQ := c.PHigh[n.Layer][n.Index], c.Q95High[n.Layer][n.Index]
				if tt.pole == Low {
					wantDiff, wantP, wantQ = -wantDiff, c.PLow[n.Layer][n.Index], c.Q95Low[n.Layer][n.Index]
				}
				if n.Diff != wantDiff || n.P != wantP || n.Q95 != wantQ {
					t.Errorf("record %+v, want diff %v p %v q95 %v", n, wantDiff, wantP, wantQ)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("selected %v, want %v", got, tt.want)
			}
		})
	}
}

// contrastFromSets rebuilds a contrast from the published records of both
// poles of a trait: the record's diff and p give both probabilities.
func contrastFromSets(s Sets, tr Trait, layers, neurons int) *Contrast {
	c := &Contrast{Trait: tr, Layers: layers, Neurons: neurons}
	for _, m := range []*[][]float64{&c.PHigh, &c.PLow, &c.Q95High, &c.Q95Low, &c.Diff} {
		*m = make([][]float64, layers)
		for l := range *m {
			(*m)[l] = make([]float64, neurons)
		}
	}
	for _, n := range s[Aspect{tr, High}] {
		c.Diff[n.Layer][n.Index], c.PHigh[n.Layer][n.Index] = n.Diff, n.P
		c.PLow[n.Layer][n.Index], c.Q95High[n.Layer][n.Index] = n.P-n.Diff, n.Q95
	}
	for _, n := range s[Aspect{tr, Low}] {
		c.Diff[n.Layer][n.Index], c.PLow[n.Layer][n.Index] = -n.Diff, n.P
		c.PHigh[n.Layer][n.Index], c.Q95Low[n.Layer][n.Index] = n.P-n.Diff, n.Q95
	}
	return c
}

// TestSelectReproducesPublished: the NPTI rule applied to the published
// diffs gives back exactly the published sets, signs included.
func TestSelectReproducesPublished(t *testing.T) {
	s := publishedSets(t)
	for _, tr := range []Trait{Extraversion, Conscientiousness} {
		c := contrastFromSets(s, tr, 32, 14336)
		for _, pole := range []Pole{High, Low} {
			a := Aspect{tr, pole}
			got := Select(c, pole, DefaultRule())
			want := slices.Clone(s[a])
			slices.SortStableFunc(want, func(x, y Neuron) int {
				return cmp.Or(cmp.Compare(y.Diff, x.Diff), cmp.Compare(x.Layer, y.Layer), cmp.Compare(x.Index, y.Index))
			})
			if !slices.Equal(got, want) {
				t.Errorf("%s: selected %d neurons, published %d (or records differ)", a.Key(), len(got), len(want))
			}
			top := Select(c, pole, Rule{Mode: ModeTopK, TopK: 100, LayerMax: -1})
			if !slices.Equal(top, want[:100]) {
				t.Errorf("%s: top 100 differ from the published top 100", a.Key())
			}
		}
	}
}

func TestNewContrast(t *testing.T) {
	high, low := hook.NewStats(1, 2, true), hook.NewStats(1, 2, true)
	high.Tokens, low.Tokens = 20, 10
	high.Active = []int64{20, 2}
	low.Active = []int64{5, 10}
	// Neuron 0 high: 19 tokens in bin 11 = (0.10, 0.11], 1 in bin 0: q95 is its left edge.
	high.Hist[0*hook.Bins+11], high.Hist[0] = 19, 1
	low.Hist[1*hook.Bins+301-1] = 10
	c, err := NewContrast(high, low)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"p high 0", c.PHigh[0][0], 1}, {"p low 0", c.PLow[0][0], 0.5}, {"diff 0", c.Diff[0][0], 0.5},
		{"diff 1", c.Diff[0][1], 0.1 - 1}, {"q95 high 0", c.Q95High[0][0], 0.10},
		{"q95 high 1", c.Q95High[0][1], 0}, {"q95 low 1", c.Q95Low[0][1], 2.99},
	}
	for _, ch := range checks {
		if math.Abs(ch.got-ch.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if _, err := NewContrast(high, hook.NewStats(2, 2, false)); err == nil {
		t.Error("shape mismatch: no error")
	}
	bad := hook.NewStats(1, 2, false)
	bad.Active = bad.Active[:1]
	if _, err := NewContrast(high, bad); err == nil {
		t.Error("short active vector: no error")
	}
}

func BenchmarkSelect(b *testing.B) {
	const layers, neurons = 32, 14336
	r := rand.New(rand.NewPCG(1, 2))
	high, low := hook.NewStats(layers, neurons, false), hook.NewStats(layers, neurons, false)
	high.Tokens, low.Tokens = 1000, 1000
	for i := range high.Active {
		base := r.Int64N(900)
		high.Active[i] = base + r.Int64N(100)
		low.Active[i] = base + r.Int64N(100)
	}
	c, err := NewContrast(high, low)
	if err != nil {
		b.Fatal(err)
	}
	rule := DefaultRule()
	rule.Threshold = 0.05
	b.ResetTimer()
	for b.Loop() {
		if n := len(Select(c, High, rule)); n < 2000 {
			b.Fatalf("selected %d", n)
		}
	}
}
