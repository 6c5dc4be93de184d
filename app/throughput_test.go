package app

import (
	"context"
	"hash/fnv"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/resources"
)

// wordRunner gives a tokenizer-less synthetic model a word-hash tokenizer
// (about one id per word, like a real BPE on English) for throughput runs.
type wordRunner struct {
	*runner
	vocab int
}

func (w wordRunner) Tokenize(text string, special bool) ([]int, error) {
	var ids []int
	if special {
		ids = append(ids, w.BOS())
	}
	for _, f := range strings.Fields(text) {
		h := fnv.New32a()
		h.Write([]byte(f))
		ids = append(ids, 3+int(h.Sum32())%(w.vocab-3))
	}
	return ids, nil
}

func (w wordRunner) Detokenize([]int) string { return "" }

// TestIdentifyThroughput measures identification speed (items/min,
// tokens/s) on a model of a named shape with random weights. It runs only
// when NPTI_THROUGHPUT names the shape (e.g. smollm2-135m, persona-tiny);
// NPTI_THROUGHPUT_MODE picks the mode (default teacher).
func TestIdentifyThroughput(t *testing.T) {
	shape := os.Getenv("NPTI_THROUGHPUT")
	if shape == "" {
		t.Skip("set NPTI_THROUGHPUT=smollm2-135m to measure")
	}
	m, err := inference.Synthesize(shape, 1, inference.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := wordRunner{newRunner(&loaded{model: m}), m.Config.VocabSize}
	bench, err := analysis.LoadBench(resources.Probes(), ".")
	if err != nil {
		t.Fatal(err)
	}
	mode := os.Getenv("NPTI_THROUGHPUT_MODE")
	if mode == "" {
		mode = analysis.IdentifyTeacher
	}
	req := analysis.IdentifyRequest{Mode: mode, Bench: bench, Lines: [2]int{0, 16}, Questions: 8, MaxNewTokens: 64,
		Aspects: []analysis.Aspect{{Trait: analysis.Extraversion, Pole: analysis.High}}}
	start := time.Now()
	var last analysis.Progress
	if _, err := analysis.Identify(context.Background(), r, req, func(p analysis.Progress) { last = p }); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s: %d items, %d tokens in %s: %.1f items/min, %.0f tok/s", shape, mode, last.Done, last.Tokens,
		time.Since(start).Round(time.Millisecond), last.Rate(), last.TokensPerSecond())
}
