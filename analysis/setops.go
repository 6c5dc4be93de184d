package analysis

// Set algebra over neuron lists, keyed by (layer, index). Every result
// keeps the records (Diff, P, Q95) of the left operand a for the neurons
// it holds, and lists the neurons in a's order, then (for Union) those of
// b not in a in b's order: the same inputs always give the same list.

// setKey identifies a neuron within a model.
type setKey struct{ layer, index int }

func setKeyOf(n Neuron) setKey { return setKey{n.Layer, n.Index} }

// keySet indexes the neurons of ns.
func keyIndex(ns []Neuron) map[setKey]bool {
	m := make(map[setKey]bool, len(ns))
	for _, n := range ns {
		m[setKeyOf(n)] = true
	}
	return m
}

// Union returns the neurons in a or b: a's records first (duplicates in a
// kept once), then b's neurons missing from a. Use rec, when not nil, to
// re-make the records taken from b (e.g. to describe a's aspect).
func Union(a, b []Neuron, rec func(Neuron) Neuron) []Neuron {
	seen := make(map[setKey]bool, len(a)+len(b))
	out := make([]Neuron, 0, len(a)+len(b))
	for _, n := range a {
		if !seen[setKeyOf(n)] {
			seen[setKeyOf(n)] = true
			out = append(out, n)
		}
	}
	for _, n := range b {
		if !seen[setKeyOf(n)] {
			seen[setKeyOf(n)] = true
			if rec != nil {
				n = rec(n)
			}
			out = append(out, n)
		}
	}
	return out
}

// Intersect returns the neurons of a that are also in b, with a's records.
func Intersect(a, b []Neuron) []Neuron { return filter(a, keyIndex(b), true) }

// Difference returns the neurons of a that are not in b.
func Difference(a, b []Neuron) []Neuron { return filter(a, keyIndex(b), false) }

// filter keeps the neurons of a whose membership in in equals keep, once each.
func filter(a []Neuron, in map[setKey]bool, keep bool) []Neuron {
	seen := make(map[setKey]bool, len(a))
	out := make([]Neuron, 0, len(a))
	for _, n := range a {
		k := setKeyOf(n)
		if in[k] == keep && !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	return out
}
