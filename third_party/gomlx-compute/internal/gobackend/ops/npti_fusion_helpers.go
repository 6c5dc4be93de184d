// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: what the fusion passes of package fusedops need from
// the ops here. See ../../../NPTI-PATCHES.md.

package ops

import (
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
)

// SliceBounds returns a Slice node's starts, limits and strides.
func SliceBounds(n *gobackend.Node) (starts, limits, strides []int, ok bool) {
	if n.OpType != compute.OpTypeSlice {
		return nil, nil, nil, false
	}
	d, ok := n.Data.(*sliceNode)
	if !ok {
		return nil, nil, nil, false
	}
	return slices.Clone(d.starts), slices.Clone(d.limits), slices.Clone(d.strides), true
}

// LogisticFloat32 sets out[i] = 1/(1+e^-in[i]) exactly as the Logistic op
// computes a float32 tensor of the same length. in and out must not overlap
// (the SIMD path revisits inputs for subnormal results).
func LogisticFloat32(in, out []float32) {
	if !logisticFloat32SIMD(in, out) {
		execLogisticGeneric(in, out)
	}
}
