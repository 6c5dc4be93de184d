// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: float32 softmax over the last axis, eight lanes at a
// time (attention probabilities).

//go:build amd64 && goexperiment.simd

package fusedops

import (
	"math"
	"simd/archsimd"
	"unsafe"

	"github.com/gomlx/compute/internal/fastmath"
)

var softmaxAVX2 = archsimd.X86.AVX2() && archsimd.X86.FMA()

// softmaxLastAxisFloat32SIMD computes the softmax of each of the rows of n
// values, with the Cephes exp of fastmath.Exp32 (arguments below its range
// give 0, as there). Scalar steps run only after VZEROUPPER: SSE code
// between AVX instructions pays a transition penalty on every instruction.
// It reports false when the CPU lacks AVX2/FMA or rows are short.
func softmaxLastAxisFloat32SIMD(input, output []float32, rows, n int) bool {
	if !softmaxAVX2 || n < 8 || len(input) < rows*n || len(output) < rows*n {
		return false
	}
	n8 := n &^ 7
	var lanes [8]float32
	b := archsimd.BroadcastFloat32x8
	for r := range rows {
		in, out := input[r*n:(r+1)*n], output[r*n:(r+1)*n]
		load := func(s []float32, i int) archsimd.Float32x8 {
			return archsimd.LoadFloat32x8((*[8]float32)(unsafe.Pointer(&s[i])))
		}

		// Max.
		mv := load(in, 0)
		for i := 8; i < n8; i += 8 {
			mv = mv.Max(load(in, i))
		}
		mv.Store(&lanes)
		archsimd.ClearAVXUpperBits()
		mx := float32(math.Inf(-1))
		for _, v := range lanes {
			mx = max(mx, v)
		}
		for _, v := range in[n8:] {
			mx = max(mx, v)
		}

		// Exp and sum.
		sv := softmaxExpSum(in, out, n8, archsimd.BroadcastFloat32x8(mx))
		sv.Store(&lanes)
		archsimd.ClearAVXUpperBits()
		var sum float32
		for _, v := range lanes {
			sum += v
		}
		for i := n8; i < n; i++ {
			out[i] = fastmath.Exp32(in[i] - mx)
			sum += out[i]
		}

		// Normalize.
		inv := b(1 / sum)
		for i := 0; i < n8; i += 8 {
			load(out, i).Mul(inv).Store((*[8]float32)(unsafe.Pointer(&out[i])))
		}
		archsimd.ClearAVXUpperBits()
		invS := 1 / sum
		for i := n8; i < n; i++ {
			out[i] *= invS
		}
	}
	return true
}

// softmaxK holds the exp constants as vectors (minLogF, ½, 1, log₂e, ln2 in
// two parts, the polynomial p7…p2), loaded with VEX moves: Go
// materializes a float constant (or a scalar spilled around a loop) with a
// legacy-SSE MOVSS/XORPS, and on this project's development CPU each such
// instruction while the upper halves of the YMM registers are dirty costs a
// state transition of ~100 cycles — more than the row of a decode step's
// attention softmax.
var softmaxK = func() (k [12][8]float32) {
	for i, c := range [12]float32{-88.02969187150841, 0.5, 1, 1.44269504088896341, 0.693359375, -2.12194440e-4,
		1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1} {
		for j := range k[i] {
			k[i][j] = c
		}
	}
	return k
}()

// softmaxExpSum sets out[i] = exp(in[i] - m) for i < n8 (Cephes exp of
// fastmath.Exp32; arguments below its range give 0) and returns the lane
// sums. It runs no scalar float code: its caller clears the upper halves
// before the scalar code that follows.
//
//go:noinline
func softmaxExpSum(in, out []float32, n8 int, m archsimd.Float32x8) archsimd.Float32x8 {
	kv := func(i int) archsimd.Float32x8 { return archsimd.LoadFloat32x8(&softmaxK[i]) }
	bias := archsimd.BroadcastInt32x8(127)
	var sv archsimd.Float32x8
	for i := 0; i < n8; i += 8 {
		t := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Pointer(&in[i]))).Sub(m) // ≤ 0
		lo := kv(0)
		valid := t.GreaterEqual(lo)
		t = t.Max(lo)
		z := t.MulAdd(kv(3), kv(1)).Floor()
		g := t.Sub(z.Mul(kv(4))).Sub(z.Mul(kv(5)))
		p := g.MulAdd(kv(6), kv(7))
		p = p.MulAdd(g, kv(8))
		p = p.MulAdd(g, kv(9))
		p = p.MulAdd(g, kv(10))
		p = p.MulAdd(g, kv(11))
		e := p.Mul(g.Mul(g)).Add(g).Add(kv(2))
		e = e.Mul(z.ConvertToInt32().Add(bias).ShiftAllLeft(23).AsFloat32x8()).Masked(valid)
		e.Store((*[8]float32)(unsafe.Pointer(&out[i])))
		sv = sv.Add(e)
	}
	return sv
}
