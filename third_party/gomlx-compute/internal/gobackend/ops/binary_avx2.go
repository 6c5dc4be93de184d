// NPTI Studio patch: AVX2 runs for float32 Add, Sub, Mul and Div (see
// binary_broadcast.go). See ../../../NPTI-PATCHES.md.

//go:build amd64 && goexperiment.simd

package ops

import "simd/archsimd"

var binaryAVX2 = archsimd.X86.AVX2()

// binaryRunFloat32 is binaryRun for float32 with AVX2 vectors, 8 lanes at
// a time (IEEE operations lane by lane: the same results as the scalar
// loop); it reports false, doing nothing, for runs under 16 elements, two
// constant operands or a CPU without AVX2. The scalar tail runs after
// VZEROUPPER, as SSE code after AVX code pays a transition on this CPU.
func binaryRunFloat32(op binaryOpKind, out, l, r []float32, ls, rs int) bool {
	n := len(out)
	if !binaryAVX2 || n < 16 || (ls == 0 && rs == 0) {
		return false
	}
	n8 := n &^ 7
	switch {
	case ls == 1 && rs == 1:
		l, r = l[:n], r[:n]
		for i := 0; i < n8; i += 8 {
			x, y := archsimd.LoadFloat32x8Slice(l[i:]), archsimd.LoadFloat32x8Slice(r[i:])
			binaryVec(op, x, y).StoreSlice(out[i:])
		}
	case ls == 1:
		l = l[:n]
		y := archsimd.BroadcastFloat32x8(r[0])
		for i := 0; i < n8; i += 8 {
			binaryVec(op, archsimd.LoadFloat32x8Slice(l[i:]), y).StoreSlice(out[i:])
		}
	default: // rs == 1: l constant
		r = r[:n]
		x := archsimd.BroadcastFloat32x8(l[0])
		for i := 0; i < n8; i += 8 {
			binaryVec(op, x, archsimd.LoadFloat32x8Slice(r[i:])).StoreSlice(out[i:])
		}
	}
	archsimd.ClearAVXUpperBits()
	if n8 < n {
		binaryRun(op, out[n8:], l[n8*ls:], r[n8*rs:], ls, rs)
	}
	return true
}

func binaryVec(op binaryOpKind, x, y archsimd.Float32x8) archsimd.Float32x8 {
	switch op {
	case binarySub:
		return x.Sub(y)
	case binaryMul:
		return x.Mul(y)
	case binaryDiv:
		return x.Div(y)
	}
	return x.Add(y)
}
