package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/resources"
)

// identifySummary is the `npti identify --json` output.
type identifySummary struct {
	Out       string           `json:"out"`
	Mode      string           `json:"mode"`
	Items     int              `json:"items"`
	Tokens    int64            `json:"tokens"`
	ElapsedS  float64          `json:"elapsed_s"`
	ItemsMin  float64          `json:"items_per_min"`
	TokensS   float64          `json:"tokens_per_s"`
	PerAspect []map[string]any `json:"aspects"`
}

// runIdentify implements `npti identify`:
//
//	npti identify --model M [--data DIR [--split test|search]] [--traits a,b] [--mode npti|prompt|teacher]
//	  [--chat auto|true|false] [--max-new-tokens N] [--questions N] [--lines A-B]
//	  [--batch N] [--seed S] [--shard i/n] --out STATS [--resume] [--json]
func runIdentify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("identify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model, opts := modelFlags(fs)
	data := fs.String("data", "", "PersonalityBench folder (default: the built-in probe set)")
	split := fs.String("split", analysis.SplitTest, "question split of --data: test or search (NPTI identifies on search; test is the default for compatibility)")
	traits := fs.String("traits", "", "comma-separated traits, both poles each (default: all)")
	mode := fs.String("mode", analysis.IdentifyNPTI, "npti (generate, count generated tokens), prompt (teacher-force the prompt) or teacher (teacher-force descriptions)")
	chatFlag := fs.String("chat", "auto", "use the chat template: auto, true or false")
	maxNew := fs.Int("max-new-tokens", 500, "new tokens per answer (npti mode)")
	rep := fs.Float64("repetition-penalty", 1.1, "repetition penalty (npti mode)")
	questions := fs.Int("questions", 0, "questions per trait (0: all)")
	lines := fs.String("lines", "", "description lines A-B (0-based, inclusive; default all)")
	batch := fs.Int("batch", 8, "items per forward batch")
	seed := fs.Uint64("seed", 0, "seed of the random description drawn per question")
	shard := fs.String("shard", "0/1", "run items i, i+n, ... of each aspect (i/n)")
	out := fs.String("out", "", "stats folder to write (required)")
	every := fs.Int("checkpoint-every", 4, "batches between checkpoints")
	interval := fs.Duration("checkpoint-interval", 10*time.Minute, "also checkpoint after a batch that ends this long after the last checkpoint (0: by batches only)")
	resume := fs.Bool("resume", false, "continue the run checkpointed in --out")
	asJSON := fs.Bool("json", false, "print a JSON summary")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *model == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "npti identify: need --model and --out")
		fs.Usage()
		return errUsage
	}
	req := analysis.IdentifyRequest{Mode: *mode, MaxNewTokens: *maxNew, RepetitionPenalty: *rep, Questions: *questions,
		Batch: *batch, Seed: *seed, Out: *out, CheckpointEvery: *every, CheckpointInterval: *interval, Resume: *resume, ToolVersion: Version}
	var err error
	if req.Chat, err = analysis.ParseChatMode(*chatFlag); err != nil {
		return err
	}
	if req.Bench, req.DataSource, err = loadBenchFlag(*data, *split); err != nil {
		return err
	}
	req.Split = *split
	if req.Aspects, err = parseTraitAspects(*traits); err != nil {
		return err
	}
	if req.Shard, req.Shards, err = parseShard(*shard); err != nil {
		return err
	}
	if *lines != "" {
		lo, hi, err := analysis.ParseLayerRange(*lines)
		if err != nil || hi < 0 {
			return fmt.Errorf("bad --lines %q (want A-B)", *lines)
		}
		req.Lines = [2]int{lo, hi + 1}
		req.DataSource += fmt.Sprintf(" lines %d-%d", lo, hi)
	}
	l, err := openModel(ctx, *model, *opts, stderr)
	if err != nil {
		return err
	}
	bar := newProgressLine(stderr)
	start := time.Now()
	set, err := analysis.Identify(ctx, newRunner(l), req, bar.update)
	bar.finish()
	if errors.Is(err, analysis.ErrInterrupted) {
		return fmt.Errorf("%w\ncheckpoint saved in %s: run the same command with --resume to continue", err, *out)
	}
	if err != nil {
		return err
	}
	return identifyReport(stdout, set, req, *out, time.Since(start), bar.last, *asJSON)
}

