// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: a residual Add and the RMS norm of its sum fused into
// one op with two outputs. See ../../../NPTI-PATCHES.md and rmsnorm.go.

package fusedops

import (
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/ops"
	"github.com/gomlx/compute/shapes"
)

// A transformer layer adds each block's output to the residual stream and
// normalizes the sum for the next block: s = a + b; h = RMSNorm(s, w). The
// sum is read again by the next residual Add, so the norm fused by
// rmsNormFusion cannot absorb the Add. This pass turns each such pair into
// one node with two outputs, s and h, computed with the same float32
// operations as the two ops (the sum rounded, then the norm of row 28 over
// it): two per layer fewer ops to run.
//
// compute has no op type for it and no spare multi-output one, so the node
// carries the fused q/k/v projection's op type (multi-output) with its own
// data, a passFusedMulti, and that op's executor hands such nodes on (as
// the LayerNorm executor does for the single-output fusions).

// AddNormsFused counts the Add + RMS norm pairs the pass fused
// (diagnostics, tests).
var AddNormsFused atomic.Int64

// passFusedMulti is the node data of a multi-output op fused by a pass of
// this package.
type passFusedMulti interface {
	execMulti(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) ([]*gobackend.Buffer, error)
}

func init() {
	gobackend.RegisterTransformation(45, addNormFusion{}) // after rmsNormFusion (50), before viewFold (40)
}

type addNormFusion struct{}

func (addNormFusion) Name() string { return "AddRMSNormFusion" }

func (addNormFusion) Apply(b *gobackend.Builder) (bool, error) {
	if fusionOff() {
		return false, nil
	}
	modified := false
	for _, f := range b.Functions {
		if !fusable(f) || capturesAny(f) || anyDynamic(f) {
			continue
		}
		// replace maps each fused Add to the sum output, each fused norm to
		// the normalized one.
		replace := map[*gobackend.Node]*gobackend.Node{}
		for _, n := range f.Nodes {
			d, isNorm := n.Data.(*rmsNormData)
			if n.OpType != compute.OpTypeFusedLayerNorm || !isNorm {
				continue
			}
			add := n.Inputs[0]
			if !matchSameShapeAdd(add) || replace[add] != nil {
				continue
			}
			m := f.NewMultiOutputsNode(compute.OpTypeFusedAttentionQKVProjection,
				[]shapes.Shape{add.Shape.Clone(), n.Shape.Clone()}, add.Inputs[0], add.Inputs[1], n.Inputs[1])
			m.Data = &addNormData{norm: *d}
			replace[add], replace[n] = m.MultiOutputsNodes[0], m.MultiOutputsNodes[1]
			AddNormsFused.Add(1)
		}
		if len(replace) == 0 {
			continue
		}
		for _, n := range f.Nodes {
			for i, in := range n.Inputs {
				if r := replace[in]; r != nil {
					n.Inputs[i] = r
				}
			}
		}
		for i, out := range f.Outputs {
			if r := replace[out]; r != nil {
				f.Outputs[i] = r
			}
		}
		modified = true
	}
	return modified, nil // the new nodes were appended: the function needs sorting
}

// capturesAny reports whether a node of f reads values through closures
// (CapturedInputs): the pass rewires Inputs only, so it leaves such
// functions alone.
func capturesAny(f *gobackend.Function) bool {
	for _, n := range f.Nodes {
		if len(n.CapturedInputs) > 0 {
			return true
		}
	}
	return false
}

// matchSameShapeAdd reports whether n is a float32 Add of two operands of
// its own static shape (no broadcasting).
func matchSameShapeAdd(n *gobackend.Node) bool {
	return n.OpType == compute.OpTypeAdd && staticFloat32(n) && len(n.Inputs) == 2 &&
		n.Inputs[0].Shape.Equal(n.Shape) && n.Inputs[1].Shape.Equal(n.Shape)
}

// addNormData marks a fused Add + RMS norm node: inputs a, b, w; outputs
// s = a + b and RMSNorm(s, w).
type addNormData struct {
	norm rmsNormData
}

func (d *addNormData) execMulti(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) ([]*gobackend.Buffer, error) {
	a, b := inputs[0].Flat.([]float32), inputs[1].Flat.([]float32)
	var sum *gobackend.Buffer
	switch {
	case inputsOwned[0]: // the residual stream's last read: add in place, as Add does
		sum, inputs[0] = inputs[0], nil
	case inputsOwned[1]:
		sum, inputs[1] = inputs[1], nil
	default:
		var err error
		if sum, err = backend.GetBuffer(node.MultiOutputsShapes[0]); err != nil {
			return nil, err
		}
	}
	normed, err := backend.GetBuffer(node.MultiOutputsShapes[1])
	if err != nil {
		return nil, err
	}
	s, w, out := sum.Flat.([]float32), inputs[2].Flat.([]float32), normed.Flat.([]float32)
	H := len(w)
	forRows(backend, len(s)/H, H, func(r0, r1 int) {
		ops.AddFloat32(s[r0*H:r1*H], a[r0*H:r1*H], b[r0*H:r1*H])
		for row := r0; row < r1; row++ {
			d.norm.row(s[row*H:(row+1)*H], w, out[row*H:(row+1)*H])
		}
	})
	return []*gobackend.Buffer{sum, normed}, nil
}
