// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: what the fusion passes of package fusedops need from
// the ops here. See ../../../NPTI-PATCHES.md.

package ops

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
)

// SlicesLastHalf reports whether s is a Slice of x taking half h (0: the
// first, 1: the second) of x's last axis and all of its other axes, with
// unit strides.
func SlicesLastHalf(s, x *gobackend.Node, h int) bool {
	if s.OpType != compute.OpTypeSlice || s.Inputs[0] != x {
		return false
	}
	d, ok := s.Data.(*sliceNode)
	r := x.Shape.Rank()
	if !ok || r < 1 || len(d.starts) != r || x.Shape.Dimensions[r-1]%2 != 0 {
		return false
	}
	half := x.Shape.Dimensions[r-1] / 2
	for a := range r {
		lo, hi := 0, x.Shape.Dimensions[a]
		if a == r-1 {
			lo, hi = h*half, (h+1)*half
		}
		if d.starts[a] != lo || d.limits[a] != hi || (len(d.strides) == r && d.strides[a] != 1) {
			return false
		}
	}
	return true
}

// LogisticFloat32 sets out[i] = 1/(1+e^-in[i]) exactly as the Logistic op
// computes a float32 tensor of the same length. in and out must not overlap
// (the SIMD path revisits inputs for subnormal results).
func LogisticFloat32(in, out []float32) {
	if !logisticFloat32SIMD(in, out) {
		execLogisticGeneric(in, out)
	}
}

// MulFloat32 sets out[i] = l[i]·r[i] (each product rounded to float32, as
// the Mul op), with AVX2 vectors where the build and CPU have them.
// out may be l or r; all three have out's length at least.
func MulFloat32(out, l, r []float32) { binaryRun(binaryMul, out, l, r, 1, 1) }

// AddFloat32 sets out[i] = l[i] + r[i] (as the Add op), with AVX2 vectors
// where it can. out may be l or r.
func AddFloat32(out, l, r []float32) { binaryRun(binaryAdd, out, l, r, 1, 1) }

// ScaleFloat32 sets out[i] = x[i]·c (each product rounded to float32, as
// the Mul op by a scalar), with AVX2 vectors where it can.
func ScaleFloat32(out, x []float32, c float32) {
	binaryRun(binaryMul, out, x, []float32{c}, 1, 0)
}

// ContiguousSlice reports whether s, a Slice with unit strides, takes one
// contiguous run of its operand's row-major values, and returns the run's
// first value (an offset into the operand's flat data): the axes after the
// last one it narrows are whole, and those before it are taken at a single
// index.
func ContiguousSlice(s *gobackend.Node) (offset int, ok bool) {
	d, isSlice := s.Data.(*sliceNode)
	if s.OpType != compute.OpTypeSlice || !isSlice {
		return 0, false
	}
	x := s.Inputs[0].Shape
	r := x.Rank()
	if len(d.starts) != r || len(d.limits) != r {
		return 0, false
	}
	last := -1 // the last axis the slice narrows
	for a := range r {
		if len(d.strides) == r && d.strides[a] != 1 {
			return 0, false
		}
		if d.limits[a]-d.starts[a] != x.Dimensions[a] {
			last = a
		}
	}
	for a := range last {
		if d.limits[a]-d.starts[a] != 1 {
			return 0, false
		}
	}
	strides := x.Strides()
	for a := range r {
		offset += d.starts[a] * strides[a]
	}
	return offset, true
}
