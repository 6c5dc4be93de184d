package inference

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/npti-studio/npti/inference/hook"
)

// batch is the per-call state of a batch of sequences: the KV cache
// [B, KVH, T, D] per layer and how many slots each row has filled.
type batch struct {
	B, T  int
	cache []*tensors.Tensor
	lens  []int // tokens in the cache per row
}

func (m *Model) newBatch(B, T int) *batch {
	return &batch{B: B, T: T, cache: m.zeroCache(B, T), lens: make([]int, B)}
}

// free releases the cache buffers.
func (b *batch) free() {
	for _, t := range b.cache {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
	b.cache = nil
}

// stepIn describes one forward step: rows[b] are the new tokens of row b
// (all rows padded to S); each row continues its own cache.
type stepIn struct {
	rows      [][]int
	S         int
	override  *hook.Override
	addNow    []float32   // [L*N] add vector after the random mask of this step
	applyRows []bool      // per row: edits apply (nil = all rows)
	countRows []bool      // per row: capture counts (nil = none)
	stats     *hook.Stats // where the counts accumulate (with countRows)
	allLogits bool
	// fixed holds inputs of the override that serve every step of a
	// generation: its clamp mask, and its add vector when that is the same
	// each step (what it lacks is built per step from override and
	// addNow).
	fixed *overrideInputs
}

// stepOut is what a step returns to the host.
type stepOut struct {
	// logits is [B][V] (last token) or [B*S][V] with allLogits: read in
	// place from the step's output buffer where the backend shares its
	// buffers (the Go backend), valid until release.
	logits [][]float32
	tokens int64 // positions counted
	buf    *tensors.Tensor
}

// release frees the logits' buffer (back to the backend's pool, for the
// next step's logits); out.logits is invalid from then on.
func (out *stepOut) release() {
	if out.buf != nil {
		_ = out.buf.FinalizeAll()
		out.buf, out.logits = nil, nil
	}
}

// overrideInputs are an override's clamp mask and add vector as a step's
// inputs ([L, N] each); nil where not built.
type overrideInputs struct{ clamp, add *tensors.Tensor }

// overrideInputs builds o's clamp mask and, with withAdd, its add vector
// add (nil = o.Add).
func (m *Model) overrideInputs(o *hook.Override, withAdd bool, add []float32) (*overrideInputs, error) {
	L, N := m.Config.NumLayers, m.Config.IntermediateSize
	clamp := make([]float32, L*N)
	for i, on := range o.Clamp {
		if on {
			clamp[i] = 1
		}
	}
	ov := &overrideInputs{}
	var err error
	if ov.clamp, err = stepInput(m.backend, clamp, L, N); err != nil || !withAdd {
		return ov, err
	}
	if add == nil {
		add = o.Add
	}
	if ov.add, err = stepInput(m.backend, add, L, N); err != nil {
		ov.free()
		return nil, err
	}
	return ov, nil
}

func (ov *overrideInputs) free() {
	for _, t := range []*tensors.Tensor{ov.clamp, ov.add} {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
}

// stepInput returns flat, shaped dims, as a step's input: small ones (a
// decode step's) in a backend buffer, shared where the backend has them
// (the Go backend), which the execution takes as it is. A host tensor
// is copied to the backend at its first call, after GoMLX has built an
// error with a stack trace to find that it is not there yet (~5 µs a
// tensor). Large ones stay host tensors: the Go backend maps shared
// buffers of ≥ 256 KiB off the heap, for weights.
func stepInput[T float32 | int32](backend compute.Backend, flat []T, dims ...int) (*tensors.Tensor, error) {
	if len(flat)*4 >= 256<<10 {
		return tensors.FromFlatDataAndDimensions(flat, dims...), nil
	}
	t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.FromGenericsType[T](), dims...))
	if err != nil {
		return nil, err
	}
	if err := tensors.MutableFlatData(t, func(dst []T) { copy(dst, flat) }); err != nil {
		_ = t.FinalizeAll()
		return nil, err
	}
	return t, nil
}

