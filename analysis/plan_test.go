package analysis

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/hook"
)

// keySet returns the (layer, neuron) pairs of a set.
func keySet(ns []Neuron) map[[2]int]bool {
	m := map[[2]int]bool{}
	for _, n := range ns {
		m[[2]int{n.Layer, n.Index}] = true
	}
	return m
}

// TestPlanConflictsPublished: Extraversion high + Neuroticism high on the
// published sets conflict on 11,802 neurons (NPTI.md §6); the add and
// clamp counts of each policy follow from set algebra.
func TestPlanConflictsPublished(t *testing.T) {
	s := publishedSets(t)
	eh, el := keySet(s[Aspect{Extraversion, High}]), keySet(s[Aspect{Extraversion, Low}])
	nh, nl := keySet(s[Aspect{Neuroticism, High}]), keySet(s[Aspect{Neuroticism, Low}])
	adds, clamps, conflicts := map[[2]int]bool{}, map[[2]int]bool{}, 0
	for _, m := range []map[[2]int]bool{eh, nh} {
		for k := range m {
			adds[k] = true
		}
	}
	for _, m := range []map[[2]int]bool{el, nl} {
		for k := range m {
			clamps[k] = true
		}
	}
	for k := range adds {
		if (eh[k] && nl[k]) || (nh[k] && el[k]) {
			conflicts++
		}
	}
	if conflicts != 11802 {
		t.Fatalf("set algebra gives %d conflicts, NPTI.md says 11,802", conflicts)
	}
	want := map[Policy][2]int{
		PolicySkip:  {len(adds) - conflicts, len(clamps) - conflicts},
		PolicyAdd:   {len(adds), len(clamps) - conflicts},
		PolicyClamp: {len(adds) - conflicts, len(clamps)},
	}
	for pol, w := range want {
		p := DefaultPlan(Induction{Extraversion, High, 1.4}, Induction{Neuroticism, High, 1.4})
		p.Policy = pol
		o, rep, err := p.Build(s, 32, 14336)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Conflicts != 11802 || rep.Add != w[0] || rep.Clamp != w[1] {
			t.Errorf("%s: report add %d clamp %d conflicts %d, want %d %d 11802", pol, rep.Add, rep.Clamp, rep.Conflicts, w[0], w[1])
		}
		var sumL LayerCount
		for l, lc := range rep.PerLayer {
			if lc.Layer != l {
				t.Fatalf("per-layer entry %d is layer %d", l, lc.Layer)
			}
			sumL.Add, sumL.Clamp, sumL.Conflicts = sumL.Add+lc.Add, sumL.Clamp+lc.Clamp, sumL.Conflicts+lc.Conflicts
		}
		if sumL.Add != rep.Add || sumL.Clamp != rep.Clamp || sumL.Conflicts != rep.Conflicts || len(rep.PerLayer) != 32 {
			t.Errorf("%s: per-layer counts %+v do not sum to the totals", pol, sumL)
		}
		nAdd, nClamp := 0, 0
		for i := range o.Add {
			if o.Add[i] != 0 {
				nAdd++
			}
			if o.Clamp[i] {
				nClamp++
			}
		}
		if nAdd != w[0] || nClamp != w[1] {
			t.Errorf("%s: override adds %d, clamps %d", pol, nAdd, nClamp)
		}
	}
}

// TestPlanTinyReference checks Build against the semantics stated in
// tiny-random-llama/expected.json ("about").
func TestPlanTinyReference(t *testing.T) {
	dir := sharedDir(t, "models", "tiny-random-llama")
	data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct{ About string }
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatal(err)
	}
	for _, phrase := range []string{"q95*gamma*sigmoid(10*(diff-0.15))", "mask fraction 1.0", "clamping the neurons of neurons/Extraversion_reversed_dict.json to min(a,0)"} {
		if !strings.Contains(exp.About, phrase) {
			t.Fatalf("expected.json about no longer says %q", phrase)
		}
	}
	layers, neurons := modelShape(t, "tiny-random-llama")
	s, err := LoadSets(filepath.Join(dir, "neurons"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pole  Pole
		gamma float64
		scope hook.Scope
	}{{High, 1, hook.Generated}, {Low, 1.5, hook.All}} {
		p := Plan{Items: []Induction{{Extraversion, tc.pole, tc.gamma}}, MaskFraction: 1, Scope: tc.scope, ClampOpposite: true}
		o, rep, err := p.Build(s, layers, neurons)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Validate(layers, neurons); err != nil || o.AddFraction != 1 || o.Scope != tc.scope {
			t.Fatalf("override: %v, fraction %v, scope %v", err, o.AddFraction, o.Scope)
		}
		add, clamp := s[Aspect{Extraversion, tc.pole}], s[Aspect{Extraversion, tc.pole.Opposite()}]
		if rep.Add != len(add) || rep.Clamp != len(clamp) || rep.Conflicts != 0 {
			t.Errorf("%v: report %+v, want add %d clamp %d", tc.pole, rep, len(add), len(clamp))
		}
		for _, n := range add {
			want := n.Q95 * tc.gamma / (1 + math.Exp(-10*(n.Diff-0.15)))
			if got := o.Add[n.Layer*neurons+n.Index]; math.Abs(float64(got)-want) > 1e-6*want {
				t.Errorf("%v: add[%d,%d] = %v, want %v", tc.pole, n.Layer, n.Index, got, want)
			}
		}
		for _, n := range clamp {
			if !o.Clamp[n.Layer*neurons+n.Index] {
				t.Errorf("%v: neuron %d,%d not clamped", tc.pole, n.Layer, n.Index)
			}
		}
	}
}

