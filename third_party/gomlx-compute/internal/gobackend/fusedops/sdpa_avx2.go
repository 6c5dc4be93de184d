// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: a float32 AVX2 path for the fused scaled dot-product
// attention (BHSD layout, additive mask). See ../../../NPTI-PATCHES.md.

//go:build amd64 && goexperiment.simd

package fusedops

import (
	"math"
	"simd/archsimd"
	"unsafe"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot/matmul"
	"github.com/gomlx/compute/internal/gobackend/ops"
)

// sdpaFastOK: the CPU runs the AVX2/FMA kernels this path uses.
var sdpaFastOK = softmaxAVX2

// sdpaFastMinWork is the least multiply-adds (B·H·S·T·D) worth spreading
// over the worker pool. A decode step's smaller attention (one query row a
// head, S = 1) from sdpaTeamMinWork up is spread over the matrix-vector
// team, whose spinning helpers take work in about a microsecond (waking
// pool workers costs tens): −0.5–1 ms a float32 decode step at ~300 cached
// tokens, SmolLM2-135M's shape. (Prefill keeps the pool: its products run
// on pool workers, which spinning team helpers would compete with.) The
// rest stays on the caller.
const (
	sdpaFastMinWork = 1 << 20
	sdpaTeamMinWork = 1 << 14
)

const negInfBits = 0xff800000

// sdpaFloat32AVX2 computes attention for query [B, H, S, D] and key/value
// [B, KVH, T, D] (BHSD), with an optional additive mask indexed by
// (maskBatchStride, maskHeadStride, row s·T + t), D%32 == 0 and T ≥ 8.
//
// Each query row: scores = (q·k_t)·scale + mask_t for t below the last
// unmasked slot (q·k_t by the matrix-vector row kernel), the rest -inf;
// softmax by softmaxLastAxisFloat32SIMD (masked slots come out exactly 0);
// output = Σ_t p_t·v_t over the slots below that bound. The scale and the
// mask are applied as two roundings, as the decomposed graph does; slots
// past the last unmasked one contribute exactly 0 there too, so skipping
// them changes nothing.
func sdpaFloat32AVX2(backend *gobackend.Backend, q, k, v, mask, out []float32,
	maskBatchStride, maskHeadStride, B, H, KVH, S, T, D int, scale float32) {
	G := H / KVH
	rowsPerUnit := G * S
	units := B * KVH
	work := B * H * S * T * D
	maxWorkers := 1
	if backend != nil && backend.Workers != nil {
		maxWorkers = backend.Workers.AdjustedMaxParallelism()
	}
	doRows := func(u, r0, r1 int, sc []float32) {
		b, kvh := u/KVH, u%KVH
		kBase := (b*KVH + kvh) * T * D
		keys, vals := k[kBase:kBase+T*D], v[kBase:kBase+T*D]
		for r := r0; r < r1; r++ {
			h, s := kvh*G+r/S, r%S
			qOff := ((b*H+h)*S + s) * D
			var mrow []float32
			if mask != nil {
				mOff := b*maskBatchStride + h*maskHeadStride + s*T
				mrow = mask[mOff : mOff+T]
			}
			sdpaRowAVX2(q[qOff:qOff+D], keys, vals, mrow, out[qOff:qOff+D], sc, T, D, scale)
		}
	}
	// Score rows of T+8 floats from the backend's buffer pool (decode runs
	// this once per layer and step).
	scratch := func() (*gobackend.Buffer, []float32) {
		if backend != nil {
			if ref, sc, ok := matmul.GetBuffer[float32](backend, T+8); ok {
				return ref, sc
			}
		}
		return nil, make([]float32, T+8)
	}
	release := func(ref *gobackend.Buffer) {
		if ref != nil {
			backend.PutBuffer(ref)
		}
	}
	team := S == 1 && work >= sdpaTeamMinWork
	if maxWorkers <= 1 || (work < sdpaFastMinWork && !team) {
		ref, sc := scratch()
		for u := range units {
			doRows(u, 0, rowsPerUnit, sc)
		}
		release(ref)
		return
	}
	perUnit := max(1, (2*maxWorkers+units-1)/units) // about 2 chunks per worker
	step := (rowsPerUnit + perUnit - 1) / perUnit
	chunksPerUnit := (rowsPerUnit + step - 1) / step
	chunk := func(c int) {
		u, r0 := c/chunksPerUnit, (c%chunksPerUnit)*step
		ref, sc := scratch()
		doRows(u, r0, min(r0+step, rowsPerUnit), sc)
		release(ref)
	}
	if work < sdpaFastMinWork {
		matmul.TeamRun(backend, units*chunksPerUnit, chunk)
		return
	}
	ops.ParallelChunks(backend, units*chunksPerUnit, chunk)
}

// sdpaRowAVX2 computes one query row's attention output; sc is scratch of
// T+8 floats.
func sdpaRowAVX2(q, keys, vals, mrow, out, sc []float32, T, D int, scale float32) {
	// The slots at and past hi are all masked (-inf).
	hi := T
	if mrow != nil {
		for hi > 0 && *(*uint32)(unsafe.Pointer(&mrow[hi-1])) == negInfBits {
			hi--
		}
	}
	if hi == 0 {
		// Every slot masked: zeros, as the generic path of this op gives.
		clear(out)
		return
	}
	if !matmul.DotRowsFloat32(q, keys[:hi*D], sc[:hi], D) {
		panic("fusedops: the AVX2 attention ran where sdpaFastApplies rules it out")
	}

	// scores·scale + mask, eight at a time; the tail after VZEROUPPER.
	load := func(s []float32, i int) archsimd.Float32x8 {
		return archsimd.LoadFloat32x8((*[8]float32)(unsafe.Pointer(&s[i])))
	}
	hi8 := hi &^ 7
	sv := archsimd.BroadcastFloat32x8(scale)
	for i := 0; i < hi8; i += 8 {
		x := load(sc, i).Mul(sv)
		if mrow != nil {
			x = x.Add(load(mrow, i))
		}
		x.Store((*[8]float32)(unsafe.Pointer(&sc[i])))
	}
	archsimd.ClearAVXUpperBits()
	for i := hi8; i < hi; i++ {
		x := sc[i] * scale
		if mrow != nil {
			x += mrow[i]
		}
		sc[i] = x
	}
	n := min(max(8, (hi+7)&^7), T)
	ninf := float32(math.Inf(-1))
	for i := hi; i < n; i++ {
		sc[i] = ninf
	}
	softmaxLastAxisFloat32SIMD(sc[:n], sc[:n], 1, n)

	// out = Σ_t p_t·v_t, 32 output lanes at a time.
	for d0 := 0; d0 < D; d0 += 32 {
		var a0, a1, a2, a3 archsimd.Float32x8
		for t := range hi {
			p := archsimd.LoadFloat32x4((*[4]float32)(unsafe.Pointer(&sc[t]))).Broadcast1To8()
			row := vals[t*D+d0 : t*D+d0+32]
			a0 = load(row, 0).MulAdd(p, a0)
			a1 = load(row, 8).MulAdd(p, a1)
			a2 = load(row, 16).MulAdd(p, a2)
			a3 = load(row, 24).MulAdd(p, a3)
		}
		o := out[d0 : d0+32]
		a0.Store((*[8]float32)(unsafe.Pointer(&o[0])))
		a1.Store((*[8]float32)(unsafe.Pointer(&o[8])))
		a2.Store((*[8]float32)(unsafe.Pointer(&o[16])))
		a3.Store((*[8]float32)(unsafe.Pointer(&o[24])))
	}
	archsimd.ClearAVXUpperBits()
}
