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

// avx2ProductBF16 implements dot.ProductBF16 with the float32 router's
// choices (avx2RouterFloat32): few lhs rows or a small product go to the
// matrix-vector kernel, which streams the bfloat16 rows, widened in
// registers, with the float32 tiling; larger products go to the packed
// GEMM, which widens the rhs as it packs it. Either way each output is
// the float32 kernel's sum over the widened weights, in the same order:
// the results are those of float32 weights of the same values, bit for
// bit.
func avx2ProductBF16(backend *gobackend.Backend, lhs []float32, rhs []bfloat16.BFloat16,
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int, output []float32) {
	if batchSize == 0 || lhsCrossSize == 0 || rhsCrossSize == 0 {
		return
	}
	if contractingSize == 0 {
		clear(output[:batchSize*lhsCrossSize*rhsCrossSize])
		return
	}
	n, m, k := lhsCrossSize, rhsCrossSize, contractingSize
	if !avx2UseMatVec(n, m, k) {
		avx2LargeFloat32(backend, dot.LayoutTransposed, lhs, nil, rhs, batchSize, n, m, k, output)
		return
	}
	avx2MatVecTiles(backend, batchSize, m, k*4, mvSpan{uintptr(unsafe.Pointer(unsafe.SliceData(rhs))), len(rhs) * 2}, func(b, start, end int) {
		avx2MatVecBF16Tile(lhs[b*n*k:(b+1)*n*k], rhs[b*m*k:(b+1)*m*k], n, m, k, start, end, output[b*n*m:(b+1)*n*m])
	})
}

// avx2MatVecBF16Tile is avx2MatVecFloat32Tile over bfloat16 rhs rows
// [mStart, mEnd): the same blocks, row pairs and kernels. A contracting
// size that is not a multiple of 32 has no bfloat16 kernel: each block's
// rows are widened into a buffer and go through the float32 code.
func avx2MatVecBF16Tile(lhs []float32, rhs []bfloat16.BFloat16, n, m, k, mStart, mEnd int, out []float32) {
	defer archsimd.ClearAVXUpperBits()
	block := mEnd - mStart
	if n > 2 || k%32 != 0 { // ragged k: the widened block, a multiple of 4 rows as in float32
		block = avx2MatVecL2Block(k)
	}
	var wide []float32
	if k%32 != 0 {
		wide = make([]float32, min(block, mEnd-mStart)*k)
	}
	lhsBase := unsafe.Pointer(unsafe.SliceData(lhs))
	for j0 := mStart; j0 < mEnd; j0 += block {
		j1 := min(j0+block, mEnd)
		if wide != nil {
			for i, v := range rhs[j0*k : j1*k] {
				wide[i] = v.Float32()
			}
			w := unsafe.Pointer(unsafe.SliceData(wide))
			row := 0
			for ; row+1 < n; row += 2 {
				l0 := unsafe.Add(lhsBase, row*k*4)
				avx2MatVec2Rows(l0, unsafe.Add(l0, k*4), w, k, 0, j1-j0, out[row*m+j0:row*m+j1], out[(row+1)*m+j0:(row+1)*m+j1])
			}
			if row < n {
				avx2MatVec1Row(unsafe.Add(lhsBase, row*k*4), w, k, 0, j1-j0, out[row*m+j0:row*m+j1])
			}
			continue
		}
		w := (*uint16)(unsafe.Pointer(&rhs[j0*k]))
		row := 0
		for ; row+1 < n; row += 2 {
			avx2DotRows2BF16(&lhs[row*k], &lhs[(row+1)*k], w, &out[row*m+j0], &out[(row+1)*m+j0], k, j1-j0)
		}
		if row < n {
			avx2DotRowsBF16(&lhs[row*k], w, &out[row*m+j0], k, j1-j0)
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