func TestAddAmount(t *testing.T) {
	tests := []struct{ q95, gamma, diff, want float64 }{
		{1, 1, 0.15, 0.5},
		{2, 1.5, 0.15, 1.5},
		{1, 1, 0.25, 1 / (1 + math.Exp(-1))},
		{0.32, 1.4, 0.7012140154838562, 0.32 * 1.4 / (1 + math.Exp(-5.512140154838562))},
		{1, 0, 0.5, 0},
	}
	for _, tt := range tests {
		if got := AddAmount(Neuron{Diff: tt.diff, Q95: tt.q95}, tt.gamma); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("AddAmount(q95 %v, γ %v, diff %v) = %v, want %v", tt.q95, tt.gamma, tt.diff, got, tt.want)
		}
	}
}

func TestPlanSmall(t *testing.T) {
	n := func(l, i int, diff float64) Neuron { return Neuron{Layer: l, Index: i, Diff: diff, P: 0.5, Q95: 1} }
	s := Sets{
		{Extraversion, High}:  {n(0, 0, 0.15), n(1, 1, 0.15)},
		{Extraversion, Low}:   {n(0, 1, 0.2)},
		{Agreeableness, High}: {n(1, 1, 0.15), n(0, 1, 0.15)},
		{Agreeableness, Low}:  {n(0, 0, 0.2), n(1, 0, 0.3)},
	}
	p := DefaultPlan(Induction{Extraversion, High, 1}, Induction{Agreeableness, High, 2})
	p.Policy = PolicyAdd
	o, rep, err := p.Build(s, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	// (1,1) is added by both: 0.5 + 1.0; (0,0) and (0,1) conflict, add wins.
	wantAdd := []float32{0.5, 1, 0, 1.5}
	wantClamp := []bool{false, false, true, false}
	for i := range wantAdd {
		if math.Abs(float64(o.Add[i]-wantAdd[i])) > 1e-6 || o.Clamp[i] != wantClamp[i] {
			t.Errorf("neuron %d: add %v clamp %v, want %v %v", i, o.Add[i], o.Clamp[i], wantAdd[i], wantClamp[i])
		}
	}
	if rep.Conflicts != 2 || rep.Add != 3 || rep.Clamp != 1 || o.AddFraction != 0.9 {
		t.Errorf("report %+v, fraction %v", rep, o.AddFraction)
	}
	p.ClampOpposite = false
	if _, rep, _ := p.Build(s, 2, 2); rep.Conflicts != 0 || rep.Clamp != 0 || rep.Add != 3 {
		t.Errorf("no clamp: report %+v", rep)
	}
}

func TestPlanErrors(t *testing.T) {
	s := Sets{{Extraversion, High}: {{0, 0, 0.2, 0.5, 1}}, {Extraversion, Low}: {{0, 1, 0.2, 0.5, 1}}}
	tests := []struct {
		name string
		plan Plan
		l, n int
		want string
	}{
		{"empty", DefaultPlan(), 1, 2, "nothing to induce"},
		{"missing set", DefaultPlan(Induction{Openness, High, 1}), 1, 2, "no neuron set for Openness high (Openness_dict.json)"},
		{"same trait twice", DefaultPlan(Induction{Extraversion, High, 1}, Induction{Extraversion, Low, 1}), 1, 2, "appears twice"},
		{"gamma", DefaultPlan(Induction{Extraversion, High, math.NaN()}), 1, 2, "gamma"},
		{"mask", Plan{Items: []Induction{{Extraversion, High, 1}}, MaskFraction: 2}, 1, 2, "mask fraction"},
		{"no mask", Plan{Items: []Induction{{Extraversion, High, 1}}}, 1, 2, "mask fraction 0"},
		{"prompt scope", Plan{Items: []Induction{{Extraversion, High, 1}}, MaskFraction: 1, Scope: hook.Prompt}, 1, 2, "generated or all"},
		{"policy", Plan{Items: []Induction{{Extraversion, High, 1}}, MaskFraction: 1, Policy: "vote"}, 1, 2, "unknown conflict policy"},
		{"shape", DefaultPlan(Induction{Extraversion, High, 1}), 1, 1, "Extraversion_reversed_dict.json: record 0 [layer 0, neuron 1]: neuron 1 out of range"},
		{"trait", DefaultPlan(Induction{"Humour", High, 1}), 1, 2, "unknown trait"},
	}
	for _, tt := range tests {
		if _, _, err := tt.plan.Build(s, tt.l, tt.n); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestParseInductions(t *testing.T) {
	got, err := ParseInductions("extraversion:high, Neuroticism:LOW:1.2", 1.4)
	if err != nil || len(got) != 2 || got[0] != (Induction{Extraversion, High, 1.4}) || got[1] != (Induction{Neuroticism, Low, 1.2}) {
		t.Errorf("ParseInductions = %v, %v", got, err)
	}
	for _, bad := range []string{"", "extraversion", "extraversion:up", "x:high", "openness:high:fast", "a:b:c:d"} {
		if _, err := ParseInductions(bad, 1); err == nil {
			t.Errorf("ParseInductions(%q): no error", bad)
		}
	}
}

func BenchmarkPlanBuild(b *testing.B) {
	s := publishedSets(b)
	p := DefaultPlan(Induction{Extraversion, High, 1.4}, Induction{Neuroticism, High, 1.4})
	for b.Loop() {
		if _, _, err := p.Build(s, 32, 14336); err != nil {
			b.Fatal(err)
		}
	}
}
