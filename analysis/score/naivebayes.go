package score

import (
	"cmp"
	"math"
	"slices"
)

// Options configures TrainNaiveBayes. The zero value gives the defaults.
type Options struct {
	// Alpha is the additive (Laplace) smoothing pseudo-count added to every
	// word of the vocabulary in both classes. Zero, negative or non-finite
	// values mean 1.
	Alpha float64
	// PriorHigh is the prior probability of the high pole. Values outside
	// the open interval (0, 1), and NaN, mean 0.5 (equal priors).
	PriorHigh float64
}

// normalized returns the options with the defaults filled in.
func (o Options) normalized() Options {
	if !(o.Alpha > 0) || math.IsInf(o.Alpha, 0) {
		o.Alpha = 1
	}
	if !(o.PriorHigh > 0 && o.PriorHigh < 1) {
		o.PriorHigh = 0.5
	}
	return o
}

// WordWeight is one word of a trained model with its evidence: LLR is
// log P(word | high) − log P(word | low) (natural log, smoothed), positive
// for words that point to the high pole.
type WordWeight struct {
	Word      string  `json:"word"`
	LLR       float64 `json:"llr"`
	HighCount int     `json:"high_count"`
	LowCount  int     `json:"low_count"`
}

// NaiveBayes is a binary multinomial naive Bayes classifier over the word
// tokens of Tokenize. The vocabulary is every word seen in training; words
// outside it carry no evidence and are skipped when scoring. A trained model
// is immutable and safe for concurrent use.
type NaiveBayes struct {
	alpha     float64
	priorHigh float64
	counts    map[string][2]int // word -> {high count, low count}
	total     [2]int            // tokens per class
	llr       map[string]float64
}

// TrainNaiveBayes counts the words of the high-pole and low-pole example
// texts and returns the trained classifier. With opts' zero value it uses
// Laplace smoothing (alpha 1) and equal class priors.
func TrainNaiveBayes(high, low []string, opts Options) *NaiveBayes {
	opts = opts.normalized()
	nb := &NaiveBayes{alpha: opts.Alpha, priorHigh: opts.PriorHigh, counts: make(map[string][2]int)}
	for class, texts := range [2][]string{high, low} {
		for _, text := range texts {
			for _, w := range Tokenize(text) {
				c := nb.counts[w]
				c[class]++
				nb.counts[w] = c
				nb.total[class]++
			}
		}
	}
	nb.computeLLR()
	return nb
}

// computeLLR caches the smoothed log-likelihood ratio of every word.
func (nb *NaiveBayes) computeLLR() {
	v := float64(len(nb.counts))
	denHigh := math.Log(float64(nb.total[0]) + nb.alpha*v)
	denLow := math.Log(float64(nb.total[1]) + nb.alpha*v)
	nb.llr = make(map[string]float64, len(nb.counts))
	for w, c := range nb.counts {
		nb.llr[w] = math.Log(float64(c[0])+nb.alpha) - denHigh -
			math.Log(float64(c[1])+nb.alpha) + denLow
	}
}

// LogOdds returns log P(high | text) − log P(low | text): the prior log-odds
// plus the summed log-likelihood ratios of the text's known words.
func (nb *NaiveBayes) LogOdds(text string) float64 {
	s := math.Log(nb.priorHigh) - math.Log1p(-nb.priorHigh)
	for _, w := range Tokenize(text) {
		s += nb.llr[w] // unknown words: zero
	}
	return s
}

// PHigh returns P(high pole | text) in [0, 1]. It sums evidence in log space
// and applies a logistic function that cannot overflow, so long texts give
// 0 or 1 rather than NaN. A text with no known word gets the prior.
func (nb *NaiveBayes) PHigh(text string) float64 {
	return sigmoid(nb.LogOdds(text))
}

// sigmoid is the logistic function, stable for large |x|.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// VocabularySize returns the number of distinct words seen in training.
func (nb *NaiveBayes) VocabularySize() int { return len(nb.counts) }

// TopWords returns the n words with the strongest evidence for each pole:
// high sorted by LLR descending, low by LLR ascending (most negative first).
// Ties break alphabetically so the result is deterministic.
func (nb *NaiveBayes) TopWords(n int) (high, low []WordWeight) {
	all := make([]WordWeight, 0, len(nb.counts))
	for w, c := range nb.counts {
		all = append(all, WordWeight{Word: w, LLR: nb.llr[w], HighCount: c[0], LowCount: c[1]})
	}
	slices.SortFunc(all, func(a, b WordWeight) int {
		return cmp.Or(cmp.Compare(b.LLR, a.LLR), cmp.Compare(a.Word, b.Word))
	})
	n = max(0, min(n, len(all)))
	high = slices.Clone(all[:n])
	slices.SortFunc(all, func(a, b WordWeight) int {
		return cmp.Or(cmp.Compare(a.LLR, b.LLR), cmp.Compare(a.Word, b.Word))
	})
	low = slices.Clone(all[:n])
	return high, low
}
