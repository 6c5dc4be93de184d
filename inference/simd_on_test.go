//go:build amd64 && goexperiment.simd

package inference

import "simd/archsimd"

// fastAttention: the Go backend has its AVX2 fused attention in this build
// on this CPU.
var fastAttention = archsimd.X86.AVX2() && archsimd.X86.FMA()
