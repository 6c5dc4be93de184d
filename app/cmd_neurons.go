package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/npti-studio/npti/analysis"
)

// runNeurons selects personality neurons from a stats folder (or re-exports
// and re-cuts existing dict files) and writes the official dict files:
//
//	npti neurons (--stats STATS | --from DIR) --out DIR [--traits a,b]
//	  [--rule npti|threshold|topk] [--min-fraction F] [--min-count N]
//	  [--threshold T] [--top-k K] [--per-layer-cap C] [--layers A-B]
//	  [--layers-count L --neurons-count N] [--json]
//
// With --from the rule is applied only when a rule flag is given.
func runNeurons(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("neurons", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := analysis.DefaultRule()
	stats := fs.String("stats", "", "stats folder written by identification")
	from := fs.String("from", "", "folder of existing <Trait>_dict.json files to re-export")
	out := fs.String("out", "", "folder to write the dict files to (required)")
	traits := fs.String("traits", "", "comma-separated traits (default: all available)")
	mode := fs.String("rule", def.Mode, "selection rule: npti, threshold or topk")
	minFrac := fs.Float64("min-fraction", def.MinFraction, "NPTI minimum as a fraction of all neurons")
	minCount := fs.Int("min-count", 0, "NPTI minimum as a count (overrides --min-fraction)")
	threshold := fs.Float64("threshold", def.Threshold, "diff a neuron needs")
	topK := fs.Int("top-k", 0, "set size for --rule topk")
	perLayer := fs.Int("per-layer-cap", 0, "at most this many neurons per layer (0: no cap)")
	layerRange := fs.String("layers", "", "layer range A-B (default: all)")
	layersCount := fs.Int("layers-count", 0, "model layers, to validate --from")
	neuronsCount := fs.Int("neurons-count", 0, "model FFN neurons per layer, to validate --from")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if (*stats == "") == (*from == "") || *out == "" || fs.NArg() > 0 || (*layersCount > 0) != (*neuronsCount > 0) {
		fmt.Fprintln(stderr, "npti neurons: give exactly one of --stats or --from, and --out (--layers-count with --neurons-count)")
		fs.Usage()
		return errUsage
	}
	r := analysis.Rule{Mode: *mode, MinCount: *minCount, MinFraction: *minFrac, Threshold: *threshold,
		TopK: *topK, PerLayerCap: *perLayer, LayerMax: -1}
	if *layerRange != "" {
		lo, hi, err := analysis.ParseLayerRange(*layerRange)
		if err != nil {
			return err
		}
		r.LayerMin, r.LayerMax = lo, hi
	}
	var ts []analysis.Trait
	if *traits != "" {
		for _, name := range strings.Split(*traits, ",") {
			t, err := analysis.ParseTrait(name)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
	}
	var sets analysis.Sets
	var err error
	if *stats != "" {
		sets, err = neuronsFromStats(*stats, ts, r)
	} else {
		ruleFlags := []string{"rule", "min-fraction", "min-count", "threshold", "top-k", "per-layer-cap", "layers"}
		ruleGiven := false
		fs.Visit(func(f *flag.Flag) { ruleGiven = ruleGiven || slices.Contains(ruleFlags, f.Name) })
		sets, err = neuronsFromDicts(*from, ts, r, ruleGiven, *layersCount, *neuronsCount)
	}
	if err != nil {
		return err
	}
	if err := analysis.SaveSets(*out, sets); err != nil {
		return err
	}
	return neuronsPrintSummary(stdout, sets, *out, *asJSON)
}

// neuronsFromStats selects the neurons of the requested traits.
func neuronsFromStats(dir string, ts []analysis.Trait, r analysis.Rule) (analysis.Sets, error) {
	s, err := analysis.LoadStats(dir)
	if err != nil {
		return nil, err
	}
	if err := r.Validate(s.Meta.Layers); err != nil {
		return nil, err
	}
	return analysis.SelectAll(s, ts, r)
}

// neuronsFromDicts reads dict files, keeps the requested traits, validates them
// against a model shape when given and re-cuts them when a rule is given.
func neuronsFromDicts(dir string, ts []analysis.Trait, r analysis.Rule, refine bool, layers, neurons int) (analysis.Sets, error) {
	in, err := analysis.LoadSets(dir)
	if err != nil {
		return nil, err
	}
	if layers > 0 {
		if err := in.Validate(layers, neurons); err != nil {
			return nil, err
		}
	} else {
		layers, neurons = in.Shape()
	}
	if refine {
		if err := r.Validate(layers); err != nil {
			return nil, err
		}
	}
	out := analysis.Sets{}
	for a, ns := range in {
		if len(ts) > 0 && !slices.Contains(ts, a.Trait) {
			continue
		}
		if refine {
			ns = analysis.Refine(ns, r, layers, neurons)
		}
		out[a] = ns
	}
	if len(out) == 0 {
		return nil, errors.New("no neuron set of the requested traits in " + dir)
	}
	return out, nil
}

// neuronsPrintSummary prints one line per aspect, or {"sets": [...]} as JSON.
func neuronsPrintSummary(w io.Writer, sets analysis.Sets, out string, asJSON bool) error {
	sum := sets.Summarize()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Sets []analysis.SetSummary `json:"sets"`
		}{sum})
	}
	for _, s := range sum {
		top := make([]string, len(s.TopLayers))
		for k, l := range s.TopLayers {
			top[k] = strconv.Itoa(l)
		}
		if _, err := fmt.Fprintf(w, "%-27s %7d neurons   top layers %s\n", s.Aspect, s.Count, strings.Join(top, ", ")); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "wrote %d dict files to %s\n", len(sum), out)
	return err
}