// step runs one forward pass and advances the cache.
func (m *Model) step(ctx context.Context, bt *batch, in stepIn) (out stepOut, err error) {
	if err := ctx.Err(); err != nil {
		return out, err
	}
	defer func() {
		if r := recover(); r != nil {
			out.release() // a panic after the call: the logits' buffer is not handed on
			err = fmt.Errorf("inference: forward pass failed: %v\n%s", r, debug.Stack())
		}
	}()
	c := m.Config
	B, S, T := bt.B, in.S, bt.T
	v := variant{override: in.override != nil, capture: in.countRows != nil, allLogits: in.allLogits}
	// A multi-token step whose every row brings tokens and fits its run of S
	// slots writes each row's entries as one slice (rowWrites).
	v.rowWrites = S > 1
	for b, row := range in.rows {
		if len(row) == 0 || bt.lens[b]+S > T {
			v.rowWrites = false
		}
	}
	e, err := m.exec(v)
	if err != nil {
		return out, err
	}
	tokens := make([]int32, B*S)
	positions := make([]int32, B*S)
	mask := make([]float32, B*S*T)
	write := make([]float32, B*S*T)
	last := make([]int32, B)
	apply := make([]float32, B*S)
	count := make([]bool, B*S)
	ninf := float32(math.Inf(-1))
	for b := 0; b < B; b++ {
		row := in.rows[b]
		if bt.lens[b]+len(row) > T {
			return out, fmt.Errorf("inference: sequence of %d tokens exceeds the cache of %d", bt.lens[b]+len(row), T)
		}
		last[b] = int32(max(len(row)-1, 0))
		for s := 0; s < S; s++ {
			i := b*S + s
			mrow := mask[i*T : (i+1)*T]
			for t := range mrow {
				mrow[t] = ninf
			}
			if s >= len(row) { // padding: writes nothing, attends slot 0
				mrow[0] = 0
				if S == 1 {
					// A one-token step writes every row's entry at its
					// position (updateCache); a padding row's goes to the
					// last slot, which its row reaches only by a step that
					// overwrites it before attending to it.
					positions[i] = int32(T - 1)
				}
				continue
			}
			id := row[s]
			if id < 0 || id >= c.VocabSize {
				return out, fmt.Errorf("inference: token id %d out of range [0, %d)", id, c.VocabSize)
			}
			p := bt.lens[b] + s
			tokens[i], positions[i] = int32(id), int32(p)
			lo := 0 // the first position attended (sliding window: p−W+1)
			if w := c.SlidingWindow; w > 0 {
				lo = max(0, p-w+1)
			}
			for t := lo; t <= p; t++ {
				mrow[t] = 0
			}
			write[i*T+p] = 1
			if in.override != nil && (in.applyRows == nil || in.applyRows[b]) {
				apply[i] = 1
			}
			if in.countRows != nil && in.countRows[b] {
				count[i] = true
				out.tokens++
			}
		}
	}
	if v.capture && in.stats != nil {
		// Before anything runs: the statistics, cache and batch stay whole.
		if err := in.stats.CheckRoom(out.tokens); err != nil {
			return stepOut{}, err
		}
	}
	// The per-step inputs (not the cache, not the weights), freed on return.
	var perStep []*tensors.Tensor
	defer func() {
		for _, t := range perStep {
			_ = t.FinalizeAll()
		}
	}()
	input := func(t *tensors.Tensor, err error) *tensors.Tensor {
		if err != nil {
			panic(err) // recovered above, as the execution's errors are
		}
		perStep = append(perStep, t)
		return t
	}
	args := []any{
		input(stepInput(m.backend, tokens, B, S)),
		input(stepInput(m.backend, positions, B, S)),
		input(stepInput(m.backend, mask, B, S, T)),
		input(stepInput(m.backend, write, B, S, T)),
		input(stepInput(m.backend, last, B)),
	}
	var clampT, addT, applyT *tensors.Tensor
	if in.override != nil {
		if in.fixed != nil {
			clampT, addT = in.fixed.clamp, in.fixed.add
		}
		if clampT == nil {
			ov, err := m.overrideInputs(in.override, addT == nil, in.addNow)
			if err != nil {
				return out, fmt.Errorf("inference: %w", err)
			}
			defer ov.free()
			clampT = ov.clamp
			if addT == nil {
				addT = ov.add
			}
		}
		if addT == nil {
			add := in.addNow
			if add == nil {
				add = in.override.Add
			}
			addT = input(stepInput(m.backend, add, c.NumLayers, c.IntermediateSize))
		}
		applyT = input(stepInput(m.backend, apply, B, S))
	}
	// The cache is donated: the backend updates it in place (no copy of
	// the whole cache per step, no new buffers for the collector). From
	// here on the old cache tensors are spent, whatever the outcome.
	for _, t := range bt.cache {
		d, err := graph.DonateTensorBuffer(t, m.backend, 0)
		if err != nil {
			return out, fmt.Errorf("inference: donating the KV cache: %w", err)
		}
		args = append(args, d)
	}
	donated := bt.cache
	bt.cache = nil
	L := c.NumLayers
	if in.override != nil {
		args = append(args, clampT, addT, applyT)
	}
	for _, w := range m.weights {
		args = append(args, w)
	}
	res, err := e.Call(args...)
	if err != nil {
		return out, fmt.Errorf("inference: %w", err)
	}
	lay := newStepLayout(L, v)
	bt.cache = res[lay.outCache : lay.outCache+2*L]
	for _, t := range donated {
		_ = t.FinalizeAll()
	}
	for b := range in.rows {
		bt.lens[b] += len(in.rows[b])
	}
	out.buf = res[lay.outLogits]
	V := c.VocabSize
	n := B
	if in.allLogits {
		n = B * S
	}
	out.logits = make([][]float32, n)
	tensors.MustConstFlatData(out.buf, func(flat []float32) {
		for i := range out.logits {
			out.logits[i] = flat[i*V : (i+1)*V]
		}
	})
	if v.capture {
		accumulate(in.stats, out.tokens, count, res[lay.outActs:lay.outActs+L])
	}
	return out, nil
}

