package analysis

import (
	"reflect"
	"testing"
)

func nr(l, i int, diff float64) Neuron { return Neuron{Layer: l, Index: i, Diff: diff} }

func TestSetOps(t *testing.T) {
	a := []Neuron{nr(0, 5, 0.5), nr(1, 2, 0.4), nr(3, 0, 0.3)}
	b := []Neuron{nr(3, 0, 0.9), nr(0, 1, 0.8), nr(1, 2, 0.7)}
	cases := []struct {
		name string
		got  []Neuron
		want []Neuron
	}{
		// Union keeps a's records (0.4, 0.3, not b's 0.7, 0.9) and appends b's extra neuron.
		{"union", Union(a, b, nil), []Neuron{nr(0, 5, 0.5), nr(1, 2, 0.4), nr(3, 0, 0.3), nr(0, 1, 0.8)}},
		{"union rec", Union(a, b, func(n Neuron) Neuron { n.Diff = -1; return n }),
			[]Neuron{nr(0, 5, 0.5), nr(1, 2, 0.4), nr(3, 0, 0.3), nr(0, 1, -1)}},
		{"intersect", Intersect(a, b), []Neuron{nr(1, 2, 0.4), nr(3, 0, 0.3)}},
		{"intersect swapped", Intersect(b, a), []Neuron{nr(3, 0, 0.9), nr(1, 2, 0.7)}},
		{"difference", Difference(a, b), []Neuron{nr(0, 5, 0.5)}},
		{"difference swapped", Difference(b, a), []Neuron{nr(0, 1, 0.8)}},
		// Same index, other layer: a different neuron.
		{"layer matters", Intersect([]Neuron{nr(0, 2, 0)}, []Neuron{nr(1, 2, 0)}), []Neuron{}},
		{"empty left", Union(nil, b[:1], nil), []Neuron{nr(3, 0, 0.9)}},
		{"empty right", Difference(a, nil), a},
		{"duplicates once", Union([]Neuron{nr(0, 1, 1), nr(0, 1, 2)}, nil, nil), []Neuron{nr(0, 1, 1)}},
		{"intersect nothing", Intersect(nil, nil), []Neuron{}},
	}
	for _, c := range cases {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestSetOpsPublished checks the identities |A∪B| = |A|+|B|−|A∩B| and
// A∖B ∪ A∩B = A on the published Llama-3-8B sets.
func TestSetOpsPublished(t *testing.T) {
	sets, err := LoadSets(sharedDir(t, "data", "npti-llama3-8b-instruct"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := sets[Aspect{Extraversion, High}], sets[Aspect{Neuroticism, Low}]
	u, i, d := Union(a, b, nil), Intersect(a, b), Difference(a, b)
	if len(i) == 0 || len(i) == len(a) {
		t.Fatalf("E high ∩ N low has %d of %d neurons: want a real overlap", len(i), len(a))
	}
	if len(u) != len(a)+len(b)-len(i) {
		t.Errorf("|A∪B| = %d, want %d", len(u), len(a)+len(b)-len(i))
	}
	if got := Union(d, i, nil); len(got) != len(a) || len(Difference(a, got)) != 0 {
		t.Errorf("(A∖B) ∪ (A∩B) has %d neurons, A has %d", len(got), len(a))
	}
}
