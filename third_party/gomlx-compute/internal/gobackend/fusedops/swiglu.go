// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: the SwiGLU of a joined gate+up product fused into one
// op by a graph pass. See ../../../NPTI-PATCHES.md and rmsnorm.go.

package fusedops

import (
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/ops"
)

// A SwiGLU over a joined gate+up projection gu [..., 2N] (gate first) is
// five ops:
//
//	out = Mul(Mul(g, Logistic(g)), u),  g = Slice(gu, [0, N)),  u = Slice(gu, [N, 2N))
//
// (each slice copies). The pass turns the final Mul into one op over gu
// with the same float32 operations: the gates are copied out, their
// logistic taken over the whole contiguous tensor by the Logistic op's own
// code (so its vector and scalar paths fall on the same elements), then
// out = (g·σ(g))·u. A graph that uses the activation g·σ(g) elsewhere (the
// NPTI hook) keeps its ops.

// SwiGLUsFused counts the SwiGLUs the pass fused (diagnostics, tests).
var SwiGLUsFused atomic.Int64

func init() {
	gobackend.RegisterTransformation(50, swiGLUFusion{})
}

type swiGLUFusion struct{}

func (swiGLUFusion) Name() string { return "SwiGLUFusion" }

func (swiGLUFusion) Apply(b *gobackend.Builder) (bool, error) {
	return runPass(b, &SwiGLUsFused, func(f *gobackend.Function) matcher {
		// A fused node drops its activation (g·σ(g)) input: only where
		// nothing else reads it.
		users := make(map[*gobackend.Node]int)
		for _, n := range f.Nodes {
			for _, in := range n.Inputs {
				users[in]++
			}
			for _, captured := range n.CapturedInputs {
				for _, in := range captured {
					users[in]++
				}
			}
		}
		for _, o := range f.Outputs {
			users[o]++
		}
		return func(n *gobackend.Node) (passFused, []*gobackend.Node, bool) {
			gu, ok := matchSwiGLU(n, users)
			return swiGLUData{}, []*gobackend.Node{gu}, ok
		}
	})
}

// matchSwiGLU reports whether n is the final Mul of a SwiGLU whose
// activation has no other user, and returns gu.
func matchSwiGLU(n *gobackend.Node, users map[*gobackend.Node]int) (gu *gobackend.Node, ok bool) {
	if n.OpType != compute.OpTypeMul || !staticFloat32(n) || len(n.Inputs) != 2 {
		return nil, false
	}
	for side := range 2 {
		a, u := n.Inputs[side], n.Inputs[1-side]
		if a.OpType != compute.OpTypeMul || users[a] != 1 || !a.Shape.Equal(n.Shape) || !u.Shape.Equal(n.Shape) {
			continue
		}
		for aSide := range 2 {
			g, l := a.Inputs[aSide], a.Inputs[1-aSide]
			if l.OpType != compute.OpTypeLogistic || l.Inputs[0] != g {
				continue
			}
			if g.OpType != compute.OpTypeSlice || u.OpType != compute.OpTypeSlice || g.Inputs[0] != u.Inputs[0] {
				continue
			}
			gu = g.Inputs[0]
			if gu.Shape.DType == dtypes.Float32 && ops.SlicesLastHalf(g, gu, 0) && ops.SlicesLastHalf(u, gu, 1) {
				return gu, true
			}
		}
	}
	return nil, false
}

// swiGLUData marks a fused SwiGLU node (input gu).
type swiGLUData struct{}

func (swiGLUData) exec(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer) (*gobackend.Buffer, error) {
	gu := inputs[0].Flat.([]float32)
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	sig, err := backend.GetBuffer(node.Shape)
	if err != nil {
		backend.PutBuffer(output)
		return nil, err
	}
	out, s := output.Flat.([]float32), sig.Flat.([]float32)
	N := node.Shape.Dimensions[node.Shape.Rank()-1]
	rows := len(out) / N
	// Row chunks over the workers where large (as the elementwise ops
	// were); the logistic runs over the whole tensor, as the op did.
	forRows(backend, rows, N, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			copy(out[r*N:(r+1)*N], gu[2*r*N:2*r*N+N])
		}
	})
	ops.LogisticFloat32(out, s)
	forRows(backend, rows, N, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			o := out[r*N : (r+1)*N]
			ops.MulFloat32(o, o, s[r*N:(r+1)*N]) // float32(g·σ(g))·u, vectorized
			ops.MulFloat32(o, o, gu[2*r*N+N:2*r*N+2*N])
		}
	})
	backend.PutBuffer(sig)
	return output, nil
}
