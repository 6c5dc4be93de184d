package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/npti-studio/npti/analysis"
)

// runPlan prints what a (multi-trait) induction would do to a model:
//
//	npti plan --neurons DIR --induce extraversion:high,neuroticism:high
//	  [--gamma G] [--policy skip|add|clamp] [--no-clamp]
//	  [--model-shape L,N] [--json]
//
// Without --model-shape the shape is the smallest the dict files fit.
func runPlan(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("neurons", "", "folder of <Trait>_dict.json files (required)")
	induce := fs.String("induce", "", "trait:pole[:gamma],... to induce (required)")
	gamma := fs.Float64("gamma", 1.4, "intensity for items without their own gamma")
	policy := fs.String("policy", string(analysis.PolicySkip), "conflict policy: skip, add or clamp")
	noClamp := fs.Bool("no-clamp", false, "do not clamp the opposite poles")
	shape := fs.String("model-shape", "", "model layers and FFN neurons per layer, L,N")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *dir == "" || *induce == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "npti plan: --neurons and --induce are required")
		fs.Usage()
		return errUsage
	}
	items, err := analysis.ParseInductions(*induce, *gamma)
	if err != nil {
		return err
	}
	pol, err := analysis.ParsePolicy(*policy)
	if err != nil {
		return err
	}
	sets, err := analysis.LoadSets(*dir)
	if err != nil {
		return err
	}
	layers, neurons := sets.Shape()
	if *shape != "" {
		l, n, ok := strings.Cut(*shape, ",")
		var errL, errN error
		layers, errL = strconv.Atoi(strings.TrimSpace(l))
		neurons, errN = strconv.Atoi(strings.TrimSpace(n))
		if !ok || errL != nil || errN != nil || layers <= 0 || neurons <= 0 {
			return fmt.Errorf("bad --model-shape %q (want layers,neurons, e.g. 32,14336)", *shape)
		}
	}
	p := analysis.DefaultPlan(items...)
	p.Policy, p.ClampOpposite = pol, !*noClamp
	_, rep, err := p.Build(sets, layers, neurons)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "model shape %d layers x %d neurons; policy %s; clamp opposite %v\n", layers, neurons, pol, p.ClampOpposite)
	fmt.Fprintf(stdout, "%5s %8s %8s %10s\n", "layer", "add", "clamp", "conflicts")
	for _, lc := range rep.PerLayer {
		if lc.Add+lc.Clamp+lc.Conflicts > 0 {
			fmt.Fprintf(stdout, "%5d %8d %8d %10d\n", lc.Layer, lc.Add, lc.Clamp, lc.Conflicts)
		}
	}
	_, err = fmt.Fprintf(stdout, "%5s %8d %8d %10d\n", "total", rep.Add, rep.Clamp, rep.Conflicts)
	return err
}
