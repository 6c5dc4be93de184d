// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: broadcasting Add, Sub, Mul and Div by runs instead of
// an index iterator per element. See ../../../NPTI-PATCHES.md.

package ops

import (
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

type binaryOpKind int8

const (
	binaryAdd binaryOpKind = iota
	binarySub
	binaryMul
	binaryDiv
)

// binaryBroadcastMaxRank bounds the ranks binaryBroadcast handles (its
// bookkeeping lives in fixed arrays, no allocation).
const binaryBroadcastMaxRank = 8

// binaryBroadcast computes output = lhs op rhs where lhs and rhs broadcast to
// outputShape (same rank, each axis of size 1 or the output's). The output
// is walked in runs: the innermost axes over which each operand is either
// contiguous or constant are merged into one run, computed by a plain loop,
// and an odometer over the remaining axes moves the operands' offsets. It
// reports false, doing nothing, for ranks it does not handle.
//
// Output may alias an operand of the output's shape: every element is read
// before its own index is written.
func binaryBroadcast[T gobackend.PODNumericConstraints](op binaryOpKind, lhs, rhs, output []T,
	lhsShape, rhsShape, outputShape shapes.Shape) bool {
	rank := outputShape.Rank()
	if rank > binaryBroadcastMaxRank || lhsShape.Rank() != rank || rhsShape.Rank() != rank {
		return false
	}
	// Natural strides of each operand; broadcast axes get stride 0; axes of
	// output size 1 are dropped.
	var dims, ls, rs [binaryBroadcastMaxRank]int
	k := 0
	sl, sr := 1, 1
	for i := rank - 1; i >= 0; i-- {
		d := outputShape.Dimensions[i]
		ld, rd := lhsShape.Dimensions[i], rhsShape.Dimensions[i]
		if (ld != d && ld != 1) || (rd != d && rd != 1) {
			return false
		}
		if d != 1 {
			dims[k] = d
			if ld == d {
				ls[k] = sl
			}
			if rd == d {
				rs[k] = sr
			}
			k++
		}
		sl *= ld
		sr *= rd
	}
	// dims, ls, rs now run from the innermost axis (index 0) outwards.
	if k == 0 {
		binaryRun(op, output[:1], lhs, rhs, 0, 0)
		return true
	}
	// The run: axes 0..j-1, over which each operand is contiguous (strides
	// 1, n, n·d, …) or constant (all 0).
	lc, rc := ls[0], rs[0] // 1 or 0
	n, j := dims[0], 1
	for ; j < k; j++ {
		if ls[j] != lc*n || rs[j] != rc*n {
			break
		}
		n *= dims[j]
	}
	if j == k {
		binaryRun(op, output[:n], lhs, rhs, lc, rc)
		return true
	}
	var idx [binaryBroadcastMaxRank]int
	lOff, rOff := 0, 0
	for o := 0; o < len(output); o += n {
		binaryRun(op, output[o:o+n], lhs[lOff:], rhs[rOff:], lc, rc)
		// Advance the odometer over axes j..k-1.
		for a := j; a < k; a++ {
			idx[a]++
			lOff += ls[a]
			rOff += rs[a]
			if idx[a] < dims[a] {
				break
			}
			lOff -= ls[a] * dims[a]
			rOff -= rs[a] * dims[a]
			idx[a] = 0
		}
	}
	return true
}

// binaryRun sets out[i] = l[i·ls] op r[i·rs] for the run, with ls and rs
// each 1 (contiguous) or 0 (one value).
func binaryRun[T gobackend.PODNumericConstraints](op binaryOpKind, out, l, r []T, ls, rs int) {
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
