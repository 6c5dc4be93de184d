package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Neuron is one record of a neuron set, the official tuple
// [layer, neuron, diff, p_this_pole, q95]. Diff is signed towards the
// pole: p_this_pole − p_opposite_pole, so it is positive for selected
// neurons of either pole (the published low-pole files store −diff).
type Neuron struct {
	Layer, Index int
	Diff, P, Q95 float64
}

// Selection modes of Rule.Mode.
const (
	ModeNPTI      = "npti"      // top minimum always, then while diff >= threshold
	ModeThreshold = "threshold" // every neuron with diff >= threshold
	ModeTopK      = "topk"      // the TopK neurons of highest diff
)

// Rule says which neurons of a contrast make a pole's set.
type Rule struct {
	// Mode is ModeNPTI, ModeThreshold or ModeTopK.
	Mode string
	// MinCount is the NPTI minimum kept always; when 0 it is
	// round(MinFraction × layers × neurons).
	MinCount int
	// MinFraction expresses the minimum for any model size (NPTI: 2000 of
	// 458,752 neurons = 0.00436).
	MinFraction float64
	// Threshold is the diff a neuron needs beyond the minimum (NPTI: 0.1).
	Threshold float64
	// TopK is the set size in ModeTopK.
	TopK int
	// PerLayerCap, when > 0, bounds the neurons kept per layer.
	PerLayerCap int
	// LayerMin and LayerMax bound the layers considered (inclusive);
	// LayerMax < 0 means up to the last layer.
	LayerMin, LayerMax int
}

// DefaultRule returns the NPTI rule: top 0.436 % always, then while
// diff >= 0.1, every layer, no cap.
func DefaultRule() Rule {
	return Rule{Mode: ModeNPTI, MinFraction: 0.00436, Threshold: 0.1, LayerMax: -1}
}

// Validate checks the rule for a model with the given number of layers.
func (r Rule) Validate(layers int) error {
	switch r.Mode {
	case ModeNPTI, ModeThreshold, ModeTopK:
	default:
		return fmt.Errorf("unknown selection rule %q (want npti, threshold or topk)", r.Mode)
	}
	switch {
	case r.MinCount < 0:
		return fmt.Errorf("negative minimum count %d", r.MinCount)
	case !(r.MinFraction >= 0 && r.MinFraction <= 1):
		return fmt.Errorf("minimum fraction %g outside [0, 1]", r.MinFraction)
	case math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0):
		return fmt.Errorf("threshold %g is not finite", r.Threshold)
	case r.Mode == ModeTopK && r.TopK <= 0:
		return fmt.Errorf("top-k rule needs a positive k, got %d", r.TopK)
	case r.PerLayerCap < 0:
		return fmt.Errorf("negative per-layer cap %d", r.PerLayerCap)
	case r.LayerMin < 0 || (r.LayerMax >= 0 && r.LayerMax < r.LayerMin):
		return fmt.Errorf("bad layer range %d-%d", r.LayerMin, r.LayerMax)
	case layers > 0 && r.LayerMin >= layers:
		return fmt.Errorf("layer range starts at %d, model has %d layers", r.LayerMin, layers)
	}
	return nil
}

// minimum returns the number of neurons the NPTI rule keeps always.
func (r Rule) minimum(total int) int {
	if r.MinCount > 0 {
		return r.MinCount
	}
	return int(math.Round(r.MinFraction * float64(total)))
}

// candidate is a neuron with its score towards the pole.
type candidate struct {
	s    float64
	l, i int32
}

// Select returns the neurons of pole by rule r, sorted by diff towards the
// pole descending, ties broken by (layer, index) ascending. Only layers in
// [LayerMin, LayerMax] are considered, at most PerLayerCap per layer.
// When the contrast carries q95 values, neurons whose q95 is 0 (active on
// at most 5 % of the pole's tokens) are never selected: they would add
// nothing and the dict format requires q95 > 0. An invalid rule (see
// Validate) selects nothing.
func Select(c *Contrast, pole Pole, r Rule) []Neuron {
	if c == nil || r.Validate(c.Layers) != nil {
		return nil
	}
	minKeep := 0
	if r.Mode == ModeNPTI {
		minKeep = r.minimum(c.Layers * c.Neurons)
	}
	var picked []candidate
	if r.Mode != ModeTopK {
		// Fast path: the neurons at or above the threshold, if they already
		// fill the minimum, are the whole answer.
		picked = walk(candidates(c, pole, r, r.Threshold), r, c.Layers, minKeep)
		if len(picked) < minKeep {
			picked = walk(candidates(c, pole, r, math.Inf(-1)), r, c.Layers, minKeep)
		}
	} else {
		picked = walk(candidates(c, pole, r, math.Inf(-1)), r, c.Layers, 0)
	}
	out := make([]Neuron, len(picked))
	for k, p := range picked {
		out[k] = c.record(pole, int(p.l), int(p.i))
	}
	return out
}

// candidates lists the neurons in the rule's layer range with a score of at
// least floor (and q95 > 0 when known), sorted by score descending.
func candidates(c *Contrast, pole Pole, r Rule, floor float64) []candidate {
	sign, q := 1.0, c.Q95High
	if pole == Low {
		sign, q = -1, c.Q95Low
	}
	hi := c.Layers - 1
	if r.LayerMax >= 0 && r.LayerMax < hi {
		hi = r.LayerMax
	}
	var cs []candidate
	for l := r.LayerMin; l <= hi; l++ {
		for i, d := range c.Diff[l] {
			s := sign * d
			if s >= floor && (q == nil || q[l][i] > 0) {
				cs = append(cs, candidate{s, int32(l), int32(i)})
			}
		}
	}
	sortCandidates(cs)
	return cs
}

// sortCandidates sorts by score descending, then (layer, index) ascending.
func sortCandidates(cs []candidate) {
	slices.SortFunc(cs, func(a, b candidate) int {
		if a.s != b.s {
			return cmp.Compare(b.s, a.s)
		}
		if a.l != b.l {
			return cmp.Compare(a.l, b.l)
		}
		return cmp.Compare(a.i, b.i)
	})
}

// walk applies the rule to sorted candidates: it keeps the first minKeep
// always, then continues while the score reaches the threshold (npti and
// threshold modes) or up to TopK (topk mode), skipping full layers.
func walk(cs []candidate, r Rule, layers, minKeep int) []candidate {
	perLayer := make([]int, layers)
	var out []candidate
	for _, cd := range cs {
		if r.Mode == ModeTopK && len(out) >= r.TopK {
			break
		}
		if r.Mode != ModeTopK && len(out) >= minKeep && cd.s < r.Threshold {
			break
		}
		if r.PerLayerCap > 0 && perLayer[cd.l] >= r.PerLayerCap {
			continue
		}
		perLayer[cd.l]++
		out = append(out, cd)
	}
	return out
}
