package analysis

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/npti-studio/npti/inference/hook"
)

// fakeRunner is a deterministic stand-in for a model: a byte tokenizer,
// activations that are a fixed function of (token, layer, neuron), and a
// generator that continues with (last*7+3) mod 50 and stops at EOS. The
// override shifts generated ids, so steered rows differ from unsteered.
type fakeRunner struct {
	layers, neurons int
	mu              sync.Mutex
	generateCalls   [][]bool // OverrideRows of each Generate call
	batchSizes      []int
	// failAt, when > 0, makes call number failAt (TeacherForce or
	// Generate) count its first row and then fail with context.Canceled
	// after calling cancel: an interruption in the middle of a batch.
	failAt, calls int
	cancel        func()
}

// interrupted counts a call and reports whether it must fail midway.
func (f *fakeRunner) interrupted() bool {
	f.calls++
	if f.failAt > 0 && f.calls == f.failAt {
		f.cancel()
		return true
	}
	return false
}

const fakeEOS = 2

func newFake() *fakeRunner { return &fakeRunner{layers: 2, neurons: 5} }

func (f *fakeRunner) Shape() (int, int)           { return f.layers, f.neurons }
func (f *fakeRunner) ModelInfo() (string, string) { return "fake", "hash1" }
func (f *fakeRunner) BOS() int                    { return 1 }
func (f *fakeRunner) EOS() []int                  { return []int{fakeEOS} }

func (f *fakeRunner) Tokenize(text string, special bool) ([]int, error) {
	var ids []int
	if special {
		ids = append(ids, 1)
	}
	for _, b := range []byte(text) {
		ids = append(ids, 3+int(b))
	}
	return ids, nil
}

func (f *fakeRunner) ChatPrompt(string) ([]int, bool, error) { return nil, false, nil }

func (f *fakeRunner) Detokenize(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id != fakeEOS {
			fmt.Fprintf(&b, "w%d ", id)
		}
	}
	return strings.TrimSpace(b.String())
}

// act is the activation of neuron (l, i) at a position holding token tok.
func (f *fakeRunner) act(tok, l, i int) float32 {
	return float32((tok*31+l*7+i*13)%23-8) / 10
}

func (f *fakeRunner) count(st *hook.Stats, tok int) {
	st.Tokens++
	for l := 0; l < f.layers; l++ {
		for i := 0; i < f.neurons; i++ {
			a := f.act(tok, l, i)
			k := l*f.neurons + i
			if a > 0 {
				st.Active[k]++
			}
			if st.Hist != nil {
				st.Hist[k*hook.Bins+hook.BinOf(a)]++
			}
		}
	}
}

func (f *fakeRunner) TeacherForce(ctx context.Context, seqs [][]int, _ *hook.Override, st *hook.Stats) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.batchSizes = append(f.batchSizes, len(seqs))
	f.mu.Unlock()
	fail := f.interrupted()
	for _, s := range seqs {
		for _, tok := range s {
			if st != nil {
				f.count(st, tok)
			}
		}
		if fail {
			return context.Canceled
		}
	}
	return nil
}

func (f *fakeRunner) LogProbs(ctx context.Context, seqs [][]int) ([][]float64, error) {
	out := make([][]float64, len(seqs))
	for b, s := range seqs {
		for t := 1; t < len(s); t++ {
			out[b] = append(out[b], -math.Log(2)*float64(1+s[t]%3))
		}
	}
	return out, ctx.Err()
}

func (f *fakeRunner) Generate(ctx context.Context, prompts [][]int, g GenSpec) ([][]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.generateCalls = append(f.generateCalls, slices.Clone(g.OverrideRows))
	f.mu.Unlock()
	fail := f.interrupted()
	out := make([][]int, len(prompts))
	for b, p := range prompts {
		last := p[len(p)-1]
		steered := g.Override != nil && (g.OverrideRows == nil || g.OverrideRows[b])
		for n := 0; n < g.MaxTokens; n++ {
			if n > 0 && g.Capture != nil {
				f.count(g.Capture, last) // decode step feeding the previous token
			}
			next := (last*7 + 3) % 50
			if steered {
				next = 10 + (next+1)%40
			}
			out[b] = append(out[b], next)
			if next == fakeEOS {
				break
			}
			last = next
		}
		if fail {
			return out, context.Canceled
		}
	}
	return out, nil
}