// identifyReport prints what was identified.
func identifyReport(w io.Writer, set *analysis.StatsSet, req analysis.IdentifyRequest, out string, el time.Duration, p analysis.Progress, asJSON bool) error {
	s := identifySummary{Out: out, Mode: req.Mode, Items: p.Done, Tokens: p.Tokens, ElapsedS: el.Seconds(),
		ItemsMin: p.Rate(), TokensS: p.TokensPerSecond()}
	for _, a := range analysis.Aspects() {
		if st := set.Poles[a]; st != nil {
			s.PerAspect = append(s.PerAspect, map[string]any{"aspect": a.Key(), "tokens": st.Tokens})
		}
	}
	if asJSON {
		return json.NewEncoder(w).Encode(s)
	}
	for _, a := range s.PerAspect {
		fmt.Fprintf(w, "%-27s %9d tokens counted\n", a["aspect"], a["tokens"])
	}
	_, err := fmt.Fprintf(w, "%d items in %s (%.1f items/min, %.0f tok/s); statistics in %s\n",
		s.Items, el.Round(time.Millisecond), s.ItemsMin, s.TokensS, out)
	return err
}

// loadBenchFlag loads the questions split of a PersonalityBench folder, or
// the built-in probe set (test split only) when dir is empty, and names
// the source (the split is named when it is not the test split).
func loadBenchFlag(dir, split string) (*analysis.Bench, string, error) {
	if err := analysis.CheckSplit(split); err != nil {
		return nil, "", fmt.Errorf("bad --split: %w", err)
	}
	if dir == "" {
		if split != analysis.SplitTest {
			return nil, "", fmt.Errorf("--split %s needs --data: the built-in probe set has only a test split", split)
		}
		b, err := analysis.LoadBench(resources.Probes(), ".")
		return b, "builtin:probes", err
	}
	b, err := analysis.LoadBenchDirSplit(dir, split)
	source := "personalitybench:" + dir
	if split != analysis.SplitTest {
		source += " split " + split
	}
	return b, source, err
}

// parseTraitAspects turns "a,b" into both poles of each trait (nil for "").
func parseTraitAspects(s string) ([]analysis.Aspect, error) {
	if s == "" {
		return nil, nil
	}
	var out []analysis.Aspect
	for _, p := range []analysis.Pole{analysis.High, analysis.Low} {
		for _, name := range strings.Split(s, ",") {
			t, err := analysis.ParseTrait(name)
			if err != nil {
				return nil, err
			}
			out = append(out, analysis.Aspect{Trait: t, Pole: p})
		}
	}
	return out, nil
}

// parseShard parses "i/n" with 0 <= i < n.
func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("bad --shard %q (want i/n with 0 <= i < n)", s)
	}
	return i, n, nil
}

// progressLine draws a one-line progress bar on a terminal (\r), at most
// a few times a second.
type progressLine struct {
	w     io.Writer
	last  analysis.Progress
	drawn time.Time
	any   bool
}

func newProgressLine(w io.Writer) *progressLine { return &progressLine{w: w} }

func (b *progressLine) update(p analysis.Progress) {
	b.last = p
	if time.Since(b.drawn) < 200*time.Millisecond && p.Remaining() > 0 {
		return
	}
	b.drawn, b.any = time.Now(), true
	fmt.Fprintf(b.w, "\r%s\x1b[K", p.Bar(30))
}

func (b *progressLine) finish() {
	if b.any {
		fmt.Fprintln(b.w)
	}
}