// accumulate counts a step's captured activations (one [B, S, N] tensor
// per layer) into s at the positions marked in count [B*S] (active: a > 0;
// histogram: hook.BinOf, NaN as inactive), reading them in place, layers
// split over the cores, and frees them.
func accumulate(s *hook.Stats, tokens int64, count []bool, acts []*tensors.Tensor) {
	defer func() {
		for _, t := range acts {
			_ = t.FinalizeAll()
		}
	}()
	if s == nil {
		return
	}
	s.Tokens += tokens
	N := s.Neurons
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(len(acts), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for l := int(next.Add(1)) - 1; l < len(acts); l = int(next.Add(1)) - 1 {
				active := s.Active[l*N : (l+1)*N]
				var hist []uint32
				if s.Hist != nil {
					hist = s.Hist[l*N*hook.Bins : (l+1)*N*hook.Bins]
				}
				tensors.MustConstFlatData(acts[l], func(layer []float32) {
					for p, on := range count {
						if !on {
							continue
						}
						for n, a := range layer[p*N : (p+1)*N] {
							if a > 0 {
								active[n]++
							}
							if hist != nil {
								hist[n*hook.Bins+hook.BinOf(a)]++
							}
						}
					}
				})
			}
		})
	}
	wg.Wait()
}

// lengthBucket rounds a batch's sequence length up to the length its graph
// is compiled for: 8, 16, then multiples of 16 up to 256, multiples of 64
// up to 1024, powers of two beyond. Padding costs compute in proportion
// (and attention quadratically), compiling a length costs little: a
// description of 40 tokens runs at length 48, not 64 (−25 %).
func lengthBucket(n int) int {
	switch {
	case n <= 8:
		return 8
	case n <= 256:
		return (n + 15) &^ 15
	case n <= 1024:
		return (n + 63) &^ 63
	}
	return bucket(n, 1024)
}

// bucket rounds n up to a power of two, at least lo.
func bucket(n, lo int) int {
	b := lo
	for b < n && b < 1<<40 {
		b *= 2
	}
	return b
}
