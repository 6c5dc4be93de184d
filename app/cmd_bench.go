package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/hook"
)

// benchResult is the `npti bench --json` contract.
type benchResult struct {
	PrefillTokS float64 `json:"prefill_tok_s"`
	DecodeTokS  float64 `json:"decode_tok_s"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	Backend     string  `json:"backend"`
	// Added after the first four (same meaning for them):
	Weights         string  `json:"weights"`            // "f32" or "bf16": how the matrices are held
	WeightsMB       float64 `json:"weights_mb"`         // their size in memory, MiB
	DecodePeakRSSMB float64 `json:"decode_peak_rss_mb"` // peak RSS after loading and decoding, before prefill and its NPTI statistics
}

// runBench implements `npti bench`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model, opts := modelFlags(fs)
	shape := fs.String("shape", "", "synthesize a random model of this shape instead: "+strings.Join(inference.ShapeNames(), ", "))
	batch := fs.Int("batch", 4, "prefill batch size")
	length := fs.Int("length", 128, "prefill length per sequence")
	decode := fs.Int("decode-tokens", 64, "greedy decode tokens (batch 1)")
	runs := fs.Int("runs", 3, "timed runs of each measurement; the median is reported (this machine's speed varies from run to run)")
	asJSON := fs.Bool("json", false, `print {"prefill_tok_s", "decode_tok_s", "peak_rss_mb", "backend", "weights", "weights_mb", "decode_peak_rss_mb"}`)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if (*model == "") == (*shape == "") {
		return errors.New("need exactly one of --model or --shape")
	}
	if *runs < 1 || *batch < 1 || *length < 1 || *decode < 2 {
		return errors.New("--runs, --batch and --length must be at least 1, --decode-tokens at least 2")
	}
	var m *inference.Model
	var err error
	if *shape != "" {
		m, err = inference.Synthesize(*shape, 1, *opts)
	} else {
		var path string
		if path, err = resolveModelArg(ctx, *model, stderr); err == nil { // a repo id downloads, as in generate
			m, err = inference.Load(path, *opts)
		}
	}
	if err != nil {
		return err
	}
	budgetHeap(m.WeightBytes())
	r, err := benchModel(ctx, m, *batch, *length, *decode, *runs)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	_, err = fmt.Fprintf(stdout, "backend %s, %s weights (%.0f MiB)\ngreedy decode (batch 1, %d tokens): %.1f tok/s (peak RSS so far %.0f MiB)\nprefill with capture (%dx%d): %.1f tok/s\npeak RSS: %.0f MiB\n",
		r.Backend, r.Weights, r.WeightsMB, *decode, r.DecodeTokS, r.DecodePeakRSSMB, *batch, *length, r.PrefillTokS, r.PeakRSSMB)
	return err
}

// benchModel measures greedy decode, then prefill with NPTI capture. Each
// measurement runs once untimed first, so compilation is not counted, then
// runs times; the medians are reported.
func benchModel(ctx context.Context, m *inference.Model, batch, length, decode, runs int) (benchResult, error) {
	rng := rand.New(rand.NewPCG(7, 7))
	seqs := make([][]int, batch)
	for b := range seqs {
		seqs[b] = make([]int, length)
		for i := range seqs[b] {
			seqs[b][i] = rng.IntN(m.Config.VocabSize)
		}
	}
	r := benchResult{Backend: m.BackendName(), Weights: m.WeightDType(), WeightsMB: float64(m.WeightBytes()) / (1 << 20)}

	// Decode first, so its peak RSS is the model's alone: the time from the
	// first generated token (the end of the prompt's prefill) to the last,
	// over decode-1 decode steps of one graph shape.
	prompt := [][]int{seqs[0][:min(16, length)]}
	gen := func() (time.Duration, error) {
		var first, last time.Time
		n := 0
		_, err := m.Generate(ctx, prompt, inference.GenerateOptions{MaxTokens: decode, IgnoreEOS: true,
			OnToken: func(_, _ int) {
				if n++; n == 1 {
					first = time.Now()
				}
				last = time.Now()
			}})
		return last.Sub(first), err
	}
	if _, err := gen(); err != nil { // compiles the decode graphs
		return r, err
	}
	var dec []float64
	for range runs {
		d, err := gen()
		if err != nil {
			return r, err
		}
		if d > 0 {
			dec = append(dec, float64(decode-1)/d.Seconds())
		}
	}
	r.DecodeTokS = median(dec)
	r.DecodePeakRSSMB = peakRSSMB()

	// Prefill with NPTI capture: counts and histograms of every neuron.
	st := hook.NewStats(m.Layers(), m.Neurons(), true)
	prefill := func() error {
		_, err := m.Forward(ctx, seqs, inference.ForwardOptions{Capture: st})
		return err
	}
	if err := prefill(); err != nil {
		return r, err
	}
	var pre []float64
	for range runs {
		t0 := time.Now()
		if err := prefill(); err != nil {
			return r, err
		}
		pre = append(pre, float64(batch*length)/time.Since(t0).Seconds())
	}
	r.PrefillTokS = median(pre)
	r.PeakRSSMB = peakRSSMB()
	return r, nil
}

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	return (s[(n-1)/2] + s[n/2]) / 2
}

// peakRSSMB reads the peak resident set size (VmHWM) of this process.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
