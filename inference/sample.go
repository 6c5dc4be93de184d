package inference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Sampling configures next-token selection with HF/vLLM semantics.
type Sampling struct {
	// Temperature 0 is greedy (argmax, first maximum on ties).
	Temperature float64
	// TopK keeps the k most likely tokens (0 = off).
	TopK int
	// TopP keeps the smallest set of tokens whose probability reaches p
	// (0 or 1 = off).
	TopP float64
	// RepetitionPenalty r (1 or 0 = off): for every id already in the
	// prompt or the output, a positive logit is divided by r and a
	// negative one multiplied by r.
	RepetitionPenalty float64
	// Seed seeds the random draw (temperature > 0).
	Seed uint64
}

// Validate reports a setting no sampler can use: NaN or infinite values,
// a negative temperature, top-k or repetition penalty, or a top-p outside
// [0, 1]. (NaN used to slip through every comparison: a NaN temperature
// made every probability NaN and drew the least likely token.)
func (s Sampling) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(s.Temperature) || s.Temperature < 0:
		return fmt.Errorf("sampling: temperature %v must be a finite number ≥ 0 (0 = greedy)", s.Temperature)
	case s.TopK < 0:
		return fmt.Errorf("sampling: top-k %d must be ≥ 0 (0 = off)", s.TopK)
	case !finite(s.TopP) || s.TopP < 0 || s.TopP > 1:
		return fmt.Errorf("sampling: top-p %v must lie in [0, 1] (0 or 1 = off)", s.TopP)
	case !finite(s.RepetitionPenalty) || s.RepetitionPenalty < 0:
		return fmt.Errorf("sampling: repetition penalty %v must be a finite number ≥ 0 (0 or 1 = off)", s.RepetitionPenalty)
	}
	return nil
}

// sampler selects tokens for one row.
type sampler struct {
	cfg  Sampling
	rng  *rand.Rand
	seen map[int]bool // ids of prompt and output (repetition penalty)
	idx  []int        // scratch
}

func newSampler(cfg Sampling, prompt []int) *sampler {
	s := &sampler{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)), seen: map[int]bool{}}
	for _, id := range prompt {
		s.seen[id] = true
	}
	return s
}

// next picks a token from logits [V] (modified in place) and records it.
func (s *sampler) next(logits []float32) int {
	if r := float32(s.cfg.RepetitionPenalty); r > 0 && r != 1 {
		for id := range s.seen {
			if id < 0 || id >= len(logits) {
				continue
			}
			if logits[id] > 0 {
				logits[id] /= r
			} else {
				logits[id] *= r
			}
		}
	}
	var id int
	if s.cfg.Temperature <= 0 {
		id = argmax(logits)
	} else {
		id = s.draw(logits)
	}
	s.seen[id] = true
	return id
}

// argmax returns the index of the first largest value of x (0 for none;
// NaNs never win, though a NaN in x[0] stays the answer, as before).
func argmax(x []float32) int {
	if len(x) == 0 {
		return 0
	}
	best, bv := 0, x[0] // the best value in a register, not reloaded from x
	for i, v := range x {
		if v > bv {
			best, bv = i, v
		}
	}
	return best
}

// draw samples from softmax(logits / T) after top-k and top-p filtering.
func (s *sampler) draw(logits []float32) int {
	temp := float32(s.cfg.Temperature)
	if cap(s.idx) < len(logits) {
		s.idx = make([]int, len(logits))
	}
	idx := s.idx[:len(logits)]
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	n := len(idx)
	if k := s.cfg.TopK; k > 0 && k < n {
		n = k
	}
	maxL := float64(logits[idx[0]] / temp)
	probs := make([]float64, n)
	var sum float64
	for i := 0; i < n; i++ {
		probs[i] = math.Exp(float64(logits[idx[i]]/temp) - maxL)
		sum += probs[i]
	}
	for i := range probs {
		probs[i] /= sum
	}
	if p := s.cfg.TopP; p > 0 && p < 1 {
		// HF: drop the tail whose cumulative probability (ascending) is
		// <= 1-p; always keep the most likely token.
		var cum float64
		keep := n
		for i := n - 1; i > 0; i-- {
			cum += probs[i]
			if cum > 1-p {
				break
			}
			keep = i
		}
		n = keep
		probs = probs[:n]
		sum = 0
		for _, q := range probs {
			sum += q
		}
		for i := range probs {
			probs[i] /= sum
		}
	}
	u := s.rng.Float64()
	var cum float64
	for i, q := range probs {
		cum += q
		if u < cum {
			return idx[i]
		}
	}
	return idx[n-1]
}
