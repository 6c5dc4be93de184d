package judge

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
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

// Summary gathers the answers of one condition and trait pole.
type Summary struct {
	Condition string `json:"condition"`
	// Aspect is "trait:pole" ("extraversion:high"), "" for answers
	// without a trait.
	Aspect  string `json:"aspect"`
	Answers int    `json:"answers"`
	Trait   Stat   `json:"trait"`
	Fluency Stat   `json:"fluency"`
}

// Summarize groups judged answers by condition and trait pole, in order of
// first appearance.
func Summarize(js []Judged) []Summary {
	type acc struct {
		s              Summary
		trait, fluency []float64
	}
	var order []string
	groups := map[string]*acc{}
	for _, j := range js {
		asp := ""
		if a, ok, err := j.Answer.Aspect(); err == nil && ok {
			asp = strings.ToLower(string(a.Trait)) + ":" + a.Pole.String()
		}
		key := j.Answer.Condition + "\x00" + asp
		g, ok := groups[key]
		if !ok {
			g = &acc{s: Summary{Condition: j.Answer.Condition, Aspect: asp}}
			groups[key] = g
			order = append(order, key)
		}
		g.s.Answers++
		if j.Trait != nil {
			g.trait = tally(&g.s.Trait, *j.Trait, g.trait)
		}
		g.fluency = tally(&g.s.Fluency, j.Fluency, g.fluency)
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
	fmt.Fprintln(tw, "condition\taspect\tanswers\ttrait mean\tsd\tn\tunparsable\tfluency mean\tsd\tn\tunparsable")
	for _, s := range ss {
		asp := s.Aspect
		if asp == "" {
			asp = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t%d\t%d\n", s.Condition, asp, s.Answers,
			num(s.Trait.Mean, s.Trait.N), num(s.Trait.SD, s.Trait.N-1), s.Trait.N, s.Trait.Unparsable,
			num(s.Fluency.Mean, s.Fluency.N), num(s.Fluency.SD, s.Fluency.N-1), s.Fluency.N, s.Fluency.Unparsable)
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
