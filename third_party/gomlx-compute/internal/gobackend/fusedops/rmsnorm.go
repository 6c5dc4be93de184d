// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: RMS normalization fused into one op by a graph pass.
// See ../../../NPTI-PATCHES.md.

package fusedops

import (
	"math"
	"os"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/ops"
)

// An RMS norm, as GoMLX graphs write it (x·rsqrt(mean(x²) + ε)·w over the
// last axis of a float32 x [..., H], w [H]), is nine ops after the
// implicit-broadcast pass:
//
//	out = Mul(Mul(x, Rsqrt(Add(Reshape(Mul(ReduceSum(Mul(x, x), last), c)), ε))), Reshape(w))
//
// with c = 1/H and ε scalar constants. A decode step runs 61 of them, each
// op costing a dispatch and a buffer however little it computes. The pass
// below turns the final Mul into one op over (x, w) computing the same
// float32 operations in the same order (the squares rounded, summed left
// to right like ReduceSum, ·c, +ε, rsqrt in float64 rounded like Rsqrt,
// x·r then ·w): the results are bit for bit those of the nine ops, whose
// intermediate nodes, now unused, are not executed.
//
// compute has no op types for these fusions (adding one means regenerating
// its enumer tables), so a fused node takes the LayerNorm op type with its
// own node data, a passFused, and the LayerNorm executor hands such nodes
// to it.

// passFused is the node data of an op fused by a pass of this package.
type passFused interface {
	exec(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer) (*gobackend.Buffer, error)
}

// fusionOff reports whether GOMLX_GO_NO_FUSION turns the passes off.
func fusionOff() bool { return os.Getenv("GOMLX_GO_NO_FUSION") != "" }

// fusable reports whether a pass may rewrite f: closures and named
// functions were compiled (use counts, schedule) when they returned, before
// the passes run, so only functions not compiled yet (main) are rewritten.
func fusable(f *gobackend.Function) bool { return f.Compiled == nil }

// staticFloat32 reports whether n is a float32 value of static shape with
// a non-empty last axis (the fused kernels index rows by that size).
func staticFloat32(n *gobackend.Node) bool {
	r := n.Shape.Rank()
	return n.Shape.DType == dtypes.Float32 && r >= 1 && !n.Shape.IsDynamic() && n.Shape.Dimensions[r-1] > 0
}

// matcher reports whether a node is the final node of a pattern, and the
// fused node's data and inputs.
type matcher func(n *gobackend.Node) (passFused, []*gobackend.Node, bool)

// runPass turns every match in the functions a pass may rewrite into a
// fused node (the final node, rewritten in place: its new inputs come
// before it, so the order stays topological), counting them. newMatcher
// is called once per function.
func runPass(b *gobackend.Builder, count *atomic.Int64, newMatcher func(f *gobackend.Function) matcher) (bool, error) {
	if fusionOff() {
		return false, nil
	}
	for _, f := range b.Functions {
		if !fusable(f) {
			continue
		}
		match := newMatcher(f)
		for _, n := range f.Nodes {
			if data, inputs, ok := match(n); ok {
				n.OpType = compute.OpTypeFusedLayerNorm
				n.Inputs = inputs
				n.Data = data
				count.Add(1)
			}
		}
	}
	return false, nil
}

// rmsNormData marks a fused RMS-norm node: out = x·rsqrt(Σx²·scale + eps)·w.
type rmsNormData struct {
	scale, eps float32
}

func (d *rmsNormData) exec(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer) (*gobackend.Buffer, error) {
	return execRMSNorm(backend, node, inputs, d)
}

// RMSNormsFused counts the RMS norms the pass fused (diagnostics, tests).
var RMSNormsFused atomic.Int64

func init() {
	gobackend.RegisterTransformation(50, rmsNormFusion{})
}

type rmsNormFusion struct{}

func (rmsNormFusion) Name() string { return "RMSNormFusion" }

func (rmsNormFusion) Apply(b *gobackend.Builder) (bool, error) {
	return runPass(b, &RMSNormsFused, func(*gobackend.Function) matcher {
		return func(n *gobackend.Node) (passFused, []*gobackend.Node, bool) {
			x, w, d, ok := matchRMSNorm(n)
			return d, []*gobackend.Node{x, w}, ok
		}
	})
}

