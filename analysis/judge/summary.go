package judge

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/npti-studio/npti/analysis"
)

// Stat summarises one rubric's ratings over a group of answers.
type Stat struct {
	// N counts the parsed ratings, Unparsable the replies without one.
	N          int `json:"n"`
	Unparsable int `json:"unparsable"`
	// Mean and SD (sample standard deviation) of the parsed ratings;
	// NaN-free: 0 when N is 0 (resp. N < 2).
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
}

// Summary gathers the answers of one condition, trait pole and run.
type Summary struct {
	Condition string `json:"condition"`
	// Aspect is "trait:pole" ("extraversion:high"), "" for answers
	// without a trait.
	Aspect string `json:"aspect"`
	// Variant and Gamma (the item's γ; not for unsteered answers) and the
	// run settings tell runs of other plans or settings apart.
	Variant string  `json:"variant,omitempty"`
	Gamma   float64 `json:"gamma,omitempty"`
	analysis.RunSettings
	Answers int  `json:"answers"`
	Trait   Stat `json:"trait"`
	Fluency Stat `json:"fluency"`
}

// Summarize groups judged answers by condition, trait pole, variant, γ
// and run settings (the plan's items, scope, mask fraction, clamp, policy
// and edits hash; see analysis.SettingsOf), in order of first appearance.
// An answer of a multi-trait plan joins a group for each trait of its
// plan, rated on that trait; its fluency rating counts in each.
func Summarize(js []Judged) []Summary {
	type acc struct {
		s              Summary
		trait, fluency []float64
	}
	var order []Summary
	groups := map[Summary]*acc{}
	for _, j := range js {
		a := j.Answer
		items := a.items()
		settings := analysis.SettingsOf(a.Condition, items, a.Plan)
		type rated struct {
			asp   string
			gamma float64
			r     *Rating
		}
		var rs []rated
		for n, tr := range j.Traits {
			g := a.Gamma
			if n < len(items) {
				g = items[n].Gamma
			}
			rs = append(rs, rated{tr.Trait + ":" + tr.Pole, g, &tr.Rating})
		}
		if len(rs) == 0 {
			asp := ""
			if x, ok, err := a.Aspect(); err == nil && ok {
				asp = strings.ToLower(string(x.Trait)) + ":" + x.Pole.String()
			}
			rs = []rated{{asp, a.Gamma, j.Trait}}
		}
		for _, r := range rs {
			key := Summary{Condition: a.Condition, Aspect: r.asp, Variant: a.Variant, Gamma: r.gamma, RunSettings: settings}
			if a.Condition != analysis.CondInduced { // γ is the induction's: baselines have none (as score's summary)
				key.Gamma = 0
			}
			g, ok := groups[key]
			if !ok {
				g = &acc{s: key}
				groups[key] = g
				order = append(order, key)
			}
			g.s.Answers++
			if r.r != nil {
				g.trait = tally(&g.s.Trait, *r.r, g.trait)
			}
			g.fluency = tally(&g.s.Fluency, j.Fluency, g.fluency)
		}
	}
	out := make([]Summary, 0, len(order))
	for _, k := range order {
		g := groups[k]
		g.s.Trait.Mean, g.s.Trait.SD = meanSD(g.trait)
		g.s.Fluency.Mean, g.s.Fluency.SD = meanSD(g.fluency)
		out = append(out, g.s)
	}
	return out
}

func tally(st *Stat, r Rating, scores []float64) []float64 {
	if !r.OK {
		st.Unparsable++
		return scores
	}
	st.N++
	return append(scores, r.Score)
}

func meanSD(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// WriteTable prints the summaries as an aligned text table.
func WriteTable(w io.Writer, ss []Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "condition\taspect\tanswers\ttrait mean\tsd\tn\tunparsable\tfluency mean\tsd\tn\tunparsable\tvariant\tgamma\trun")
	for _, s := range ss {
		asp := s.Aspect
		if asp == "" {
			asp = "-"
		}
		variant, gamma := s.Variant, "-"
		if variant == "" {
			variant = "-"
		}
		if s.Gamma != 0 {
			gamma = fmt.Sprintf("%g", s.Gamma)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", s.Condition, asp, s.Answers,
			num(s.Trait.Mean, s.Trait.N), num(s.Trait.SD, s.Trait.N-1), s.Trait.N, s.Trait.Unparsable,
			num(s.Fluency.Mean, s.Fluency.N), num(s.Fluency.SD, s.Fluency.N-1), s.Fluency.N, s.Fluency.Unparsable,
			variant, gamma, s.RunSettings.Label())
	}
	return tw.Flush()
}

// num formats v, or "-" when no rating backs it.
func num(v float64, n int) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}
