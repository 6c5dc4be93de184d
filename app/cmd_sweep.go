package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/ui/figure"
)

// runSweep implements `npti sweep`:
//
//	npti sweep --model M --neurons DIR --induce trait:pole [--gammas 0.6,0.8,...]
//	  [--variants npti,topk:500,add-only,clamp-only] [--baselines=true]
//	  [--max-fluency-cost 1.0] [--limit N] [induce flags] --out DIR [--resume]
//
// It writes DIR/sweep.csv, sweep.json and the figure as sweep.png, .svg
// and .pdf, each atomically. DIR/sweep-checkpoint.json records every
// finished run (the baselines, each variant at each γ) as it ends;
// --resume skips the runs recorded there and refuses a checkpoint made
// with other settings.
func runSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addInduceFlags(fs)
	gammas := fs.String("gammas", "0.6,0.8,1.0,1.2,1.4,1.6", "comma-separated γ values")
	variants := fs.String("variants", "npti", "selection variants: npti, topk:K, add-only, clamp-only")
	baselines := fs.Bool("baselines", true, "run the adjective and persona prompt baselines")
	maxCost := fs.Float64("max-fluency-cost", analysis.DefaultMaxFluencyCost, "sweet spot bound on the NLL increase over unsteered (nats/token)")
	out := fs.String("out", "", "folder for sweep.csv, sweep.json and sweep.png/.svg/.pdf (required)")
	resume := fs.Bool("resume", false, "skip the runs already recorded in --out's "+sweepCheckpointFile)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "npti sweep: need --out")
		fs.Usage()
		return errUsage
	}
	req := analysis.SweepRequest{Baselines: *baselines, Checkpoint: filepath.Join(*out, sweepCheckpointFile), Resume: *resume}
	if flagSet(fs, "max-fluency-cost") { // an explicit 0 means 0
		if err := analysis.CheckFluencyCost(*maxCost); err != nil {
			return fmt.Errorf("bad --max-fluency-cost: %w", err)
		}
		req.MaxFluencyCost = maxCost
	}
	var err error
	if req.Gammas, err = parseFloats(*gammas); err != nil {
		return err
	}
	for _, v := range strings.Split(*variants, ",") {
		pv, err := analysis.ParseVariant(v)
		if err != nil {
			return err
		}
		req.Variants = append(req.Variants, pv)
	}
	q, r, err := f.request(ctx, stderr)
	if err != nil {
		return err
	}
	req.Induce = q
	bench, _, err := loadBenchFlag(*f.data, *f.split)
	if err != nil {
		return err
	}
	if req.Scorers, err = analysis.TrainScorers(bench); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	bar := newProgressLine(stderr)
	res, err := analysis.Sweep(ctx, r, req, bar.update)
	bar.finish()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w\nfinished runs kept in %s: run the same command with --resume to continue", err, req.Checkpoint)
		}
		return err
	}
	if err := writeSweep(*out, res); err != nil {
		return err
	}
	for _, s := range res.SweetSpots {
		if s.Found {
			fmt.Fprintf(stdout, "%s: sweet spot γ %.2g (score shift %+.3f, NLL cost %+.2f)\n", s.Variant, s.Gamma, s.Shift, s.Cost)
		} else {
			fmt.Fprintf(stdout, "%s: no γ within the fluency bound %.2f\n", s.Variant, res.MaxFluencyCost)
		}
	}
	_, err = fmt.Fprintf(stdout, "wrote sweep.csv, sweep.json and sweep.png/.svg/.pdf to %s\n", *out)
	return err
}

// sweepCheckpointFile is the sweep's checkpoint inside --out.
const sweepCheckpointFile = "sweep-checkpoint.json"

// writeSweep writes the tables and the figure, each file atomically.
func writeSweep(dir string, res *analysis.SweepResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := analysis.WriteAtomic(filepath.Join(dir, "sweep.csv"), res.WriteCSV); err != nil {
		return err
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep.json: %w", err)
	}
	if err := analysis.WriteFileAtomic(filepath.Join(dir, "sweep.json"), append(js, '\n')); err != nil {
		return err
	}
	p, err := figure.DoseResponse(res, figure.DoseOptions{})
	if err != nil {
		return err
	}
	for _, ext := range []string{".png", ".svg", ".pdf"} {
		if err := figure.Save(p, filepath.Join(dir, "sweep"+ext), 8*vg.Inch, 6*vg.Inch); err != nil {
			return err
		}
	}
	return nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseFloats parses "0.6,0.8,1".
func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("bad γ %q in %q", f, s)
		}
		out = append(out, v)
	}
	return out, nil
}
