package analysis

import (
	"fmt"

	"github.com/npti-studio/npti/inference/hook"
)

// Contrast compares the activation statistics of a trait's two poles
// (NPTI.md §3). All matrices are [Layers][Neurons].
type Contrast struct {
	Trait           Trait
	Layers, Neurons int
	// PHigh and PLow are the activation probabilities on each pole.
	PHigh, PLow [][]float64
	// Q95High and Q95Low are the histogram 95 % quantiles (0 when the
	// neuron is active on at most 5 % of tokens); nil when the statistics
	// of that pole carry no histogram.
	Q95High, Q95Low [][]float64
	// Diff = PHigh − PLow (signed).
	Diff [][]float64
}

// NewContrast computes the contrast of two poles' statistics, which must
// have the same shape. Trait is left for the caller to set.
func NewContrast(high, low *hook.Stats) (*Contrast, error) {
	if high == nil || low == nil {
		return nil, fmt.Errorf("contrast: missing statistics for a pole")
	}
	if high.Layers != low.Layers || high.Neurons != low.Neurons {
		return nil, fmt.Errorf("contrast: high pole statistics are %dx%d, low pole %dx%d",
			high.Layers, high.Neurons, low.Layers, low.Neurons)
	}
	if err := checkStats(high); err != nil {
		return nil, fmt.Errorf("contrast: high pole: %w", err)
	}
	if err := checkStats(low); err != nil {
		return nil, fmt.Errorf("contrast: low pole: %w", err)
	}
	c := &Contrast{
		Layers: high.Layers, Neurons: high.Neurons,
		PHigh: high.PActive(), PLow: low.PActive(),
		Q95High: high.Q95(), Q95Low: low.Q95(),
	}
	c.Diff = make([][]float64, c.Layers)
	for l := range c.Diff {
		c.Diff[l] = make([]float64, c.Neurons)
		for i := range c.Diff[l] {
			c.Diff[l][i] = c.PHigh[l][i] - c.PLow[l][i]
		}
	}
	return c, nil
}

// checkStats verifies that the vectors of s match its shape and that every
// active count lies in [0, tokens].
func checkStats(s *hook.Stats) error {
	if s.Layers < 0 || s.Neurons < 0 {
		return fmt.Errorf("negative shape %dx%d", s.Layers, s.Neurons)
	}
	n := s.Layers * s.Neurons
	if len(s.Active) != n {
		return fmt.Errorf("active counts have %d entries, want %d", len(s.Active), n)
	}
	if s.Hist != nil && len(s.Hist) != n*hook.Bins {
		return fmt.Errorf("histogram has %d entries, want %d", len(s.Hist), n*hook.Bins)
	}
	if s.Tokens < 0 {
		return fmt.Errorf("negative token count %d", s.Tokens)
	}
	for k, v := range s.Active {
		if v < 0 || v > s.Tokens {
			return fmt.Errorf("active count %d of layer %d neuron %d is outside [0, %d tokens]", v, k/s.Neurons, k%s.Neurons, s.Tokens)
		}
	}
	return nil
}

// record returns the neuron record of (l, i) for a pole: diff is signed
// towards the pole (−Diff for the low pole, as in the published files), p
// and q95 are those of the pole itself.
func (c *Contrast) record(pole Pole, l, i int) Neuron {
	n := Neuron{Layer: l, Index: i, Diff: c.Diff[l][i], P: c.PHigh[l][i]}
	q := c.Q95High
	if pole == Low {
		n.Diff, n.P, q = -n.Diff, c.PLow[l][i], c.Q95Low
	}
	if q != nil {
		n.Q95 = q[l][i]
	}
	return n
}
