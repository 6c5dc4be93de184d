package inference

// The single FFN hook: every read or edit of the activation
// a = SiLU(x·W_gate) happens here, fed as graph inputs.

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph DSL

	"github.com/npti-studio/npti/inference/hook"
)

// ffnHook holds the hook's graph inputs; nil fields are unused.
type ffnHook struct {
	clamp, add *Node // [L, N] float32: 1 = clamp to min(a, 0); value added to a
	apply      *Node // [B, S] float32: 1 where the edits apply
	count      *Node // [B, S] int32: 1 where statistics are counted
}

// run edits and measures a [B, S, N] of layer l. It returns the edited
// activation and, when counting, the active counts [N] and the histogram
// [N, Bins] of the counted positions (before the edits: the statistics
// describe the model, not the steering).
func (hk *ffnHook) run(l int, a *Node) (out, active, hist *Node) {
	if hk.count != nil {
		active, hist = capture(a, hk.count)
	}
	out = a
	if hk.clamp != nil {
		B, S, N := a.Shape().Dimensions[0], a.Shape().Dimensions[1], a.Shape().Dimensions[2]
		zero := ScalarZero(a.Graph(), dtypes.Float32)
		clamp := Reshape(SliceAxis(hk.clamp, 0, AxisElem(l)), 1, 1, N) // [1, 1, N]
		add := Reshape(SliceAxis(hk.add, 0, AxisElem(l)), 1, 1, N)     // [1, 1, N]
		apply := InsertAxes(hk.apply, -1)                              // [B, S, 1]
		sel := LogicalAnd(
			BroadcastToDims(GreaterThan(clamp, zero), B, S, N),
			BroadcastToDims(GreaterThan(apply, zero), B, S, N))
		out = Where(sel, Min(out, zero), out)
		out = Add(out, Mul(add, apply))
	}
	return out, active, hist
}

// capture counts, per neuron, the counted positions with a > 0 and the
// NPTI histogram bins (hook.BinOf) of a.
// Input a [B, S, N] float32, count [B, S] int32. Output [N] int32, [N, Bins] int32.
func capture(a, count *Node) (active, hist *Node) {
	g := a.Graph()
	B, S, N := a.Shape().Dimensions[0], a.Shape().Dimensions[1], a.Shape().Dimensions[2]
	zero := ScalarZero(g, dtypes.Float32)
	cnt := BroadcastToDims(InsertAxes(count, -1), B, S, N)
	pos := GreaterThan(a, zero)
	active = ReduceSum(Mul(ConvertDType(pos, dtypes.Int32), cnt), 0, 1)

	// Bin of a: the smallest k ≥ 1 with a ≤ right[k] (right[k] = k·0.01 as
	// float32, right[300] = +inf); 0 for a ≤ 0. Guess k = ceil(100a) and
	// correct by one either way against the exact float32 edges.
	k := ConvertDType(ClipScalar(Ceil(Mul(a, ConstAs(a, 1/hook.BinWidth))), 1, hook.Bins-1), dtypes.Int32)
	one := ScalarOne(g, dtypes.Int32)
	k = Where(GreaterThan(a, rightEdge(k)), Min(Add(k, one), ConstAs(k, hook.Bins-1)), k)
	km1 := Max(Sub(k, one), one)
	k = Where(LogicalAnd(GreaterThan(k, one), LessOrEqual(a, rightEdge(km1))), km1, k)
	bin := Where(pos, k, ZerosLike(k)) // [B, S, N]

	neuron := Iota(g, shapes.Make(dtypes.Int32, B, S, N), 2)
	flat := Add(Mul(neuron, ConstAs(neuron, hook.Bins)), bin)
	idx := Reshape(flat, B*S*N, 1)
	upd := Reshape(cnt, B*S*N)
	hist = ScatterSum(Zeros(g, shapes.Make(dtypes.Int32, N*hook.Bins)), idx, upd, false, false)
	return active, Reshape(hist, N, hook.Bins)
}

// rightEdge is the right edge of histogram bin k ∈ [1, Bins-1] as float32,
// computed the way hook.BinEdges does (float32(float64(k)·0.01), +inf for
// the last bin) instead of gathered from a table: a gather per element
// costs more than the arithmetic.
func rightEdge(k *Node) *Node {
	e := ConvertDType(Mul(ConvertDType(k, dtypes.Float64), Scalar(k.Graph(), dtypes.Float64, hook.BinWidth)), dtypes.Float32)
	return Where(Equal(k, ConstAs(k, hook.Bins-1)), Infinity(k.Graph(), dtypes.Float32, 1), e)
}
