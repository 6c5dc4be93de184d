// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: rotary position embedding (rotate-half layout) fused
// into one op by a graph pass. See ../../../NPTI-PATCHES.md and rmsnorm.go.

package fusedops

import (
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/ops"
)

// RoPE in the rotate-half layout, over x [B, S, n, D] with per-position
// tables cos, sin [B or 1, S or 1, 1, D], is six ops:
//
//	out = Add(Mul(x, cos), Mul(Concatenate(x₂, x₁), sin)),  x₁, x₂ = the halves of x's last axis
//
// (the halves' slices and their concatenation copy; a sign, if any, lives
// in the sin table). The pass turns the Add into one op over (x, cos, sin)
// with the same float32 operations: each product rounded, then their sum.

// RoPEsFused counts the RoPEs the pass fused (diagnostics, tests).
var RoPEsFused atomic.Int64

func init() {
	gobackend.RegisterTransformation(50, ropeFusion{})
}

type ropeFusion struct{}

func (ropeFusion) Name() string { return "RoPEFusion" }

func (ropeFusion) Apply(b *gobackend.Builder) (bool, error) {
	return runPass(b, &RoPEsFused, func(*gobackend.Function) matcher {
		return func(n *gobackend.Node) (passFused, []*gobackend.Node, bool) {
			x, cos, sin, ok := matchRoPE(n)
			return ropeData{}, []*gobackend.Node{x, cos, sin}, ok
		}
	})
}

// matchRoPE reports whether n is the final Add of a RoPE, and returns its
// operand and tables.
func matchRoPE(n *gobackend.Node) (x, cos, sin *gobackend.Node, ok bool) {
	if n.OpType != compute.OpTypeAdd || !staticFloat32(n) || n.Shape.Rank() != 4 || len(n.Inputs) != 2 {
		return
	}
	D := n.Shape.Dimensions[3]
	if D%2 != 0 {
		return
	}
	for side := range 2 {
		direct, rotated := n.Inputs[side], n.Inputs[1-side]
		if direct.OpType != compute.OpTypeMul || rotated.OpType != compute.OpTypeMul ||
			!direct.Shape.Equal(n.Shape) || !rotated.Shape.Equal(n.Shape) {
			continue
		}
		for dSide := range 2 {
			x, cos = direct.Inputs[dSide], direct.Inputs[1-dSide]
			if !x.Shape.Equal(n.Shape) || !ropeTable(cos, n) {
				continue
			}
			for rSide := range 2 {
				rot, sin := rotated.Inputs[rSide], rotated.Inputs[1-rSide]
				if rot.OpType != compute.OpTypeConcatenate || len(rot.Inputs) != 2 || !ropeTable(sin, n) {
					continue
				}
				if axis, isInt := rot.Data.(int); !isInt || axis != 3 {
					continue
				}
				if ops.SlicesLastHalf(rot.Inputs[0], x, 1) && ops.SlicesLastHalf(rot.Inputs[1], x, 0) {
					return x, cos, sin, true
				}
			}
		}
	}
	return nil, nil, nil, false
}

// ropeTable: t is float32 [B or 1, S or 1, 1, D] for out [B, S, n, D].
func ropeTable(t, out *gobackend.Node) bool {
	if !staticFloat32(t) || t.Shape.Rank() != 4 {
		return false
	}
	td, od := t.Shape.Dimensions, out.Shape.Dimensions
	return (td[0] == od[0] || td[0] == 1) && (td[1] == od[1] || td[1] == 1) && td[2] == 1 && td[3] == od[3]
}

// ropeData marks a fused RoPE node (inputs x, cos, sin).
type ropeData struct{}

func (ropeData) exec(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer) (*gobackend.Buffer, error) {
	x := inputs[0].Flat.([]float32)
	cos, sin := inputs[1].Flat.([]float32), inputs[2].Flat.([]float32)
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	out := output.Flat.([]float32)
	dims := node.Shape.Dimensions
	B, S, H, D := dims[0], dims[1], dims[2], dims[3]
	cd, sd := inputs[1].RawShape.Dimensions, inputs[2].RawShape.Dimensions
	half := D / 2
	row := func(b, s int) { // every head of position (b, s)
		c := cos[(min(b, cd[0]-1)*cd[1]+min(s, cd[1]-1))*D:][:D]
		sn := sin[(min(b, sd[0]-1)*sd[1]+min(s, sd[1]-1))*D:][:D]
		for h := range H {
			off := ((b*S+s)*H + h) * D
			xr, or := x[off:off+D], out[off:off+D]
			for d := range half {
				or[d] = float32(xr[d]*c[d]) + float32(xr[d+half]*sn[d])
			}
			for d := half; d < D; d++ {
				or[d] = float32(xr[d]*c[d]) + float32(xr[d-half]*sn[d])
			}
		}
	}
	forRows(backend, B*S, H*D, func(r0, r1 int) {
		for i := r0; i < r1; i++ {
			row(i/S, i%S)
		}
	})
	return output, nil
}
