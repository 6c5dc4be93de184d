package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/hook"
)

// runGenerate implements `npti generate`.
func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model, load := modelFlags(fs)
	prompt := fs.String("prompt", "", "prompt text")
	promptIDs := fs.String("prompt-ids", "", "prompt token ids, used verbatim (no BOS added)")
	useChat := fs.Bool("chat", false, "wrap the prompt in the model's chat template")
	maxTokens := fs.Int("max-tokens", 128, "new tokens at most")
	temp := fs.Float64("temperature", 0, "sampling temperature (0 = greedy)")
	topK := fs.Int("top-k", 0, "top-k filter (0 = off)")
	topP := fs.Float64("top-p", 1, "top-p filter (1 = off)")
	rep := fs.Float64("repetition-penalty", 1, "repetition penalty (1 = off)")
	seed := fs.Uint64("seed", 0, "random seed")
	neurons := fs.String("neurons", "", "folder of neuron dict files (<Trait>_dict.json, <Trait>_reversed_dict.json)")
	trait := fs.String("trait", "", "trait to induce (with --neurons)")
	pole := fs.String("pole", "high", "pole to induce: high or low")
	gamma := fs.Float64("gamma", 1.4, "induction intensity γ")
	maskFrac := fs.Float64("mask-fraction", 0.9, "fraction of the add set applied per step (NPTI 0.9)")
	scope := fs.String("scope", "generated", "positions edited: generated (NPTI) or all")
	asJSON := fs.Bool("json", false, "print one JSON object {ids, text}")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *model == "" || (*prompt == "") == (*promptIDs == "") {
		return errors.New("need --model and exactly one of --prompt or --prompt-ids")
	}
	sampling := inference.Sampling{Temperature: *temp, TopK: *topK, TopP: *topP, RepetitionPenalty: *rep, Seed: *seed}
	if err := sampling.Validate(); err != nil {
		return err
	}
	if *topP == 0 && *temp > 0 {
		// transformers keeps the most likely token at top_p 0, vLLM
		// refuses it; here 0 used to mean off: refused where it matters.
		return errors.New("--top-p 0 is ambiguous when sampling: give a value in (0, 1] (1 = off)")
	}
	if *useChat && *promptIDs != "" {
		fmt.Fprintln(stderr, "npti generate: warning: --chat applies to --prompt text; --prompt-ids are used verbatim")
	}
	steering := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "trait", "pole", "gamma", "mask-fraction", "scope":
			steering = true
		}
	})
	if steering && *neurons == "" {
		return errors.New("--trait, --pole, --gamma, --mask-fraction and --scope steer through --neurons DIR: give it")
	}
	l, err := openModel(ctx, *model, *load, stderr)
	if err != nil {
		return err
	}
	var ids []int
	if *promptIDs != "" {
		ids, err = parseIDs(*promptIDs)
	} else {
		ids, err = l.encodePrompt(*prompt, *useChat)
	}
	if err != nil {
		return err
	}
	stops := newRunner(l).EOS()
	opts := inference.GenerateOptions{MaxTokens: *maxTokens, StopIDs: stops, Sampling: sampling}
	if *neurons != "" {
		o, err := inductionOverride(l.model, *neurons, *trait, *pole, *gamma, *maskFrac, *scope, *seed)
		if err != nil {
			return err
		}
		opts.Override = o
	}
	var stream *streamPrinter
	if !*asJSON && l.tok != nil {
		stream = &streamPrinter{w: stdout, dec: l.tok.NewStream()}
		opts.OnToken = func(_, id int) {
			if !slices.Contains(stops, id) {
				stream.add(id)
			}
		}
	}
	out, err := l.model.Generate(ctx, [][]int{ids}, opts)
	if err != nil {
		return err
	}
	gen := out[0]
	text := ""
	if l.tok != nil {
		text = l.tok.Decode(stripStop(gen, stops))
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"ids": nonNil(gen), "text": text})
	}
	if stream != nil {
		stream.flush()
		_, err = fmt.Fprintln(stdout)
		return err
	}
	_, err = fmt.Fprintln(stdout, formatIDs(gen))
	return err
}

// inductionOverride builds the NPTI override of one trait pole from dict files.
func inductionOverride(m *inference.Model, dir, traitName, poleName string, gamma, frac float64, scopeName string, seed uint64) (*hook.Override, error) {
	tr, err := analysis.ParseTrait(traitName)
	if err != nil {
		return nil, err
	}
	p, err := analysis.ParsePole(poleName)
	if err != nil {
		return nil, err
	}
	sc, err := hook.ParseScope(scopeName)
	if err != nil {
		return nil, err
	}
	sets, err := analysis.LoadSets(dir)
	if err != nil {
		return nil, err
	}
	if err := sets.Validate(m.Layers(), m.Neurons()); err != nil {
		return nil, err
	}
	plan := analysis.Plan{Items: []analysis.Induction{{Trait: tr, Pole: p, Gamma: gamma}},
		MaskFraction: frac, Seed: seed, Scope: sc, ClampOpposite: true, Policy: analysis.PolicySkip}
	o, _, err := plan.Build(sets, m.Layers(), m.Neurons())
	return o, err
}

// streamPrinter writes decoded text as tokens arrive.
type streamPrinter struct {
	w   io.Writer
	dec interface {
		Add(int) string
		Flush() string
	}
}

func (s *streamPrinter) add(id int) { io.WriteString(s.w, s.dec.Add(id)) }
func (s *streamPrinter) flush()     { io.WriteString(s.w, s.dec.Flush()) }

func stripStop(ids, stops []int) []int {
	if n := len(ids); n > 0 {
		for _, s := range stops {
			if ids[n-1] == s {
				return ids[:n-1]
			}
		}
	}
	return ids
}

func nonNil(ids []int) []int {
	if ids == nil {
		return []int{}
	}
	return ids
}

func formatIDs(ids []int) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprint(id)
	}
	return s
}
