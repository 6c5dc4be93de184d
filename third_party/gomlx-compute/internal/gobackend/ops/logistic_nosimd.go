// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: without SIMD the float64 path of execLogistic is used.

//go:build !(amd64 && goexperiment.simd)

package ops

func logisticFloat32SIMD(inputs, outputs []float32) bool { return false }
