package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/hook"
)

// Openings are the neutral openings continued by a base model that has no
// chat template (--openings): the persona-tiny reference's 20 prompts.
var Openings = []string{
	"<s>You are", "<s>You are a person who", "<s>You", "<s>Your", "<s>You have", "<s>You tend to",
	"<s>You are someone who", "<s>You often", "<s>You are known for", "<s>You are an individual",
	"<s>You value", "<s>You enjoy", "<s>You find", "<s>You prefer", "<s>People see you as",
	"<s>In daily life, you", "<s>When you meet new people, you", "<s>At work, you", "<s>Your friends", "<s>You are the kind of person",
}

// induceFlags are the flags shared by induce and sweep.
type induceFlags struct {
	load                                                                              *inference.Options
	model, neurons, stats, induce, policy, data, questionsFile, scope, template, chat *string
	split                                                                             *string
	gamma, maskFrac, rep                                                              *float64
	openings, noClamp                                                                 *bool
	limit, maxNew                                                                     *int
	seed                                                                              *uint64
}

func addInduceFlags(fs *flag.FlagSet) *induceFlags {
	return &induceFlags{
		model:         fs.String("model", "", "model folder, llama2.c file or HF repo id"),
		load:          runtimeFlags(fs),
		neurons:       fs.String("neurons", "", "folder of neuron dict files"),
		stats:         fs.String("stats", "", "stats folder to select the sets from with the NPTI rule (instead of --neurons)"),
		induce:        fs.String("induce", "", "trait:pole[:gamma][,trait:pole...] to induce"),
		policy:        fs.String("policy", "skip", "conflict policy between items: skip, add or clamp"),
		data:          fs.String("data", "", "PersonalityBench folder (default: the built-in probe set)"),
		split:         fs.String("split", analysis.SplitTest, "question split of --data: test (NPTI evaluates on it) or search"),
		questionsFile: fs.String("questions-file", "", `JSON Lines file of {"question": ...}`),
		scope:         fs.String("scope", "generated", "edited positions: generated (NPTI) or all"),
		template:      fs.String("template", "", "custom prompt with a {question} placeholder (default: the NPTI neutral prompt)"),
		chat:          fs.String("chat", "auto", "use the chat template: auto, true or false"),
		gamma:         fs.Float64("gamma", 1.4, "induction intensity γ"),
		maskFrac:      fs.Float64("mask-fraction", 0.9, "share of the add set applied per step (NPTI 0.9)"),
		rep:           fs.Float64("repetition-penalty", 1.15, "repetition penalty"),
		openings:      fs.Bool("openings", false, "continue the built-in neutral openings (base models)"),
		noClamp:       fs.Bool("no-clamp", false, "do not clamp the opposite pole"),
		limit:         fs.Int("limit", 0, "questions at most (0: all)"),
		maxNew:        fs.Int("max-new-tokens", 400, "new tokens per answer"),
		seed:          fs.Uint64("seed", 0, "seed of the add mask and of the persona baseline"),
	}
}

// request builds the induce request (and returns the loaded model's runner).
func (f *induceFlags) request(ctx context.Context, stderr io.Writer) (analysis.InduceRequest, *runner, error) {
	var q analysis.InduceRequest
	if *f.model == "" || *f.induce == "" {
		return q, nil, errors.New("need --model, --induce and one of --neurons or --stats")
	}
	items, err := analysis.ParseInductions(*f.induce, *f.gamma)
	if err != nil {
		return q, nil, err
	}
	pol, err := analysis.ParsePolicy(*f.policy)
	if err != nil {
		return q, nil, err
	}
	sc, err := hook.ParseScope(*f.scope)
	if err != nil {
		return q, nil, err
	}
	if q.Chat, err = analysis.ParseChatMode(*f.chat); err != nil {
		return q, nil, err
	}
	q.Plan = analysis.Plan{Items: items, MaskFraction: *f.maskFrac, Seed: *f.seed, Scope: sc, ClampOpposite: !*f.noClamp, Policy: pol}
	if q.Sets, err = neuronSets(*f.neurons, *f.stats); err != nil {
		return q, nil, err
	}
	bench, _, err := loadBenchFlag(*f.data, *f.split)
	if err != nil {
		return q, nil, err
	}
	q.Descriptions = bench.Descriptions
	switch {
	case *f.openings && *f.questionsFile != "":
		return q, nil, errors.New("give at most one of --openings and --questions-file")
	case *f.openings:
		q.Questions, q.Plain = Openings, true
	case *f.questionsFile != "":
		fh, err := os.Open(*f.questionsFile)
		if err != nil {
			return q, nil, err
		}
		q.Questions, err = analysis.ParseQuestions(*f.questionsFile, fh)
		fh.Close()
		if err != nil {
			return q, nil, err
		}
	default:
		q.Questions = bench.Questions[items[0].Trait]
		if len(q.Questions) == 0 {
			return q, nil, fmt.Errorf("the data has no questions for %s", items[0].Trait)
		}
	}
	if *f.limit > 0 && *f.limit < len(q.Questions) {
		q.Questions = q.Questions[:*f.limit]
	}
	q.Template, q.MaxNewTokens, q.RepetitionPenalty = *f.template, *f.maxNew, *f.rep
	l, err := openModel(ctx, *f.model, *f.load, stderr)
	if err != nil {
		return q, nil, err
	}
	r := newRunner(l)
	layers, neurons := r.Shape()
	if err := q.Sets.Validate(layers, neurons); err != nil {
		return q, nil, err
	}
	return q, r, nil
}

// runInduce implements `npti induce`:
//
//	npti induce --model M --neurons DIR --induce extraversion:high[,neuroticism:low]
//	  [--gamma G] [--policy skip|add|clamp] [--conditions unsteered,induced,adjective,persona]
//	  [--data DIR [--split test|search] | --questions-file F | --openings] [--limit N] [--max-new-tokens N]
//	  [--mask-fraction F] [--scope generated|all] [--seed S] --out answers.jsonl [--resume]
func runInduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("induce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addInduceFlags(fs)
	conds := fs.String("conditions", "unsteered,induced", "conditions: unsteered, induced, adjective, persona")
	out := fs.String("out", "", "answers file to append to (JSON Lines, required)")
	resume := fs.Bool("resume", false, "skip the answers already in --out")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "npti induce: need --out")
		fs.Usage()
		return errUsage
	}
	q, r, err := f.request(ctx, stderr)
	if err != nil {
		return err
	}
	q.Conditions = strings.Split(*conds, ",")
	w, done, err := analysis.OpenAnswers(*out, *resume)
	if err != nil {
		return err
	}
	q.Done = done
	n := 0
	err = analysis.Induce(ctx, r, q, func(a analysis.Answer) error {
		n++
		fmt.Fprintf(stderr, "\r%d answers (question %d of %d)\x1b[K", n, a.Index+1, len(q.Questions))
		return w.Write(a)
	})
	if n > 0 {
		fmt.Fprintln(stderr)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w\n%d answers kept in %s: run the same command with --resume to continue", err, n, *out)
		}
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %d answers to %s (%d already there)\n", n, *out, analysis.AnswersDone(done))
	return err
}
