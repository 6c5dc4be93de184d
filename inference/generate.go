package inference

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/npti-studio/npti/inference/hook"
)

// GenerateOptions configure Generate.
type GenerateOptions struct {
	MaxTokens int
	Sampling  Sampling
	// StopIDs end a row when generated (nil = the model's EOS ids).
	StopIDs []int
	// IgnoreEOS generates MaxTokens for every row.
	IgnoreEOS bool
	// Override edits the FFN activations (nil = none), at decode steps
	// (Scope Generated) or also over the prompt (Scope All).
	Override *hook.Override
	// OverrideRows selects the rows the override applies to (nil = all),
	// e.g. a baseline and a steered row side by side.
	OverrideRows []bool
	// Capture accumulates activation statistics (nil = none) over the
	// positions of CaptureScope: Prompt, Generated (decode steps) or All.
	Capture      *hook.Stats
	CaptureScope hook.Scope
	// Context is the longest sequence allowed, prompt plus new tokens
	// (0 = the model's max positions); a larger one runs RoPE past the
	// positions the model was trained on.
	Context int
	// OnToken is called for each generated token (streaming).
	OnToken func(row, id int)
}

// Generate continues each prompt (token ids used verbatim) and returns the
// generated ids per row (stop token included when it ended the row).
func (m *Model) Generate(ctx context.Context, prompts [][]int, o GenerateOptions) ([][]int, error) {
	if len(prompts) == 0 {
		return nil, nil
	}
	if err := m.checkHookArgs(o.Override, o.Capture); err != nil {
		return nil, err
	}
	if err := o.Sampling.Validate(); err != nil {
		return nil, fmt.Errorf("inference: %w", err)
	}
	maxPrompt := 0
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("inference: prompt %d is empty", i)
		}
		maxPrompt = max(maxPrompt, len(p))
	}
	if o.MaxTokens < 1 {
		return nil, fmt.Errorf("inference: max tokens %d must be at least 1", o.MaxTokens)
	}
	if o.Capture != nil { // the most positions this call may count, checked before any is
		var most int64
		for _, p := range prompts {
			if o.CaptureScope != hook.Generated {
				most += int64(len(p))
			}
			if o.CaptureScope != hook.Prompt {
				most += int64(o.MaxTokens)
			}
		}
		if err := o.Capture.CheckRoom(most); err != nil {
			return nil, err
		}
	}
	limit := o.Context
	if limit <= 0 {
		limit = m.Config.MaxPositions
	}
	if limit > 0 && maxPrompt+o.MaxTokens > limit {
		return nil, fmt.Errorf("inference: %d prompt + %d new tokens exceed the context of %d positions", maxPrompt, o.MaxTokens, limit)
	}
	B := len(prompts)
	S := lengthBucket(maxPrompt)
	T := bucket(maxPrompt+o.MaxTokens, 16)
	bt := m.newBatch(B, T)
	defer bt.free()

	stops := map[int]bool{}
	if !o.IgnoreEOS {
		ids := o.StopIDs
		if ids == nil {
			ids = m.Config.EOSTokenIDs
		}
		for _, id := range ids {
			stops[id] = true
		}
	}
	samplers := make([]*sampler, B)
	for b := range samplers {
		samplers[b] = newSampler(o.Sampling, prompts[b])
	}
	var maskRNG *rand.Rand
	if o.Override != nil && o.Override.AddFraction > 0 && o.Override.AddFraction < 1 {
		maskRNG = rand.New(rand.NewPCG(o.Override.Seed, 0x5851f42d4c957f2d))
	}
	all := make([]bool, B)
	for b := range all {
		all[b] = true
	}
	// The override's clamp mask is the same each step, and so is its add
	// vector without a random mask: built once.
	var fixed *overrideInputs
	if o.Override != nil {
		var err error
		if fixed, err = m.overrideInputs(o.Override, maskRNG == nil, nil); err != nil {
			return nil, fmt.Errorf("inference: %w", err)
		}
		defer fixed.free()
	}
	in := stepIn{rows: prompts, S: S, applyRows: o.OverrideRows, fixed: fixed}
	if o.Override != nil && o.Override.Scope == hook.All {
		in.override, in.addNow = o.Override, drawAdd(o.Override, maskRNG)
	}
	if o.Capture != nil && o.CaptureScope != hook.Generated {
		in.countRows, in.stats = all, o.Capture
	}
	out := make([][]int, B)
	done := make([]bool, B)
	for step := 0; step < o.MaxTokens; step++ {
		res, err := m.step(ctx, bt, in)
		if err != nil {
			return out, err
		}
		next := make([][]int, B)
		active := 0
		for b := 0; b < B; b++ {
			if done[b] {
				next[b] = []int{0} // keeps the row's shape; never reported
				continue
			}
			id := samplers[b].next(res.logits[b])
			out[b] = append(out[b], id)
			if o.OnToken != nil {
				o.OnToken(b, id)
			}
			if stops[id] {
				done[b] = true
			} else {
				active++
			}
			next[b] = []int{id}
		}
		res.release()
		if active == 0 || step == o.MaxTokens-1 {
			break
		}
		in = stepIn{rows: next, S: 1, applyRows: rowsAnd(o.OverrideRows, done), fixed: fixed}
		if o.Override != nil {
			in.override, in.addNow = o.Override, drawAdd(o.Override, maskRNG)
		}
		if o.Capture != nil && o.CaptureScope != hook.Prompt {
			in.countRows, in.stats = notDone(done), o.Capture
		}
	}
	return out, nil
}

// drawAdd returns the add vector of one forward step: each added neuron is
// kept with probability AddFraction (all of them when rng is nil).
func drawAdd(o *hook.Override, rng *rand.Rand) []float32 {
	if rng == nil {
		return o.Add
	}
	add := make([]float32, len(o.Add))
	for i, v := range o.Add {
		if v != 0 && rng.Float64() < o.AddFraction {
			add[i] = v
		}
	}
	return add
}

func notDone(done []bool) []bool {
	r := make([]bool, len(done))
	for i, d := range done {
		r[i] = !d
	}
	return r
}

func rowsAnd(rows, done []bool) []bool {
	r := notDone(done)
	for i := range r {
		if rows != nil && !rows[i] {
			r[i] = false
		}
	}
	return r
}

func (m *Model) checkHookArgs(o *hook.Override, s *hook.Stats) error {
	if o != nil {
		if err := o.Validate(m.Layers(), m.Neurons()); err != nil {
			return fmt.Errorf("inference: %w", err)
		}
	}
	if s != nil && (s.Layers != m.Layers() || s.Neurons != m.Neurons()) {
		return fmt.Errorf("inference: statistics are %dx%d, model has %d layers x %d neurons", s.Layers, s.Neurons, m.Layers(), m.Neurons())
	}
	return nil
}
