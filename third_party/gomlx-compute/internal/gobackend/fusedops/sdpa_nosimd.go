// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: see sdpa_avx2.go.

//go:build !(amd64 && goexperiment.simd)

package fusedops

import "github.com/gomlx/compute/internal/gobackend"

// sdpaFastOK is false without the SIMD build: the fused attention reports
// itself not implemented, and graphs use their decomposed form.
var sdpaFastOK = false

func sdpaFloat32AVX2(backend *gobackend.Backend, q, k, v, mask, out []float32,
	maskBatchStride, maskHeadStride, B, H, KVH, S, T, D int, scale float32) {
	panic("fusedops: sdpaFloat32AVX2 without the SIMD build")
}
