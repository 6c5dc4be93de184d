package analysis

import (
	"cmp"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/hook"
)

// TestPipeline: statistics saved and loaded, neurons selected, written as
// dict files, read back and turned into an override.
func TestPipeline(t *testing.T) {
	const layers, neurons = 3, 40
	r := rand.New(rand.NewPCG(5, 6))
	set := &StatsSet{Meta: Meta{Model: "m", Mode: CountGenerated}, Poles: map[Aspect]*hook.Stats{}}
	for _, a := range []Aspect{{Extraversion, High}, {Extraversion, Low}} {
		set.Poles[a] = randomStats(r, layers, neurons, true)
	}
	dir := t.TempDir()
	if err := SaveStats(filepath.Join(dir, "stats"), set); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadStats(filepath.Join(dir, "stats"))
	if err != nil {
		t.Fatal(err)
	}
	sets, err := SelectAll(loaded, nil, DefaultRule())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := NewContrast(set.Poles[Aspect{Extraversion, High}], set.Poles[Aspect{Extraversion, Low}])
	for _, pole := range []Pole{High, Low} {
		ns := sets[Aspect{Extraversion, pole}]
		if len(ns) == 0 {
			t.Fatalf("%v: nothing selected", pole)
		}
		// Every neuron with diff >= 0.1 towards the pole and q95 > 0 is in.
		q := map[Pole][][]float64{High: c.Q95High, Low: c.Q95Low}[pole]
		sign := map[Pole]float64{High: 1, Low: -1}[pole]
		in := keySet(ns)
		for l := range layers {
			for i := range neurons {
				if sign*c.Diff[l][i] >= 0.1 && q[l][i] > 0 && !in[[2]int{l, i}] {
					t.Errorf("%v: neuron %d,%d (diff %v) missing", pole, l, i, c.Diff[l][i])
				}
			}
		}
	}
	if err := SaveSets(filepath.Join(dir, "neurons"), sets); err != nil {
		t.Fatal(err)
	}
	back, err := LoadSets(filepath.Join(dir, "neurons"))
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(layers, neurons); err != nil {
		t.Fatal(err)
	}
	if _, rep, err := DefaultPlan(Induction{Extraversion, High, 1.4}).Build(back, layers, neurons); err != nil ||
		rep.Add != len(sets[Aspect{Extraversion, High}]) || rep.Clamp != len(sets[Aspect{Extraversion, Low}]) {
		t.Errorf("plan: %+v, %v", rep, err)
	}
	if _, err := SelectAll(loaded, []Trait{Openness}, DefaultRule()); err == nil || !strings.Contains(err.Error(), "no statistics for Openness") {
		t.Errorf("missing trait: error = %v", err)
	}
	loaded.Poles[Aspect{Extraversion, Low}].Hist = nil
	if _, err := SelectAll(loaded, nil, DefaultRule()); err == nil || !strings.Contains(err.Error(), "no histogram") {
		t.Errorf("no histogram: error = %v", err)
	}
}

func TestRefinePublished(t *testing.T) {
	s := publishedSets(t)
	ns := s[Aspect{Neuroticism, Low}]
	all := Refine(ns, DefaultRule(), 32, 14336)
	if len(all) != len(ns) || !keysEqual(all, ns) {
		t.Errorf("NPTI rule on a published set keeps %d of %d", len(all), len(ns))
	}
	over := 0
	for _, n := range ns {
		if n.Diff >= 0.2 && n.Layer >= 10 {
			over++
		}
	}
	r := Rule{Mode: ModeThreshold, Threshold: 0.2, LayerMin: 10, LayerMax: -1}
	if got := Refine(ns, r, 32, 14336); len(got) != over || over == 0 {
		t.Errorf("threshold 0.2 from layer 10 keeps %d, want %d", len(got), over)
	}
	top := Refine(ns, Rule{Mode: ModeTopK, TopK: 10, PerLayerCap: 2, LayerMax: -1}, 32, 14336)
	if len(top) != 10 || !slices.IsSortedFunc(top, func(a, b Neuron) int { return cmp.Compare(b.Diff, a.Diff) }) {
		t.Errorf("top 10 capped = %v", top)
	}
	if counts := PerLayer(top); len(counts) < 5 {
		t.Errorf("cap 2 per layer gave %v", counts)
	}
}

func keysEqual(a, b []Neuron) bool {
	ka, kb := keySet(a), keySet(b)
	if len(ka) != len(kb) {
		return false
	}
	for k := range ka {
		if !kb[k] {
			return false
		}
	}
	return true
}

func TestParseLayerRange(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi int
		bad    bool
	}{
		{"3-20", 3, 20, false}, {"4", 4, 4, false}, {"10-", 10, -1, false}, {" 0-0 ", 0, 0, false},
		{"5-2", 0, 0, true}, {"-3", 0, 0, true}, {"a-b", 0, 0, true}, {"", 0, 0, true},
	}
	for _, tt := range tests {
		lo, hi, err := ParseLayerRange(tt.in)
		if (err != nil) != tt.bad || lo != tt.lo || hi != tt.hi {
			t.Errorf("ParseLayerRange(%q) = %d, %d, %v", tt.in, lo, hi, err)
		}
	}
}
