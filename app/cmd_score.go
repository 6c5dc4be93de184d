package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/npti-studio/npti/analysis"
)

// scoreOutput is the `npti score --json` output.
type scoreOutput struct {
	Answers int                   `json:"answers"`
	Fluency bool                  `json:"fluency"`
	Summary []analysis.SummaryRow `json:"summary"`
}

// runScore implements `npti score`:
//
//	npti score --answers answers.jsonl [--model M] [--data DIR] [--out scored.jsonl] [--json]
//
// Each answer gets P(high pole) from a naive Bayes scorer trained on the
// persona descriptions of both poles of each trait of its plan (every item
// of a multi-trait plan) and, with --model, its mean NLL under the
// unsteered model; a summary per condition × trait × run (pole, variant,
// γ, and the plan's items, scope, mask fraction, clamp, policy and edits
// hash) with mean P(high), NLL, distinct-1/2 and n is printed.
func runScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	answersPath := fs.String("answers", "", "answers file written by npti induce (required)")
	model := fs.String("model", "", "model to measure fluency (NLL) with (optional)")
	opts := runtimeFlags(fs)
	data := fs.String("data", "", "PersonalityBench folder to train the scorer on (default: the built-in probe set)")
	out := fs.String("out", "", "write each scored answer here (JSON Lines)")
	batch := fs.Int("batch", 8, "answers per NLL batch")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *answersPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "npti score: need --answers")
		fs.Usage()
		return errUsage
	}
	answers, err := analysis.ReadAnswers(*answersPath)
	if err != nil {
		return err
	}
	bench, _, err := loadBenchFlag(*data, analysis.SplitTest)
	if err != nil {
		return err
	}
	sc, err := analysis.TrainScorers(bench)
	if err != nil {
		return err
	}
	var r analysis.Runner
	if *model != "" {
		l, err := openModel(ctx, *model, *opts, stderr)
		if err != nil {
			return err
		}
		r = newRunner(l)
	}
	scored, err := analysis.ScoreAnswers(ctx, answers, sc, r, *batch)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := writeScored(*out, scored); err != nil {
			return err
		}
	}
	sum := analysis.Summarize(scored)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(scoreOutput{Answers: len(scored), Fluency: r != nil, Summary: sum})
	}
	return printSummary(stdout, sum, r != nil)
}

// writeScored writes scored answers as JSON Lines, atomically: a failed
// or killed run leaves the previous file (or none), never a part.
func writeScored(path string, scored []analysis.Scored) error {
	return analysis.WriteAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, s := range scored {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	})
}

// printSummary prints the summary table.
func printSummary(w io.Writer, rows []analysis.SummaryRow, fluency bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "trait\tcondition\tpole\tvariant\tgamma\tn\tP(high)\tNLL\tdistinct-1\tdistinct-2\t run")
	for _, r := range rows {
		nll := "-"
		if fluency {
			nll = fmt.Sprintf("%.2f", r.NLL)
		}
		gamma := "-"
		if r.Condition == analysis.CondInduced {
			gamma = fmt.Sprintf("%.2g", r.Gamma)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%.3f\t%s\t%.2f\t%.2f\t %s\n", r.Trait, r.Condition, dash(r.Pole), dash(r.Variant),
			gamma, r.N, r.PHigh, nll, r.Distinct1, r.Distinct2, r.RunSettings.Label())
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
