// Package hook holds the plain data that crosses the single FFN hook of the
// forward pass: activation statistics coming out (Stats) and neuron
// overrides going in (Override). It knows layers and neurons, never traits,
// and imports neither GoMLX nor Fyne, so analysis code can use it freely.
package hook

import (
	"fmt"
	"math"
)

// Bins is the number of histogram bins of NPTI.md §2: edges -inf, 0.00,
// 0.01, ..., 2.99, +inf; bins are left-open, right-closed.
const Bins = 301

// BinWidth is the width of the finite histogram bins.
const BinWidth = 0.01

// BinEdges returns the 302 bin edges as float32 (the dtype activations are
// compared in): -inf, 0, 0.01, ..., 2.99, +inf.
func BinEdges() []float32 {
	e := make([]float32, Bins+1)
	e[0] = float32(math.Inf(-1))
	for k := 1; k < Bins; k++ {
		e[k] = float32(float64(k-1) * BinWidth)
	}
	e[Bins] = float32(math.Inf(1))
	return e
}

// BinOf returns the histogram bin of activation a: 0 for a <= 0,
// k for (k-2)*0.01 < a <= (k-1)*0.01, and 300 for a > 2.99.
func BinOf(a float32) int {
	if !(a > 0) { // NaN counts as not active.
		return 0
	}
	if a > binEdges[Bins-1] {
		return Bins - 1
	}
	// Bin b covers (edges[b], edges[b+1]]; find the smallest j >= 2 with
	// a <= edges[j], starting from the arithmetic guess.
	// (A float32 product and truncation: the loops below correct the
	// guess either way, and this avoids a division and math.Ceil per call:
	// capture bins every activation.)
	j := int(a*(1/BinWidth)) + 2
	j = max(2, min(j, Bins-1))
	for j > 2 && a <= binEdges[j-1] {
		j--
	}
	for j < Bins-1 && a > binEdges[j] {
		j++
	}
	return j - 1
}

var binEdges = BinEdges()

// Stats accumulates, per layer and neuron, how often the FFN activation
// a = SiLU(x·W_gate) was > 0 and its 301-bin histogram, over Tokens
// counted positions. Stats are additive (see Add).
type Stats struct {
	Layers, Neurons int
	// Tokens is the number of positions counted.
	Tokens int64
	// Active[l*Neurons+i] counts positions with a > 0. Shape [Layers, Neurons].
	Active []int64
	// Hist[(l*Neurons+i)*Bins+b] counts positions in bin b.
	// Shape [Layers, Neurons, Bins]; nil when histograms were not requested.
	// Counts are uint32, half the memory of int64 (for this they are
	// L·N·301 of them: 111 MiB for a 135M model at int64, 1.1 GiB for an
	// 8B one), so statistics with histograms count at most MaxHistTokens
	// positions; Add and the capture refuse more.
	Hist []uint32
}

// MaxHistTokens is the most positions statistics with histograms count.
const MaxHistTokens = math.MaxUint32

// CheckRoom reports an error when counting more positions into s would
// pass MaxHistTokens.
func (s *Stats) CheckRoom(more int64) error {
	if s.Hist != nil && (more < 0 || s.Tokens+more > MaxHistTokens) {
		return fmt.Errorf("hook: %d + %d positions exceed the %d a histogram counts", s.Tokens, more, int64(MaxHistTokens))
	}
	return nil
}

// NewStats returns empty statistics for a model shape, with histograms
// when withHist is set.
func NewStats(layers, neurons int, withHist bool) *Stats {
	s := &Stats{Layers: layers, Neurons: neurons, Active: make([]int64, layers*neurons)}
	if withHist {
		s.Hist = make([]uint32, layers*neurons*Bins)
	}
	return s
}

// Add accumulates o into s. Both must have the same shape; a histogram is
// kept only when both have one.
func (s *Stats) Add(o *Stats) error {
	if o == nil {
		return nil
	}
	if s.Layers != o.Layers || s.Neurons != o.Neurons {
		return fmt.Errorf("hook: cannot add statistics of shape %dx%d to %dx%d",
			o.Layers, o.Neurons, s.Layers, s.Neurons)
	}
	if o.Hist != nil {
		if err := s.CheckRoom(o.Tokens); err != nil {
			return err
		}
	}
	s.Tokens += o.Tokens
	for i, v := range o.Active {
		s.Active[i] += v
	}
	if s.Hist != nil && o.Hist != nil {
		for i, v := range o.Hist {
			s.Hist[i] += v
		}
	} else {
		s.Hist = nil
	}
	return nil
}

// Clone returns a deep copy.
func (s *Stats) Clone() *Stats {
	c := *s
	c.Active = append([]int64(nil), s.Active...)
	if s.Hist != nil {
		c.Hist = append([]uint32(nil), s.Hist...)
	}
	return &c
}

// PActive returns p[l][i] = Active/Tokens (0 when no token was counted).
func (s *Stats) PActive() [][]float64 {
	p := make([][]float64, s.Layers)
	for l := range p {
		p[l] = make([]float64, s.Neurons)
		if s.Tokens == 0 {
			continue
		}
		for i := range p[l] {
			p[l][i] = float64(s.Active[l*s.Neurons+i]) / float64(s.Tokens)
		}
	}
	return p
}

// Q95 returns the NPTI histogram quantile per neuron: the left edge of the
// first bin at which the cumulative count reaches 95 % of the total. When
// that is the first bin (left edge -inf) it reports 0, as NPTI.md says.
// It returns nil when no histogram was collected.
func (s *Stats) Q95() [][]float64 {
	if s.Hist == nil {
		return nil
	}
	q := make([][]float64, s.Layers)
	for l := range q {
		q[l] = make([]float64, s.Neurons)
		for i := range q[l] {
			q[l][i] = HistQuantile(s.Hist[(l*s.Neurons+i)*Bins:(l*s.Neurons+i+1)*Bins], 0.95)
		}
	}
	return q
}

// HistQuantile returns the left edge of the first bin whose cumulative count
// reaches frac of the total (0 for the first bin or an empty histogram).
func HistQuantile(h []uint32, frac float64) float64 {
	var total int64
	for _, v := range h {
		total += int64(v)
	}
	if total == 0 {
		return 0
	}
	target := frac * float64(total)
	var cum int64
	for b, v := range h {
		cum += int64(v)
		if float64(cum) >= target {
			if b == 0 {
				return 0
			}
			return math.Round(float64(b-1)*BinWidth*100) / 100
		}
	}
	return math.Round(float64(Bins-2)*BinWidth*100) / 100
}
