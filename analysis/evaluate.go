package analysis

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/npti-studio/npti/analysis/score"
)

// TraitScorers holds one naive Bayes scorer per trait, giving P(high pole
// | text).
type TraitScorers map[Trait]*score.NaiveBayes

// TrainScorers trains a scorer per trait on all the persona descriptions
// of its two poles (traits lacking either pole are left out).
func TrainScorers(b *Bench) (TraitScorers, error) {
	if b == nil {
		return nil, fmt.Errorf("scorers: no data")
	}
	out := TraitScorers{}
	for _, t := range Traits() {
		high, low := b.Descriptions[Aspect{t, High}], b.Descriptions[Aspect{t, Low}]
		if len(high) > 0 && len(low) > 0 {
			out[t] = score.TrainNaiveBayes(high, low, score.Options{})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scorers: no trait has descriptions of both poles")
	}
	return out, nil
}

// Scored is an answer with its offline scores.
type Scored struct {
	Answer
	// PHigh is P(high pole | answer) for the answer's trait.
	PHigh float64 `json:"p_high"`
	// NLL is the mean negative log-likelihood per answer token under the
	// unsteered model given the answer's prompt; NLLTokens the tokens
	// counted (0 when not measured).
	NLL       float64 `json:"nll,omitempty"`
	NLLTokens int     `json:"nll_tokens,omitempty"`
}

// ScoreAnswers scores each answer with the scorer of its trait and, when
// r is not nil, measures its NLL under the unedited model (Runner.LogProbs
// over prompt + answer, counting only answer tokens; a trailing stop token
// is not counted), batch answers at a time (default 8).
func ScoreAnswers(ctx context.Context, answers []Answer, sc TraitScorers, r Runner, batch int) ([]Scored, error) {
	out := make([]Scored, len(answers))
	for k, a := range answers {
		t, err := ParseTrait(a.Trait)
		if err != nil {
			return nil, fmt.Errorf("score answer %d: %w", k+1, err)
		}
		nb := sc[t]
		if nb == nil {
			return nil, fmt.Errorf("score answer %d: no scorer for %s", k+1, t)
		}
		out[k] = Scored{Answer: a, PHigh: nb.PHigh(a.Answer)}
	}
	if r == nil {
		return out, nil
	}
	batch = cmpOr(batch, 8)
	eos := r.EOS()
	for lo := 0; lo < len(out); lo += batch {
		var seqs [][]int
		var idx []int
		for k := lo; k < min(lo+batch, len(out)); k++ {
			ids := out[k].IDs
			if n := len(ids); n > 0 && slices.Contains(eos, ids[n-1]) {
				ids = ids[:n-1]
			}
			if len(ids) == 0 || len(out[k].PromptIDs) == 0 {
				continue
			}
			seqs = append(seqs, slices.Concat(out[k].PromptIDs, ids))
			idx = append(idx, k)
		}
		if len(seqs) == 0 {
			continue
		}
		lps, err := r.LogProbs(ctx, seqs)
		if err != nil {
			return nil, fmt.Errorf("score: fluency: %w", err)
		}
		for j, k := range idx {
			ans := lps[j][len(out[k].PromptIDs)-1:]
			out[k].NLL, out[k].NLLTokens = score.MeanNLL([][]float64{ans}), len(ans)
		}
	}
	return out, nil
}

// SummaryRow is the mean score of one group of answers: a condition of a
// trait (and pole, gamma and variant for the induced and prompt
// conditions; the unsteered condition has no pole).
type SummaryRow struct {
	Condition string  `json:"condition"`
	Trait     string  `json:"trait"`
	Pole      string  `json:"pole,omitempty"`
	Variant   string  `json:"variant,omitempty"`
	Gamma     float64 `json:"gamma,omitempty"`
	N         int     `json:"n"`
	PHigh     float64 `json:"p_high"`
	// NLL is token-weighted over the answers measured (0 when none was).
	NLL       float64 `json:"nll,omitempty"`
	Distinct1 float64 `json:"distinct_1"`
	Distinct2 float64 `json:"distinct_2"`
}

// Summarize groups scored answers by condition, trait, pole, variant and
// gamma and averages each group, in a stable order (trait, condition,
// pole, variant, gamma).
func Summarize(scored []Scored) []SummaryRow {
	type acc struct {
		row      SummaryRow
		pSum     float64
		nllSum   float64
		nllCount int
		texts    []string
	}
	groups := map[SummaryRow]*acc{}
	var keys []SummaryRow
	for _, s := range scored {
		k := SummaryRow{Condition: s.Condition, Trait: s.Trait, Pole: s.Pole, Variant: s.Variant}
		if s.Condition == CondUnsteered {
			k.Pole = ""
		}
		if s.Condition == CondInduced {
			k.Gamma = s.Gamma
		}
		g := groups[k]
		if g == nil {
			g = &acc{row: k}
			groups[k] = g
			keys = append(keys, k)
		}
		g.row.N++
		g.pSum += s.PHigh
		g.nllSum += s.NLL * float64(s.NLLTokens)
		g.nllCount += s.NLLTokens
		g.texts = append(g.texts, s.Answer.Answer)
	}
	order := func(c string) int { return slices.Index(Conditions(), c) }
	slices.SortFunc(keys, func(a, b SummaryRow) int {
		ta, _ := ParseTrait(a.Trait)
		tb, _ := ParseTrait(b.Trait)
		return cmp.Or(cmp.Compare(slices.Index(Traits(), ta), slices.Index(Traits(), tb)),
			cmp.Compare(order(a.Condition), order(b.Condition)), cmp.Compare(a.Pole, b.Pole),
			cmp.Compare(a.Variant, b.Variant), cmp.Compare(a.Gamma, b.Gamma))
	})
	out := make([]SummaryRow, len(keys))
	for i, k := range keys {
		g := groups[k]
		r := g.row
		r.PHigh = g.pSum / float64(r.N)
		if g.nllCount > 0 {
			r.NLL = g.nllSum / float64(g.nllCount)
		}
		r.Distinct1, r.Distinct2 = score.DistinctN(g.texts, 1), score.DistinctN(g.texts, 2)
		out[i] = r
	}
	return out
}