// matchRMSNorm reports whether n is the final Mul of an RMS norm, and
// returns its x, w (rank 1) and constants.
func matchRMSNorm(n *gobackend.Node) (x, w *gobackend.Node, d *rmsNormData, ok bool) {
	if n.OpType != compute.OpTypeMul || !staticFloat32(n) || len(n.Inputs) != 2 {
		return
	}
	rank := n.Shape.Rank()
	H := n.Shape.Dimensions[rank-1]
	for side := range 2 {
		y, wr := n.Inputs[side], n.Inputs[1-side]
		// wr = Reshape(w [H]) to [1, ..., 1, H].
		if wr.OpType != compute.OpTypeReshape || wr.Shape.IsDynamic() || wr.Shape.Rank() != rank || wr.Shape.Size() != H ||
			wr.Shape.Dimensions[rank-1] != H || wr.Inputs[0].Shape.Rank() != 1 {
			continue
		}
		// y = Mul(x, r) with x of n's shape and r = Rsqrt(...) [..., 1].
		if y.OpType != compute.OpTypeMul || !y.Shape.Equal(n.Shape) {
			continue
		}
		for ySide := range 2 {
			xx, r := y.Inputs[ySide], y.Inputs[1-ySide]
			if !xx.Shape.Equal(n.Shape) || r.OpType != compute.OpTypeRsqrt || r.Shape.IsDynamic() || r.Shape.Rank() != rank ||
				r.Shape.Dimensions[rank-1] != 1 || r.Shape.Size()*H != n.Shape.Size() {
				continue
			}
			e := r.Inputs[0]
			if e.OpType != compute.OpTypeAdd {
				continue
			}
			mk, eps, okE := constOperand(e)
			if !okE || mk.OpType != compute.OpTypeReshape {
				continue
			}
			m := mk.Inputs[0]
			if m.OpType != compute.OpTypeMul {
				continue
			}
			s, scale, okS := constOperand(m)
			if !okS || s.OpType != compute.OpTypeReduceSum || s.Shape.Rank() != rank-1 {
				continue
			}
			if axes, isAxes := s.Data.([]int); !isAxes || len(axes) != 1 || axes[0] != rank-1 {
				continue
			}
			sq := s.Inputs[0]
			if sq.OpType != compute.OpTypeMul || sq.Inputs[0] != xx || sq.Inputs[1] != xx {
				continue
			}
			return xx, wr.Inputs[0], &rmsNormData{scale: scale, eps: eps}, true
		}
	}
	return
}

// constOperand: for a binary node with one float32 scalar constant
// operand, the other operand and the constant's value.
func constOperand(n *gobackend.Node) (other *gobackend.Node, c float32, ok bool) {
	if len(n.Inputs) != 2 {
		return
	}
	for i := range 2 {
		k := n.Inputs[i]
		if k.OpType != compute.OpTypeConstant || k.Shape.DType != dtypes.Float32 || k.Shape.Size() != 1 {
			continue
		}
		buf, isBuf := k.Data.(*gobackend.Buffer)
		if !isBuf {
			continue
		}
		flat, isF32 := buf.Flat.([]float32)
		if !isF32 || len(flat) != 1 {
			continue
		}
		return n.Inputs[1-i], flat[0], true
	}
	return
}

// forRows runs fn over the row ranges [r0, r1) covering rows rows of
// rowElems elements: all at once on the caller below ops.ParallelMin
// elements in all, else in chunks of about ops.ParallelMin/2 elements over
// the workers (the fused kernels' rows are independent).
func forRows(backend *gobackend.Backend, rows, rowElems int, fn func(r0, r1 int)) {
	if rows*rowElems < ops.ParallelMin {
		fn(0, rows)
		return
	}
	per := max(1, ops.ParallelMin/(2*rowElems))
	ops.ParallelChunks(backend, (rows+per-1)/per, func(c int) { fn(c*per, min((c+1)*per, rows)) })
}

// execRMSNorm computes a fused RMS-norm node, row by row.
func execRMSNorm(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, d *rmsNormData) (*gobackend.Buffer, error) {
	x, w := inputs[0].Flat.([]float32), inputs[1].Flat.([]float32)
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	out := output.Flat.([]float32)
	H := len(w)
	forRows(backend, len(x)/H, H, func(r0, r1 int) {
		for row := r0; row < r1; row++ {
			d.row(x[row*H:(row+1)*H], w, out[row*H:(row+1)*H])
		}
	})
	return output, nil
}

// row normalizes one row: out = x·rsqrt(Σx²·scale + eps)·w.
func (d *rmsNormData) row(x, w, out []float32) {
	var s float32
	for _, v := range x {
		s += float32(v * v) // rounded before the sum, as Mul then ReduceSum
	}
	r := float32(1 / math.Sqrt(float64(float32(float32(s*d.scale)+d.eps))))
	ops.ScaleFloat32(out, x, r) // float32(x·r)·w, vectorized
	ops.MulFloat32(out, out, w)
}
