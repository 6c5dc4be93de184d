package inference

import (
	"context"
	"fmt"
	"math"

	"github.com/npti-studio/npti/inference/hook"
)

// ForwardOptions configure Forward.
type ForwardOptions struct {
	// Override edits the FFN activations at every position (nil = none).
	Override *hook.Override
	// Capture accumulates activation statistics over every position of
	// every sequence (nil = none).
	Capture *hook.Stats
	// LogProbs asks for the log-probability of each next token.
	LogProbs bool
}

// Forward runs the sequences teacher-forced, as one padded batch, for
// statistics and scoring. With LogProbs it returns, per sequence, the
// log-probability of token t+1 given tokens 0..t (len-1 values).
func (m *Model) Forward(ctx context.Context, seqs [][]int, o ForwardOptions) ([][]float64, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	if err := m.checkHookArgs(o.Override, o.Capture); err != nil {
		return nil, err
	}
	maxLen := 0
	for i, s := range seqs {
		if len(s) == 0 {
			return nil, fmt.Errorf("inference: sequence %d is empty", i)
		}
		maxLen = max(maxLen, len(s))
	}
	if limit := m.Config.MaxPositions; limit > 0 && maxLen > limit {
		return nil, fmt.Errorf("inference: a sequence of %d tokens exceeds the model's %d positions", maxLen, limit)
	}
	if o.Capture != nil { // all or nothing: checked before any group counts
		var n int64
		for _, s := range seqs {
			n += int64(len(s))
		}
		if err := o.Capture.CheckRoom(n); err != nil {
			return nil, err
		}
	}
	S := lengthBucket(maxLen)
	// With capture the step returns every FFN activation ([L, rows, S, N]
	// float32): run the rows in groups that keep it under captureBytes.
	group := len(seqs)
	if o.Capture != nil {
		per := S * m.Config.NumLayers * m.Config.IntermediateSize * 4
		group = max(1, min(group, captureBytes/per))
	}
	var out [][]float64
	if o.LogProbs {
		out = make([][]float64, 0, len(seqs))
	}
	for lo := 0; lo < len(seqs); lo += group {
		rows := seqs[lo:min(lo+group, len(seqs))]
		lp, err := m.forwardGroup(ctx, rows, S, o)
		if err != nil {
			return nil, err
		}
		out = append(out, lp...)
	}
	return out, nil
}

// captureBytes bounds the activations one capturing forward step returns.
// They live on the Go heap next to the statistics they are counted into.
// With int64 histograms (111 MiB at the SmolLM2-135M shape) 48 MiB kept
// the heap at the app's memory limit and the collector ran without pause,
// so groups were cut to 24 MiB; with uint32 histograms 48 MiB is faster
// again (BenchmarkPrefillCapture +4–32 % in 4 of 4 alternating runs, the
// bench's peak RSS unchanged).
const captureBytes = 48 << 20

// forwardGroup runs one padded batch of Forward.
func (m *Model) forwardGroup(ctx context.Context, seqs [][]int, S int, o ForwardOptions) ([][]float64, error) {
	B := len(seqs)
	bt := m.newBatch(B, S)
	defer bt.free()
	in := stepIn{rows: seqs, S: S, override: o.Override, allLogits: o.LogProbs}
	if o.Capture != nil {
		in.countRows, in.stats = make([]bool, B), o.Capture
		for b := range in.countRows {
			in.countRows[b] = true
		}
	}
	res, err := m.step(ctx, bt, in)
	if err != nil {
		return nil, err
	}
	defer res.release()
	if !o.LogProbs {
		return nil, nil
	}
	out := make([][]float64, B)
	for b, s := range seqs {
		out[b] = make([]float64, len(s)-1)
		for t := 0; t+1 < len(s); t++ {
			out[b][t] = logSoftmaxAt(res.logits[b*S+t], s[t+1])
		}
	}
	return out, nil
}

// logSoftmaxAt returns log softmax(x)[i], computed in float64.
func logSoftmaxAt(x []float32, i int) float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v) - mx)
	}
	return float64(x[i]) - mx - math.Log(sum)
}
