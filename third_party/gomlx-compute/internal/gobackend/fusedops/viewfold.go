// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: ops read their inputs through views instead of running
// the Reshape and Slice ops that only re-index them. See
// ../../../NPTI-PATCHES.md.

package fusedops

import (
	"os"
	"slices"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/ops"
)

// A Reshape, or a Slice that takes one contiguous run of its operand, only
// re-indexes values: its result is a run of its operand's flat data read
// with another shape. A chain of them over a value x is too, a run of x's
// flat data. This pass lets the ops listed in viewInputs read such a chain
// as a view of x (gobackend.InputView: an offset and a shape), so the
// chain's ops, whose results nothing else reads, are not executed. In a
// decode step these ops take a few microseconds each, almost all of it
// the executor's bookkeeping and cache misses on it (the weight stream has
// evicted everything else), not the copying.
//
// A view is never owned by the op reading it (it cannot be reused as the
// op's output, as an owned input can), and the values it reads are those
// the chain would have copied: the results are bit for bit the same.

// ViewsFolded counts the inputs the pass turned into views (diagnostics,
// tests).
var ViewsFolded atomic.Int64

func init() {
	gobackend.RegisterTransformation(40, viewFold{}) // after the fusions (50)
}

type viewFold struct{}

func (viewFold) Name() string { return "ViewFold" }

func (viewFold) Apply(b *gobackend.Builder) (bool, error) {
	if fusionOff() || os.Getenv("GOMLX_GO_NO_VIEWS") != "" {
		return false, nil
	}
	for _, f := range b.Functions {
		if !fusable(f) || anyDynamic(f) {
			continue
		}
		live := liveNodes(f)
		for _, n := range f.Nodes {
			if !live[n] {
				continue // e.g. what the fusions above left behind: never executed
			}
			for _, i := range viewInputs(n) {
				root, offset, ok := viewOf(n.Inputs[i])
				if !ok {
					continue
				}
				if n.ViewInputs == nil {
					n.ViewInputs = make([]*gobackend.InputView, len(n.Inputs))
				}
				n.ViewInputs[i] = &gobackend.InputView{Offset: offset, Shape: n.Inputs[i].Shape.Clone()}
				n.Inputs[i] = root
				ViewsFolded.Add(1)
			}
		}
	}
	return false, nil
}

// viewInputs lists the inputs of n that may be read through a view: those
// of the ops whose executors read the input's values and shape from the
// buffer they are handed, and only read them. The matrix product's lhs
// (its rhs, a weight, may be matched by its own producer: see
// dot/mixed_bf16.go), the first input of the fused norms, RoPE (and its
// tables) and SwiGLU of this package, the queries of the fused attention,
// the update of a DynamicUpdateSlice (its operand, the KV cache, is updated
// in place when owned), and both operands of the elementwise binary ops
// (their executors broadcast by the buffers' shapes; e.g. the hook's
// per-layer rows of the override vectors, a bias).
func viewInputs(n *gobackend.Node) []int {
	if n.IsMultiOutputs() || len(n.Inputs) == 0 {
		return nil
	}
	switch n.OpType {
	case compute.OpTypeDotGeneral, compute.OpTypeFusedScaledDotProductAttention:
		return []int{0}
	case compute.OpTypeFusedLayerNorm:
		if _, rope := n.Data.(ropeData); rope {
			return []int{0, 1, 2}
		}
		if _, ours := n.Data.(passFused); ours {
			return []int{0}
		}
	case compute.OpTypeDynamicUpdateSlice:
		if len(n.Inputs) > 1 {
			return []int{1}
		}
	case compute.OpTypeAdd, compute.OpTypeSub, compute.OpTypeMul, compute.OpTypeDiv,
		compute.OpTypeMax, compute.OpTypeMin,
		compute.OpTypeGreaterThan, compute.OpTypeGreaterOrEqual, compute.OpTypeLessThan, compute.OpTypeLessOrEqual,
		compute.OpTypeEqual, compute.OpTypeNotEqual, compute.OpTypeLogicalAnd, compute.OpTypeLogicalOr:
		if len(n.Inputs) == 2 {
			return []int{0, 1}
		}
	}
	return nil
}

// viewOf walks down the chain of Reshapes and contiguous Slices that
// computes x, and returns the value under it and where x's run starts in
// that value's flat data; ok is false where x is not such an op. (Shapes
// are static: the pass skips functions with dynamic ones.)
func viewOf(x *gobackend.Node) (root *gobackend.Node, offset int, ok bool) {
	if x.Shape.DType.Size()*8 != x.Shape.DType.Bits() || x.Shape.Size() == 0 {
		return nil, 0, false
	}
	root = x
	for {
		if root.OpType != compute.OpTypeReshape && root.OpType != compute.OpTypeSlice {
			return root, offset, root != x
		}
		if root.OpType == compute.OpTypeSlice {
			off, contiguous := ops.ContiguousSlice(root)
			if !contiguous {
				return root, offset, root != x
			}
			offset += off // the run's start in the Slice's operand
		}
		root = root.Inputs[0]
	}
}

// anyDynamic reports whether a node of f has a dynamic shape: such
// functions run on per-execution copies of their nodes
// (createSpecialization), whose shapes and data are recomputed from their
// inputs', and the passes that rewire inputs leave them alone.
func anyDynamic(f *gobackend.Function) bool {
	for _, n := range f.Nodes {
		if n.Shape.IsDynamic() {
			return true
		}
	}
	return false
}

// liveNodes marks the nodes of f that its outputs read, directly or not.
func liveNodes(f *gobackend.Function) map[*gobackend.Node]bool {
	live := make(map[*gobackend.Node]bool, len(f.Nodes))
	stack := slices.Clone(f.Outputs)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if live[n] {
			continue
		}
		live[n] = true
		stack = append(stack, n.Inputs...)
		for _, c := range n.CapturedInputs {
			stack = append(stack, c...)
		}
	}
	return live
}
