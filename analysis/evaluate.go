package analysis

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
	// PHigh is P(high pole | answer) for the answer's trait (the first
	// item of its plan).
	PHigh float64 `json:"p_high"`
	// Scores holds P(high pole | answer) for the trait of every item of
	// the answer's plan, in plan order (the first is PHigh).
	Scores []TraitScore `json:"scores,omitempty"`
	// NLL is the mean negative log-likelihood per answer token under the
	// unsteered model given the answer's prompt; NLLTokens the tokens
	// counted (0 when not measured).
	NLL       float64 `json:"nll,omitempty"`
	NLLTokens int     `json:"nll_tokens,omitempty"`
}

// TraitScore is the offline score of an answer on one trait of its plan.
type TraitScore struct {
	Trait string  `json:"trait"`
	Pole  string  `json:"pole"`
	Gamma float64 `json:"gamma,omitempty"`
	PHigh float64 `json:"p_high"`
}

// ScoreAnswers scores each answer with the scorer of each trait of its
// plan (every item of a multi-trait plan; see Answer.PlanItems) and, when
// r is not nil, measures its NLL under the unedited model (Runner.LogProbs
// over prompt + answer, counting only answer tokens; a trailing stop token
// is not counted), batch answers at a time (default 8).
func ScoreAnswers(ctx context.Context, answers []Answer, sc TraitScorers, r Runner, batch int) ([]Scored, error) {
	out := make([]Scored, len(answers))
	for k, a := range answers {
		items := a.PlanItems()
		if len(items) == 0 {
			return nil, fmt.Errorf("score answer %d: it names no trait", k+1)
		}
		out[k] = Scored{Answer: a}
		for _, it := range items {
			t, err := ParseTrait(it.Trait)
			if err != nil {
				return nil, fmt.Errorf("score answer %d: %w", k+1, err)
			}
			nb := sc[t]
			if nb == nil {
				return nil, fmt.Errorf("score answer %d: no scorer for %s", k+1, t)
			}
			out[k].Scores = append(out[k].Scores, TraitScore{Trait: string(t), Pole: it.Pole, Gamma: it.Gamma, PHigh: nb.PHigh(a.Answer)})
		}
		out[k].PHigh = out[k].Scores[0].PHigh
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
// trait (and pole, gamma, variant and the run's settings for the induced
// and prompt conditions; the unsteered condition has no pole). An answer
// of a multi-trait plan counts in a row for each trait of its plan.
type SummaryRow struct {
	Condition string  `json:"condition"`
	Trait     string  `json:"trait"`
	Pole      string  `json:"pole,omitempty"`
	Variant   string  `json:"variant,omitempty"`
	Gamma     float64 `json:"gamma,omitempty"`
	// RunSettings tell runs of other plans or settings apart.
	RunSettings
	N     int     `json:"n"`
	PHigh float64 `json:"p_high"`
	// NLL is token-weighted over the answers measured (0 when none was).
	NLL       float64 `json:"nll,omitempty"`
	Distinct1 float64 `json:"distinct_1"`
	Distinct2 float64 `json:"distinct_2"`
}

// RunSettings are what tells the run of an answer from another run of the
// same condition, trait, pole, variant and γ: the whole plan (every item,
// with its γ for induced answers), and for induced answers the scope, mask
// fraction, clamp of the opposite pole, conflict policy and the hash of
// the edits built. Unsteered answers have none.
type RunSettings struct {
	// Plan lists the items of a multi-trait plan as --induce takes them:
	// "extraversion:high:1.2,neuroticism:low:1" (induced) or
	// "extraversion:high,neuroticism:low" (prompt baselines); empty for
	// a single item, which the trait, pole and γ already name.
	Plan         string  `json:"plan,omitempty"`
	Scope        string  `json:"scope,omitempty"`
	MaskFraction float64 `json:"mask_fraction,omitempty"`
	// Clamp is "on" or "off" (the plan's clamp_opposite).
	Clamp     string `json:"clamp,omitempty"`
	Policy    string `json:"policy,omitempty"`
	EditsHash string `json:"edits_hash,omitempty"`
}

// SettingsOf returns the run settings of an answer of condition cond with
// the given plan items and (for induced answers) plan record. Each item's
// γ is part of Plan for induced answers and any answer with a plan record.
func SettingsOf(cond string, items []PlanItem, plan *PlanRecord) RunSettings {
	if cond == CondUnsteered {
		return RunSettings{}
	}
	var s RunSettings
	var names []string
	steered := cond == CondInduced || plan != nil
	for _, it := range items {
		name := strings.ToLower(it.Trait) + ":" + strings.ToLower(it.Pole)
		if steered {
			name += ":" + strconv.FormatFloat(it.Gamma, 'g', -1, 64)
		}
		names = append(names, name)
	}
	if len(names) > 1 {
		s.Plan = strings.Join(names, ",")
	}
	if plan != nil {
		s.Scope, s.MaskFraction, s.Policy, s.EditsHash = plan.Scope, plan.MaskFraction, plan.Policy, plan.EditsHash
		s.Clamp = "off"
		if plan.ClampOpposite {
			s.Clamp = "on"
		}
	}
	return s
}

// Label is a one-line description of the settings ("-" when none).
func (s RunSettings) Label() string {
	var parts []string
	if s.Plan != "" {
		parts = append(parts, s.Plan)
	}
	if s.Scope != "" {
		parts = append(parts, "scope="+s.Scope)
	}
	if s.MaskFraction != 0 {
		parts = append(parts, "mask="+strconv.FormatFloat(s.MaskFraction, 'g', -1, 64))
	}
	if s.Clamp != "" {
		parts = append(parts, "clamp="+s.Clamp)
	}
	if s.Policy != "" {
		parts = append(parts, "policy="+s.Policy)
	}
	if s.EditsHash != "" {
		parts = append(parts, "edits="+s.EditsHash[:min(8, len(s.EditsHash))])
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// compare orders run settings.
func (s RunSettings) compare(o RunSettings) int {
	return cmp.Or(cmp.Compare(s.Plan, o.Plan), cmp.Compare(s.Scope, o.Scope), cmp.Compare(s.MaskFraction, o.MaskFraction),
		cmp.Compare(s.Clamp, o.Clamp), cmp.Compare(s.Policy, o.Policy), cmp.Compare(s.EditsHash, o.EditsHash))
}

// PlanItems returns the items of the answer's plan: Items when the answer
// lists them, else its trait, pole and γ as one item (nil when it names
// no trait).
func (a Answer) PlanItems() []PlanItem {
	if len(a.Items) > 0 {
		return a.Items
	}
	if a.Trait == "" {
		return nil
	}
	return []PlanItem{{Trait: a.Trait, Pole: a.Pole, Gamma: a.Gamma}}
}

// Summarize groups scored answers by condition, trait, pole, variant,
// gamma and run settings (an answer of a multi-trait plan joins a group
// for each trait of its plan, with that item's pole and γ) and averages
// each group, in a stable order (trait, condition, pole, variant, gamma,
// run settings).
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
		scores := s.Scores
		if len(scores) == 0 {
			scores = []TraitScore{{Trait: s.Trait, Pole: s.Pole, Gamma: s.Gamma, PHigh: s.PHigh}}
		}
		settings := SettingsOf(s.Condition, s.PlanItems(), s.Plan)
		for _, ts := range scores {
			k := SummaryRow{Condition: s.Condition, Trait: ts.Trait, Pole: ts.Pole, Variant: s.Variant, RunSettings: settings}
			if t, err := ParseTrait(ts.Trait); err == nil {
				k.Trait = string(t)
			}
			if s.Condition == CondUnsteered {
				k.Pole = ""
			}
			if s.Condition == CondInduced {
				k.Gamma = ts.Gamma
			}
			g := groups[k]
			if g == nil {
				g = &acc{row: k}
				groups[k] = g
				keys = append(keys, k)
			}
			g.row.N++
			g.pSum += ts.PHigh
			g.nllSum += s.NLL * float64(s.NLLTokens)
			g.nllCount += s.NLLTokens
			g.texts = append(g.texts, s.Answer.Answer)
		}
	}
	order := func(c string) int { return slices.Index(Conditions(), c) }
	slices.SortFunc(keys, func(a, b SummaryRow) int {
		ta, _ := ParseTrait(a.Trait)
		tb, _ := ParseTrait(b.Trait)
		return cmp.Or(cmp.Compare(slices.Index(Traits(), ta), slices.Index(Traits(), tb)),
			cmp.Compare(order(a.Condition), order(b.Condition)), cmp.Compare(a.Pole, b.Pole),
			cmp.Compare(a.Variant, b.Variant), cmp.Compare(a.Gamma, b.Gamma), a.RunSettings.compare(b.RunSettings))
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
