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
	const (
		minLogF = -88.02969187150841
		log2E   = 1.44269504088896341
		ln2Hi   = 0.693359375
		ln2Lo   = -2.12194440e-4
		p7      = 1.9875691500e-4
		p6      = 1.3981999507e-3
		p5      = 8.3334519073e-3
		p4      = 4.1665795894e-2
		p3      = 1.6666665459e-1
		p2      = 5.0000001201e-1
	)
	n8 := n &^ 7
	var lanes [8]float32
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
		b := archsimd.BroadcastFloat32x8
		lo, half, one, zero := b(minLogF), b(0.5), b(1), b(0)
		cLog2E, cLn2Hi, cLn2Lo := b(log2E), b(ln2Hi), b(ln2Lo)
		c7, c6, c5, c4, c3, c2 := b(p7), b(p6), b(p5), b(p4), b(p3), b(p2)
		bias := archsimd.BroadcastInt32x8(127)
		m := b(mx)
		sv := zero
		for i := 0; i < n8; i += 8 {
			t := load(in, i).Sub(m) // ≤ 0
			valid := t.GreaterEqual(lo)
			t = t.Max(lo)
			z := t.MulAdd(cLog2E, half).Floor()
			g := t.Sub(z.Mul(cLn2Hi)).Sub(z.Mul(cLn2Lo))
			p := g.MulAdd(c7, c6)
			p = p.MulAdd(g, c5)
			p = p.MulAdd(g, c4)
			p = p.MulAdd(g, c3)
			p = p.MulAdd(g, c2)
			e := p.Mul(g.Mul(g)).Add(g).Add(one)
			e = e.Mul(z.ConvertToInt32().Add(bias).ShiftAllLeft(23).AsFloat32x8()).Masked(valid)
			e.Store((*[8]float32)(unsafe.Pointer(&out[i])))
			sv = sv.Add(e)
		}
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
