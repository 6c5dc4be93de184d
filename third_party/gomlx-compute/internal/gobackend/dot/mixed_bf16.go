// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: float32 × bfloat16 products for weights kept as
// bfloat16 in memory. See ../../../NPTI-PATCHES.md.

package dot

import (
	"slices"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/pkg/errors"
)

// ProductBF16, where a build sets it (the AVX2 kernels), computes
// output[b, n, m] = Σ_k lhs[b, n, k] · float32(rhs[b, m, k]) in the
// transposed layout, widening rhs as its kernels read it (every size).
var ProductBF16 func(backend *gobackend.Backend, lhs []float32, rhs []bfloat16.BFloat16,
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int, output []float32)

// BF16Products counts the products executed with a bfloat16 rhs read
// directly (diagnostics and tests).
var BF16Products atomic.Int64

// bf16RHS reports the bfloat16 value a transposed-layout float32 product's
// rhs was converted from: the graph x · ConvertDType(w, Float32)ᵀ, as a
// model with bfloat16 weights builds it, then reads w itself, and the
// conversion, with no other user, is never executed (it stays in the
// graph, unused). Converting would write, and the product read, twice the
// bytes of w at every call.
func bf16RHS(rhs *gobackend.Node, params *NodeData) (*gobackend.Node, bool) {
	if params.Layout != LayoutTransposed || params.InputDType != dtypes.Float32 || params.OutputDType != dtypes.Float32 ||
		rhs.OpType != compute.OpTypeConvertDType || len(rhs.Inputs) != 1 {
		return nil, false
	}
	src := rhs.Inputs[0]
	if src.Shape.DType != dtypes.BFloat16 || !slices.Equal(src.Shape.Dimensions, rhs.Shape.Dimensions) {
		return nil, false
	}
	return src, true
}

// mixedBlockBytes is the float32 copy of the rhs rows one step of the
// generic path converts (at least 16 rows; it stays in cache while the
// product reads it).
const mixedBlockBytes = 1 << 20

// execMixedBF16 computes a float32 × bfloat16 (rhs) product in the
// transposed layout: with ProductBF16 where it applies, else by converting
// blocks of rhs rows to float32 and running the float32 implementation on
// each, so no float32 copy of the whole rhs ever exists.
func execMixedBF16(backend *gobackend.Backend, params *NodeData, lhs []float32, rhs []bfloat16.BFloat16, output []float32) error {
	BF16Products.Add(1)
	B, M, N, K := params.BatchSize, params.LHSCrossSize, params.RHSCrossSize, params.ContractingSize
	if ProductBF16 != nil {
		ProductBF16(backend, lhs, rhs, B, M, N, K, output)
		return nil
	}
	if B == 0 || M == 0 || N == 0 {
		return nil
	}
	impl := FindRegisteredImplementation(LayoutTransposed, dtypes.Float32, dtypes.Float32)
	if impl == nil {
		return errors.Errorf("no float32 DotGeneral implementation for the transposed layout")
	}
	f32 := impl.implFn.(DotGeneralExecFn[float32, float32])
	nb := min(N, max(16, mixedBlockBytes/(4*max(K, 1)))&^15) // ≥ 1
	wBuf, err := backend.GetBuffer(shapes.Make(dtypes.Float32, nb*K))
	if err != nil {
		return err
	}
	defer backend.PutBuffer(wBuf)
	oBuf, err := backend.GetBuffer(shapes.Make(dtypes.Float32, M*nb))
	if err != nil {
		return err
	}
	defer backend.PutBuffer(oBuf)
	w, o := wBuf.Flat.([]float32), oBuf.Flat.([]float32)
	for b := range B {
		lhsB, rhsB, outB := lhs[b*M*K:(b+1)*M*K], rhs[b*N*K:(b+1)*N*K], output[b*M*N:(b+1)*M*N]
		for n0 := 0; n0 < N; n0 += nb {
			n1 := min(n0+nb, N)
			rows := n1 - n0
			for i, v := range rhsB[n0*K : n1*K] {
				w[i] = v.Float32()
			}
			if rows == N { // one block: the output is already in place
				f32(backend, LayoutTransposed, lhsB, w[:rows*K], 1, M, rows, K, outB)
				continue
			}
			f32(backend, LayoutTransposed, lhsB, w[:rows*K], 1, M, rows, K, o[:M*rows])
			for m := range M {
				copy(outB[m*N+n0:m*N+n1], o[m*rows:(m+1)*rows])
			}
		}
	}
	return nil
}
