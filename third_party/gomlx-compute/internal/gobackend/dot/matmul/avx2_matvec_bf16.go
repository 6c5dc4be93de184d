// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: the matrix-vector kernel of avx2_matvec.go with a
// bfloat16 rhs (weights kept as bfloat16), widened to float32 as it is
// streamed. See ../../../../../NPTI-PATCHES.md.

//go:build amd64 && goexperiment.simd

package matmul

import (
	"simd/archsimd"
	"unsafe"

	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
)

func init() {
	if avx2MatVecOK {
		dot.ProductBF16 = avx2ProductBF16
	}
}

// avx2DotRowsBF16: out[r] = x · float32(w[r*k:(r+1)*k]) for r < rows
// (k%32 == 0).
//
//go:noescape
func avx2DotRowsBF16(x *float32, w *uint16, out *float32, k, rows int)

// avx2DotRows2BF16: out0[r] = x0 · w[r], out1[r] = x1 · w[r] (k%32 == 0).
//
//go:noescape
func avx2DotRows2BF16(x0, x1 *float32, w *uint16, out0, out1 *float32, k, rows int)

// avx2ProductBF16 implements dot.ProductBF16. Up to avx2MatVecMaxRows
// lhs rows, each bfloat16 rhs row is read once for all lhs rows, with the
// tiling of avx2MatVecFloat32Parallel, and per output the sums are those
// of the float32 kernel over the widened rows, in the same order. More lhs
// rows go to the packed GEMM, which widens the rhs as it packs it.
func avx2ProductBF16(backend *gobackend.Backend, lhs []float32, rhs []bfloat16.BFloat16,
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int, output []float32) bool {
	if batchSize == 0 || lhsCrossSize == 0 || rhsCrossSize == 0 {
		return true
	}
	if lhsCrossSize > avx2MatVecMaxRows {
		if contractingSize == 0 {
			clear(output[:batchSize*lhsCrossSize*rhsCrossSize])
			return true
		}
		avx2LargeFloat32(backend, dot.LayoutTransposed, lhs, nil, rhs, batchSize, lhsCrossSize, rhsCrossSize, contractingSize, output)
		return true
	}
	n, m, k := lhsCrossSize, rhsCrossSize, contractingSize
	avx2MatVecTiles(backend, batchSize, m, k*2, func(b, start, end int) {
		avx2MatVecBF16Tile(lhs[b*n*k:(b+1)*n*k], rhs[b*m*k:(b+1)*m*k], n, m, k, start, end, output[b*n*m:(b+1)*n*m])
	})
	return true
}

// avx2MatVecBF16Tile computes rhs rows [mStart, mEnd) of one batch entry,
// in blocks that stay in L2 cache while more than two lhs rows pass.
func avx2MatVecBF16Tile(lhs []float32, rhs []bfloat16.BFloat16, n, m, k, mStart, mEnd int, out []float32) {
	if mStart >= mEnd || k == 0 {
		for row := range n {
			clear(out[row*m+mStart : row*m+mEnd])
		}
		return
	}
	defer archsimd.ClearAVXUpperBits()
	block := mEnd - mStart
	if n > 2 {
		block = max(4, (avx2MatVecL2Bytes/(k*2))&^3)
	}
	for j0 := mStart; j0 < mEnd; j0 += block {
		j1 := min(j0+block, mEnd)
		w := (*uint16)(unsafe.Pointer(&rhs[j0*k]))
		row := 0
		if k%32 == 0 {
			for ; row+1 < n; row += 2 {
				avx2DotRows2BF16(&lhs[row*k], &lhs[(row+1)*k], w, &out[row*m+j0], &out[(row+1)*m+j0], k, j1-j0)
			}
			if row < n {
				avx2DotRowsBF16(&lhs[row*k], w, &out[row*m+j0], k, j1-j0)
			}
			continue
		}
		for ; row < n; row++ { // ragged contracting size: plain loops
			x := lhs[row*k : (row+1)*k]
			for j := j0; j < j1; j++ {
				var s float32
				for i, v := range rhs[j*k : (j+1)*k] {
					s += x[i] * v.Float32()
				}
				out[row*m+j] = s
			}
		}
	}
}

// avx2PackStrip16BF16 is avx2PackStrip16 from bfloat16 rows (stride
// bytes apart), widened to float32.
//
//go:noescape
func avx2PackStrip16BF16(src *uint16, stride int, dst *float32, k8 int)

// avx2PackRHSTransposedBF16 is avx2PackRHSTransposedFloat32 from a
// bfloat16 rhs: the same float32 panel (16-row strips, the last one
// zero-padded) of the widened values.
func avx2PackRHSTransposedBF16(rhs []bfloat16.BFloat16, panel []float32, rowStart, colStart, cols, copyRows, contractingCols int) {
	if copyRows == 0 || contractingCols == 0 {
		return
	}
	full := copyRows / 16 * 16
	k8 := contractingCols / 8
	for s := 0; s < copyRows; s += 16 {
		strip := panel[s*contractingCols : (s+16)*contractingCols]
		src := rhs[(rowStart+s)*cols+colStart:]
		k := 0
		if s < full && k8 > 0 {
			avx2PackStrip16BF16((*uint16)(unsafe.Pointer(&src[0])), cols*2, &strip[0], k8)
			k = k8 * 8
		}
		rows := min(16, copyRows-s)
		for ; k < contractingCols; k++ {
			for r := range rows {
				strip[k*16+r] = src[r*cols+k].Float32()
			}
			clear(strip[k*16+rows : k*16+16])
		}
	}
}
