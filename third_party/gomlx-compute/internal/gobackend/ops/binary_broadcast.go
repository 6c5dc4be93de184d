// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: float32 Add, Sub, Mul and Div by runs (broadcasting
// ones too) instead of an index iterator per element, over the workers
// when large. See ../../../NPTI-PATCHES.md.

package ops

import (
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// The float32 executors of Add, Sub, Mul and Div (NPTI Studio patch),
// registered above the generated ones (gen_exec_binary.go, left as
// generated): binaryFloat32, else the generated float32 loops; other dtypes
// go to the generated executors.
func init() {
	for _, e := range []struct {
		op   compute.OpType
		kind binaryOpKind
		exec gobackend.NodeExecutor
	}{
		{compute.OpTypeAdd, binaryAdd, execAdd},
		{compute.OpTypeSub, binarySub, execSub},
		{compute.OpTypeMul, binaryMul, execMul},
		{compute.OpTypeDiv, binaryDiv, execDiv},
	} {
		gobackend.SetNodeExecutor(e.op, gobackend.PriorityTyped, func(backend *gobackend.Backend, node *gobackend.Node,
			inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
			// Other dtypes, and shapes binaryPlan does not take (rank > 8,
			// a scalar of another rank), go to the generated executor,
			// which also moves a scalar lhs to the rhs side.
			if inputs[0].RawShape.DType != dtypes.Float32 {
				return e.exec(backend, node, inputs, inputsOwned)
			}
			p, ok := newBinaryPlan(inputs[0].RawShape, inputs[1].RawShape, node.Shape)
			if !ok {
				return e.exec(backend, node, inputs, inputsOwned)
			}
			lhs, rhs, output, _, _ := binaryOperandsAndOutput(backend, inputs, inputsOwned, node.Shape)
			binaryFloat32(backend, e.kind, &p, lhs.Flat.([]float32), rhs.Flat.([]float32), output.Flat.([]float32))
			return output, nil
		})
	}
}

type binaryOpKind int8

const (
	binaryAdd binaryOpKind = iota
	binarySub
	binaryMul
	binaryDiv
)

// binaryBroadcastMaxRank bounds the ranks binaryPlan handles (its
// bookkeeping lives in fixed arrays, no allocation).
const binaryBroadcastMaxRank = 8

// binaryPlan walks an output in runs: the innermost axes over which each
// operand is either contiguous or constant are merged into one run of n
// elements (operand steps lc, rc: 1 or 0), and an odometer over the
// remaining axes (j..k-1 of dims, innermost first) moves the operands'
// offsets by ls, rs.
type binaryPlan struct {
	dims, ls, rs [binaryBroadcastMaxRank]int
	k, j, n      int
	lc, rc       int
}

// newBinaryPlan plans lhs op rhs into outputShape; an operand of one
// element may have any rank. It reports false for shapes it does not handle.
func newBinaryPlan(lhsShape, rhsShape, outputShape shapes.Shape) (p binaryPlan, ok bool) {
	rank := outputShape.Rank()
	if rank > binaryBroadcastMaxRank {
		return p, false
	}
	dimOf := func(s shapes.Shape, i int) (int, bool) {
		if s.Rank() == rank {
			return s.Dimensions[i], true
		}
		return 1, s.Size() == 1
	}
	// Natural strides of each operand; broadcast axes get stride 0; axes of
	// output size 1 are dropped. dims, ls, rs run from the innermost axis.
	sl, sr := 1, 1
	for i := rank - 1; i >= 0; i-- {
		d := outputShape.Dimensions[i]
		ld, okL := dimOf(lhsShape, i)
		rd, okR := dimOf(rhsShape, i)
		if !okL || !okR || (ld != d && ld != 1) || (rd != d && rd != 1) {
			return p, false
		}
		if d != 1 {
			p.dims[p.k] = d
			if ld == d {
				p.ls[p.k] = sl
			}
			if rd == d {
				p.rs[p.k] = sr
			}
			p.k++
		}
		sl *= ld
		sr *= rd
	}
	if p.k == 0 {
		p.n, p.j = 1, 0
		return p, true
	}
	// The run: axes 0..j-1, over which each operand is contiguous (strides
	// 1, n, n·d, …) or constant (all 0).
	p.lc, p.rc = p.ls[0], p.rs[0]
	p.n, p.j = p.dims[0], 1
	for ; p.j < p.k; p.j++ {
		if p.ls[p.j] != p.lc*p.n || p.rs[p.j] != p.rc*p.n {
			break
		}
		p.n *= p.dims[p.j]
	}
	return p, true
}

// binaryRange computes the output elements [e0, e1) of the plan.
func binaryRange[T gobackend.PODNumericConstraints](p *binaryPlan, op binaryOpKind, lhs, rhs, output []T, e0, e1 int) {
	if p.j >= p.k { // one run
		binaryRun(op, output[e0:e1], lhs[e0*p.lc:], rhs[e0*p.rc:], p.lc, p.rc)
		return
	}
	// e0, e1 are multiples of n here. Start the odometer at run e0/n.
	var idx [binaryBroadcastMaxRank]int
	lOff, rOff := 0, 0
	rem := e0 / p.n
	for a := p.j; a < p.k; a++ {
		idx[a] = rem % p.dims[a]
		rem /= p.dims[a]
		lOff += idx[a] * p.ls[a]
		rOff += idx[a] * p.rs[a]
	}
	n := p.n
	for o := e0; o < e1; o += n {
		binaryRun(op, output[o:o+n], lhs[lOff:], rhs[rOff:], p.lc, p.rc)
		for a := p.j; a < p.k; a++ {
			idx[a]++
			lOff += p.ls[a]
			rOff += p.rs[a]
			if idx[a] < p.dims[a] {
				break
			}
			lOff -= p.ls[a] * p.dims[a]
			rOff -= p.rs[a] * p.dims[a]
			idx[a] = 0
		}
	}
}

// ParallelMin is the least output size (elements) that a float32
// elementwise op splits over the workers: the binary ops here and the
// fused norms, RoPEs and SwiGLUs of package fusedops.
const ParallelMin = 1 << 15

// binaryFloat32 computes a float32 Add, Sub, Mul or Div by runs (see
// binaryPlan; AVX2 vectors where binaryRunFloat32 has them), split over
// the backend's workers from ParallelMin elements: a transformer's
// elementwise ops form a chain, and run one at a time each left a core
// idle. p is the operands' plan (newBinaryPlan).
func binaryFloat32(backend *gobackend.Backend, op binaryOpKind, p *binaryPlan, l, r, out []float32) {
	workers := 1
	if len(out) >= ParallelMin && backend != nil && backend.Workers != nil && backend.Workers.IsEnabled() {
		workers = backend.Workers.AdjustedMaxParallelism()
	}
	unit := 8 // one run: split anywhere (on 8-element boundaries)
	if p.j < p.k {
		unit = p.n
	}
	units := len(out) / unit
	chunks := min(workers, units)
	if chunks <= 1 {
		binaryRange(p, op, l, r, out, 0, len(out))
		return
	}
	ParallelChunks(backend, chunks, func(c int) {
		e0, e1 := c*units/chunks*unit, (c+1)*units/chunks*unit
		if c == chunks-1 {
			e1 = len(out)
		}
		binaryRange(p, op, l, r, out, e0, e1)
	})
}

// ParallelChunks runs fn(0), …, fn(n-1) on the calling goroutine and on
// as many of the backend's workers as are free now (Pool.Saturate), and
// returns when all are done.
func ParallelChunks(backend *gobackend.Backend, n int, fn func(i int)) {
	if n <= 1 { // nothing to share: no hand-off to the workers
		if n == 1 {
			fn(0)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			fn(i)
		}
	}
	if backend == nil || backend.Workers == nil {
		work()
		return
	}
	backend.Workers.Saturate(work)
}

// binaryRun sets out[i] = l[i·ls] op r[i·rs] for the run, with ls and rs
// each 1 (contiguous) or 0 (one value).
func binaryRun[T gobackend.PODNumericConstraints](op binaryOpKind, out, l, r []T, ls, rs int) {
	if f, ok := any(out).([]float32); ok && binaryRunFloat32(op, f, any(l).([]float32), any(r).([]float32), ls, rs) {
		return
	}
	n := len(out)
	switch {
	case ls == 1 && rs == 1:
		l, r = l[:n], r[:n]
		switch op {
		case binaryAdd:
			for i := range out {
				out[i] = l[i] + r[i]
			}
		case binarySub:
			for i := range out {
				out[i] = l[i] - r[i]
			}
		case binaryMul:
			for i := range out {
				out[i] = l[i] * r[i]
			}
		case binaryDiv:
			for i := range out {
				out[i] = l[i] / r[i]
			}
		}
	case ls == 1:
		l = l[:n]
		c := r[0]
		switch op {
		case binaryAdd:
			for i := range out {
				out[i] = l[i] + c
			}
		case binarySub:
			for i := range out {
				out[i] = l[i] - c
			}
		case binaryMul:
			for i := range out {
				out[i] = l[i] * c
			}
		case binaryDiv:
			for i := range out {
				out[i] = l[i] / c
			}
		}
	case rs == 1:
		r = r[:n]
		c := l[0]
		switch op {
		case binaryAdd:
			for i := range out {
				out[i] = c + r[i]
			}
		case binarySub:
			for i := range out {
				out[i] = c - r[i]
			}
		case binaryMul:
			for i := range out {
				out[i] = c * r[i]
			}
		case binaryDiv:
			for i := range out {
				out[i] = c / r[i]
			}
		}
	default:
		var v T
		switch op {
		case binaryAdd:
			v = l[0] + r[0]
		case binarySub:
			v = l[0] - r[0]
		case binaryMul:
			v = l[0] * r[0]
		case binaryDiv:
			v = l[0] / r[0]
		}
		for i := range out {
			out[i] = v
		}
	}
}
