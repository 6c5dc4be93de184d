package inference

// The single FFN hook: every read or edit of the activation
// a = SiLU(x·W_gate) happens here, fed as graph inputs.

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph DSL
)

// ffnHook holds the hook's graph inputs; nil fields are unused.
type ffnHook struct {
	clamp, add *Node // [L, N] float32: 1 = clamp to min(a, 0); value added to a
	apply      *Node // [B, S] float32: 1 where the edits apply
	capture    bool  // return the activation for the statistics
}

// run edits and measures a [B, S, N] of layer l. It returns the edited
// activation and, when capturing, the activation before the edits (the
// statistics describe the model, not the steering): the host counts it
// (see accumulate), exactly and far faster than a graph histogram.
func (hk *ffnHook) run(l int, a *Node) (out, captured *Node) {
	if hk.capture {
		captured = a
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
	return out, captured
}
