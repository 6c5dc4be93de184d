// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: see softmax_avx2.go.

//go:build !(amd64 && goexperiment.simd)

package fusedops

func softmaxLastAxisFloat32SIMD(input, output []float32, rows, n int) bool { return false }
