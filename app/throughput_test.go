package app

import (
	"context"
	"hash/fnv"
	"os"
	"strings"
	"testing"

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

// BenchmarkIdentifyThroughput measures identification speed (items/min,
// tokens/s) with `npti identify`'s code path on a model with random
// weights: the SmolLM2-135M shape, or the shape NPTI_THROUGHPUT names;
// NPTI_THROUGHPUT_MODE picks the mode (default teacher).
//
//	GOEXPERIMENT=simd go test -run x -bench IdentifyThroughput -benchtime 1x ./app/
func BenchmarkIdentifyThroughput(b *testing.B) {
	shape := os.Getenv("NPTI_THROUGHPUT")
	if shape == "" {
		shape = "smollm2-135m"
	}
	m, err := inference.Synthesize(shape, 1, inference.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	r := wordRunner{newRunner(&loaded{model: m}), m.Config.VocabSize}
	bench, err := analysis.LoadBench(resources.Probes(), ".")
	if err != nil {
		b.Fatal(err)
	}
	mode := os.Getenv("NPTI_THROUGHPUT_MODE")
	if mode == "" {
		mode = analysis.IdentifyTeacher
	}
	req := analysis.IdentifyRequest{Mode: mode, Bench: bench, Lines: [2]int{0, 16}, Questions: 8, MaxNewTokens: 64,
		Aspects: []analysis.Aspect{{Trait: analysis.Extraversion, Pole: analysis.High}}}
	var last analysis.Progress
	for b.Loop() {
		if _, err := analysis.Identify(context.Background(), r, req, func(p analysis.Progress) { last = p }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(last.Rate(), "items/min")
	b.ReportMetric(last.TokensPerSecond(), "tok/s")
}
