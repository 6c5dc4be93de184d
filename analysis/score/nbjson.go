package score

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// modelFormat names the JSON layout of a trained NaiveBayes.
const modelFormat = "npti-naive-bayes/1"

// maxCount bounds a stored word count so that sums cannot overflow.
const maxCount = 1 << 40

// nbJSON is the stored form of a NaiveBayes: its options and raw counts.
// Log-likelihood ratios are recomputed on load, so the file stays small and
// human-readable, and cannot disagree with its counts.
type nbJSON struct {
	Format     string              `json:"format"`
	Alpha      float64             `json:"alpha"`
	PriorHigh  float64             `json:"prior_high"`
	HighTokens int64               `json:"high_tokens"`
	LowTokens  int64               `json:"low_tokens"`
	Words      map[string][2]int64 `json:"words"` // word -> [high count, low count]
}

// MarshalJSON stores the model's options and word counts.
func (nb *NaiveBayes) MarshalJSON() ([]byte, error) {
	m := nbJSON{
		Format: modelFormat, Alpha: nb.alpha, PriorHigh: nb.priorHigh,
		HighTokens: int64(nb.total[0]), LowTokens: int64(nb.total[1]),
		Words: make(map[string][2]int64, len(nb.counts)),
	}
	for w, c := range nb.counts {
		m.Words[w] = [2]int64{int64(c[0]), int64(c[1])}
	}
	return json.Marshal(m)
}

// UnmarshalJSON loads a model written by MarshalJSON, checking that it is
// consistent: known format, alpha > 0, prior in (0, 1), words that Tokenize
// would produce, non-negative counts that sum to the stored totals.
func (nb *NaiveBayes) UnmarshalJSON(data []byte) error {
	var m nbJSON
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("naive bayes model: %w", err)
	}
	if err := m.validate(); err != nil {
		return fmt.Errorf("naive bayes model: %w", err)
	}
	loaded := NaiveBayes{alpha: m.Alpha, priorHigh: m.PriorHigh,
		counts: make(map[string][2]int, len(m.Words)),
		total:  [2]int{int(m.HighTokens), int(m.LowTokens)}}
	for w, c := range m.Words {
		loaded.counts[w] = [2]int{int(c[0]), int(c[1])}
	}
	loaded.computeLLR()
	*nb = loaded
	return nil
}

// validate reports the first inconsistency of a decoded model.
func (m *nbJSON) validate() error {
	switch {
	case m.Format != modelFormat:
		return fmt.Errorf("format %q, want %q", m.Format, modelFormat)
	case !(m.Alpha > 0) || math.IsInf(m.Alpha, 0):
		return fmt.Errorf("alpha %v must be positive and finite", m.Alpha)
	case !(m.PriorHigh > 0 && m.PriorHigh < 1):
		return fmt.Errorf("prior_high %v must lie strictly between 0 and 1", m.PriorHigh)
	}
	var sum [2]int64
	for w, c := range m.Words {
		if tok := Tokenize(w); len(tok) != 1 || tok[0] != w {
			return fmt.Errorf("word %q is not a single lower-case token", w)
		}
		for class := range c {
			if c[class] < 0 || c[class] > maxCount {
				return fmt.Errorf("word %q: count %d out of range [0, %d]", w, c[class], int64(maxCount))
			}
			sum[class] += c[class]
		}
		if c[0] == 0 && c[1] == 0 {
			return fmt.Errorf("word %q has no occurrences", w)
		}
		if sum[0] > maxCount || sum[1] > maxCount {
			return errors.New("token totals out of range")
		}
	}
	if sum != [2]int64{m.HighTokens, m.LowTokens} {
		return fmt.Errorf("token totals %d/%d disagree with word counts %d/%d",
			m.HighTokens, m.LowTokens, sum[0], sum[1])
	}
	return nil
}
