package inference

import (
	"math"
	"testing"
)

func TestRepetitionPenalty(t *testing.T) {
	s := newSampler(Sampling{RepetitionPenalty: 2}, []int{0, 1})
	logits := []float32{4, -1, 3, 0.5}
	// HF semantics: 4/2 = 2, -1*2 = -2; unseen ids untouched → argmax 2.
	if id := s.next(logits); id != 2 {
		t.Fatalf("next = %d, want 2 (logits after penalty %v)", id, logits)
	}
	if logits[0] != 2 || logits[1] != -2 || logits[2] != 3 {
		t.Fatalf("penalised logits %v", logits)
	}
	if !s.seen[2] {
		t.Fatal("generated id not recorded for later penalties")
	}
}

func TestGreedyTieTakesFirst(t *testing.T) {
	s := newSampler(Sampling{}, nil)
	if id := s.next([]float32{1, 5, 5, 2}); id != 1 {
		t.Fatalf("argmax tie: got %d, want 1", id)
	}
	nan := float32(math.NaN())
	for _, c := range []struct {
		x    []float32
		want int
	}{
		{[]float32{nan, 3, 9}, 0},      // nothing compares above a leading NaN
		{[]float32{1, nan, 7, nan}, 2}, // later NaNs never win
		{[]float32{-3, -1, -2}, 1},
		{[]float32{float32(math.Inf(-1)), -1e30}, 1},
		{nil, 0},
	} {
		if got := argmax(c.x); got != c.want {
			t.Fatalf("argmax(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}

// The empirical distribution of draws follows softmax(logits/T) restricted
// by top-k and top-p, and a seed makes draws reproducible.
func TestSamplingDistribution(t *testing.T) {
	logits := []float32{2, 1, 0, -1, -8}
	probs := func(T float64) []float64 {
		p := make([]float64, len(logits))
		var s float64
		for i, l := range logits {
			p[i] = math.Exp(float64(l) / T)
			s += p[i]
		}
		for i := range p {
			p[i] /= s
		}
		return p
	}
	cases := []struct {
		name string
		cfg  Sampling
		want []float64
	}{
		{"temperature 1", Sampling{Temperature: 1, Seed: 1}, probs(1)},
		{"temperature 0.5", Sampling{Temperature: 0.5, Seed: 2}, probs(0.5)},
		{"top-k 2", Sampling{Temperature: 1, TopK: 2, Seed: 3}, renorm(probs(1), 2)},
		// probs(1) = .644 .237 .087 .032 .0002: top-p 0.8 keeps the first
		// two (cumulative .881 ≥ .8), top-p 0.5 only the first.
		{"top-p 0.8", Sampling{Temperature: 1, TopP: 0.8, Seed: 4}, renorm(probs(1), 2)},
		{"top-p 0.5", Sampling{Temperature: 1, TopP: 0.5, Seed: 5}, renorm(probs(1), 1)},
	}
	const n = 40000
	for _, c := range cases {
		s := newSampler(c.cfg, nil)
		counts := make([]float64, len(logits))
		for i := 0; i < n; i++ {
			l := append([]float32(nil), logits...)
			counts[s.draw(l)]++
		}
		for i := range counts {
			got := counts[i] / n
			if math.Abs(got-c.want[i]) > 0.01 {
				t.Errorf("%s: P(%d) = %.4f, want %.4f", c.name, i, got, c.want[i])
			}
		}
	}
	a, b := newSampler(Sampling{Temperature: 1, Seed: 9}, nil), newSampler(Sampling{Temperature: 1, Seed: 9}, nil)
	for i := 0; i < 100; i++ {
		if a.draw(append([]float32(nil), logits...)) != b.draw(append([]float32(nil), logits...)) {
			t.Fatal("same seed, different draws")
		}
	}
}

// renorm keeps the first k probabilities and renormalises them.
func renorm(p []float64, k int) []float64 {
	out := make([]float64, len(p))
	var s float64
	for i := 0; i < k; i++ {
		s += p[i]
	}
	for i := 0; i < k; i++ {
		out[i] = p[i] / s
	}
	return out
}
