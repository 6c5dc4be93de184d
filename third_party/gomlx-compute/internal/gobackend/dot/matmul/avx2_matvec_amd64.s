// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: the inner loops of avx2_matvec.go. One rhs row at a
// time, read sequentially with the FMAs taking it straight from memory, so
// few instructions stand between the loads and the hardware prefetcher
// streams at the memory bandwidth (an archsimd loop reached ~60% of it).

//go:build amd64 && goexperiment.simd

#include "textflag.h"

// func avx2DotRows(x, w, out *float32, k, rows int)
//
// out[r] = x · w[r*k : (r+1)*k] for r < rows; k must be a multiple of 32.
TEXT ·avx2DotRows(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ k+24(FP), CX
	MOVQ rows+32(FP), BX
	SHLQ $2, CX

row1:
	TESTQ BX, BX
	JZ    done1
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX

inner1:
	VMOVUPS     (SI)(AX*1), Y4
	VFMADD231PS (DI)(AX*1), Y4, Y0
	VMOVUPS     32(SI)(AX*1), Y5
	VFMADD231PS 32(DI)(AX*1), Y5, Y1
	VMOVUPS     64(SI)(AX*1), Y6
	VFMADD231PS 64(DI)(AX*1), Y6, Y2
	VMOVUPS     96(SI)(AX*1), Y7
	VFMADD231PS 96(DI)(AX*1), Y7, Y3
	ADDQ        $128, AX
	CMPQ        AX, CX
	JLT         inner1

	VADDPS       Y0, Y1, Y0
	VADDPS       Y2, Y3, Y2
	VADDPS       Y0, Y2, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X0, X1, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (DX)
	ADDQ         $4, DX
	ADDQ         CX, DI
	DECQ         BX
	JMP          row1

done1:
	VZEROUPPER
	RET

// func avx2DotRows2(x0, x1, w, out0, out1 *float32, k, rows int)
//
// out0[r] = x0 · w[r], out1[r] = x1 · w[r]: each row of w read once for
// both; k must be a multiple of 32.
TEXT ·avx2DotRows2(SB), NOSPLIT, $0-56
	MOVQ x0+0(FP), SI
	MOVQ x1+8(FP), R8
	MOVQ w+16(FP), DI
	MOVQ out0+24(FP), DX
	MOVQ out1+32(FP), R9
	MOVQ k+40(FP), CX
	MOVQ rows+48(FP), BX
	SHLQ $2, CX

row2:
	TESTQ BX, BX
	JZ    done2
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX

inner2:
	VMOVUPS     (DI)(AX*1), Y8
	VMOVUPS     32(DI)(AX*1), Y9
	VMOVUPS     64(DI)(AX*1), Y10
	VMOVUPS     96(DI)(AX*1), Y11
	VFMADD231PS (SI)(AX*1), Y8, Y0
	VFMADD231PS 32(SI)(AX*1), Y9, Y1
	VFMADD231PS 64(SI)(AX*1), Y10, Y2
	VFMADD231PS 96(SI)(AX*1), Y11, Y3
	VFMADD231PS (R8)(AX*1), Y8, Y4
	VFMADD231PS 32(R8)(AX*1), Y9, Y5
	VFMADD231PS 64(R8)(AX*1), Y10, Y6
	VFMADD231PS 96(R8)(AX*1), Y11, Y7
	ADDQ        $128, AX
	CMPQ        AX, CX
	JLT         inner2

	VADDPS       Y0, Y1, Y0
	VADDPS       Y2, Y3, Y2
	VADDPS       Y0, Y2, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X0, X1, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (DX)
	VADDPS       Y4, Y5, Y4
	VADDPS       Y6, Y7, Y6
	VADDPS       Y4, Y6, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS       X4, X5, X4
	VHADDPS      X4, X4, X4
	VHADDPS      X4, X4, X4
	VMOVSS       X4, (R9)
	ADDQ         $4, DX
	ADDQ         $4, R9
	ADDQ         CX, DI
	DECQ         BX
	JMP          row2

done2:
	VZEROUPPER
	RET

// func avx2Kernel4x16(lhs, rhs, out *float32, outStride, k int)
//
// The packed GEMM's micro-kernel: lhs is a packed [k][4] panel, rhs a
// packed [k][16] panel; the 4×16 product is stored (not added) at out, rows
// outStride floats apart. Eight accumulators, broadcasts and FMAs straight
// from the packed panels.
TEXT ·avx2Kernel4x16(SB), NOSPLIT, $0-40
	MOVQ lhs+0(FP), SI
	MOVQ rhs+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ outStride+24(FP), R8
	MOVQ k+32(FP), CX
	SHLQ $2, R8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ  CX, CX
	JZ     store4x16

loop4x16:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS 4(SI), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS 8(SI), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS 12(SI), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         $64, DI
	ADDQ         $16, SI
	DECQ         CX
	JNZ          loop4x16

store4x16:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    R8, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ    R8, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R8, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	VZEROUPPER
	RET

// The 8×8 transpose of Y0–Y7 (rows), stored as 8 rows of 8 at off(DI),
// off+64(DI), …; Y8–Y15 are clobbered.
#define TRANSPOSE8REGS(off) \
	VUNPCKLPS Y1, Y0, Y8 \
	VUNPCKHPS Y1, Y0, Y9 \
	VUNPCKLPS Y3, Y2, Y10 \
	VUNPCKHPS Y3, Y2, Y11 \
	VUNPCKLPS Y5, Y4, Y12 \
	VUNPCKHPS Y5, Y4, Y13 \
	VUNPCKLPS Y7, Y6, Y14 \
	VUNPCKHPS Y7, Y6, Y15 \
	VSHUFPS $0x44, Y10, Y8, Y0 \
	VSHUFPS $0xEE, Y10, Y8, Y1 \
	VSHUFPS $0x44, Y11, Y9, Y2 \
	VSHUFPS $0xEE, Y11, Y9, Y3 \
	VSHUFPS $0x44, Y14, Y12, Y4 \
	VSHUFPS $0xEE, Y14, Y12, Y5 \
	VSHUFPS $0x44, Y15, Y13, Y6 \
	VSHUFPS $0xEE, Y15, Y13, Y7 \
	VPERM2F128 $0x20, Y4, Y0, Y8 \
	VPERM2F128 $0x20, Y5, Y1, Y9 \
	VPERM2F128 $0x20, Y6, Y2, Y10 \
	VPERM2F128 $0x20, Y7, Y3, Y11 \
	VPERM2F128 $0x31, Y4, Y0, Y12 \
	VPERM2F128 $0x31, Y5, Y1, Y13 \
	VPERM2F128 $0x31, Y6, Y2, Y14 \
	VPERM2F128 $0x31, Y7, Y3, Y15 \
	VMOVUPS Y8, (off+0)(DI) \
	VMOVUPS Y9, (off+64)(DI) \
	VMOVUPS Y10, (off+128)(DI) \
	VMOVUPS Y11, (off+192)(DI) \
	VMOVUPS Y12, (off+256)(DI) \
	VMOVUPS Y13, (off+320)(DI) \
	VMOVUPS Y14, (off+384)(DI) \
	VMOVUPS Y15, (off+448)(DI)

// 8×8 transpose of the float32 rows at (DX), (DX)(R8*1), … (8 rows of
// stride R8 bytes), stored as 8 rows of 8 at off(DI), off+64(DI), ….
#define TRANSPOSE8(off) \
	VMOVUPS (DX), Y0 \
	VMOVUPS (DX)(R8*1), Y1 \
	VMOVUPS (DX)(R8*2), Y2 \
	VMOVUPS (DX)(R9*1), Y3 \
	VMOVUPS (DX)(R8*4), Y4 \
	VMOVUPS (DX)(R10*1), Y5 \
	VMOVUPS (DX)(R9*2), Y6 \
	VMOVUPS (DX)(R11*1), Y7 \
	TRANSPOSE8REGS(off)

// func avx2PackStrip16(src *float32, stride int, dst *float32, k8 int)
// Packs 16 rows (stride bytes apart) × 8·k8 columns into dst[k][16].
TEXT ·avx2PackStrip16(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), R8
	MOVQ dst+16(FP), DI
	MOVQ k8+24(FP), CX
	LEAQ (R8)(R8*2), R9
	LEAQ (R8)(R8*4), R10
	LEAQ (R9)(R8*4), R11
	MOVQ R8, R12
	SHLQ $3, R12

pack16:
	TESTQ CX, CX
	JZ    pack16done
	MOVQ  SI, DX
	TRANSPOSE8(0)
	ADDQ  R12, DX
	TRANSPOSE8(32)
	ADDQ  $32, SI
	ADDQ  $512, DI
	DECQ  CX
	JMP   pack16

pack16done:
	VZEROUPPER
	RET

// Eight bfloat16 at off(DI)(AX*1) widened to float32 in reg.
#define BF16x8(off, reg) \
	VPMOVZXWD off(DI)(AX*1), reg \
	VPSLLD    $16, reg, reg

// func avx2DotRowsBF16(x *float32, w *uint16, out *float32, k, rows int)
//
// out[r] = x · float32(w[r*k : (r+1)*k]) for r < rows, w bfloat16; k must
// be a multiple of 32. The same sums in the same order as avx2DotRows over
// the widened rows. A PREFETCHNTA 1 KiB ahead of the weight stream: a
// decode step with bfloat16 weights ran ~8 % faster with it (13 of 15
// alternating rounds; the graph's small ops between products found their
// data in cache more often); in the float32 kernels it made decode slower.
TEXT ·avx2DotRowsBF16(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ k+24(FP), CX
	MOVQ rows+32(FP), BX
	SHLQ $1, CX

rowh1:
	TESTQ BX, BX
	JZ    doneh1
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX

innerh1:
	PREFETCHNTA 1024(DI)(AX*1)
	BF16x8(0, Y4)
	VFMADD231PS (SI)(AX*2), Y4, Y0
	BF16x8(16, Y5)
	VFMADD231PS 32(SI)(AX*2), Y5, Y1
	BF16x8(32, Y6)
	VFMADD231PS 64(SI)(AX*2), Y6, Y2
	BF16x8(48, Y7)
	VFMADD231PS 96(SI)(AX*2), Y7, Y3
	ADDQ        $64, AX
	CMPQ        AX, CX
	JLT         innerh1

	VADDPS       Y0, Y1, Y0
	VADDPS       Y2, Y3, Y2
	VADDPS       Y0, Y2, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X0, X1, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (DX)
	ADDQ         $4, DX
	ADDQ         CX, DI
	DECQ         BX
	JMP          rowh1

doneh1:
	VZEROUPPER
	RET

// func avx2DotRows2BF16(x0, x1 *float32, w *uint16, out0, out1 *float32, k, rows int)
//
// avx2DotRows2 with w bfloat16: each row widened once for both lhs rows.
TEXT ·avx2DotRows2BF16(SB), NOSPLIT, $0-56
	MOVQ x0+0(FP), SI
	MOVQ x1+8(FP), R8
	MOVQ w+16(FP), DI
	MOVQ out0+24(FP), DX
	MOVQ out1+32(FP), R9
	MOVQ k+40(FP), CX
	MOVQ rows+48(FP), BX
	SHLQ $1, CX

rowh2:
	TESTQ BX, BX
	JZ    doneh2
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX

innerh2:
	PREFETCHNTA 1024(DI)(AX*1)
	BF16x8(0, Y8)
	BF16x8(16, Y9)
	BF16x8(32, Y10)
	BF16x8(48, Y11)
	VFMADD231PS (SI)(AX*2), Y8, Y0
	VFMADD231PS 32(SI)(AX*2), Y9, Y1
	VFMADD231PS 64(SI)(AX*2), Y10, Y2
	VFMADD231PS 96(SI)(AX*2), Y11, Y3
	VFMADD231PS (R8)(AX*2), Y8, Y4
	VFMADD231PS 32(R8)(AX*2), Y9, Y5
	VFMADD231PS 64(R8)(AX*2), Y10, Y6
	VFMADD231PS 96(R8)(AX*2), Y11, Y7
	ADDQ        $64, AX
	CMPQ        AX, CX
	JLT         innerh2

	VADDPS       Y0, Y1, Y0
	VADDPS       Y2, Y3, Y2
	VADDPS       Y0, Y2, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X0, X1, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (DX)
	VADDPS       Y4, Y5, Y4
	VADDPS       Y6, Y7, Y6
	VADDPS       Y4, Y6, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS       X4, X5, X4
	VHADDPS      X4, X4, X4
	VHADDPS      X4, X4, X4
	VMOVSS       X4, (R9)
	ADDQ         $4, DX
	ADDQ         $4, R9
	ADDQ         CX, DI
	DECQ         BX
	JMP          rowh2

doneh2:
	VZEROUPPER
	RET

// TRANSPOSE8 with bfloat16 rows (stride R8 bytes) widened to float32 as
// they are loaded.
#define TRANSPOSE8H(off) \
	VPMOVZXWD (DX), Y0 \
	VPMOVZXWD (DX)(R8*1), Y1 \
	VPMOVZXWD (DX)(R8*2), Y2 \
	VPMOVZXWD (DX)(R9*1), Y3 \
	VPMOVZXWD (DX)(R8*4), Y4 \
	VPMOVZXWD (DX)(R10*1), Y5 \
	VPMOVZXWD (DX)(R9*2), Y6 \
	VPMOVZXWD (DX)(R11*1), Y7 \
	VPSLLD $16, Y0, Y0 \
	VPSLLD $16, Y1, Y1 \
	VPSLLD $16, Y2, Y2 \
	VPSLLD $16, Y3, Y3 \
	VPSLLD $16, Y4, Y4 \
	VPSLLD $16, Y5, Y5 \
	VPSLLD $16, Y6, Y6 \
	VPSLLD $16, Y7, Y7 \
	TRANSPOSE8REGS(off)

// func avx2PackStrip16BF16(src *uint16, stride int, dst *float32, k8 int)
// avx2PackStrip16 from bfloat16 rows (stride bytes apart), widened.
TEXT ·avx2PackStrip16BF16(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), R8
	MOVQ dst+16(FP), DI
	MOVQ k8+24(FP), CX
	LEAQ (R8)(R8*2), R9
	LEAQ (R8)(R8*4), R10
	LEAQ (R9)(R8*4), R11
	MOVQ R8, R12
	SHLQ $3, R12

packh16:
	TESTQ CX, CX
	JZ    packh16done
	MOVQ  SI, DX
	TRANSPOSE8H(0)
	ADDQ  R12, DX
	TRANSPOSE8H(32)
	ADDQ  $16, SI
	ADDQ  $512, DI
	DECQ  CX
	JMP   packh16

packh16done:
	VZEROUPPER
	RET

// func avx2TouchLines(p uintptr, lines int)
//
// Loads one word of each of lines cache lines from p (into the caches;
// see mvPrefetch).
TEXT ·avx2TouchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ lines+8(FP), CX
	TESTQ CX, CX
	JLE   touchdone

touchloop:
	MOVQ (SI), AX
	ADDQ $64, SI
	DECQ CX
	JNZ  touchloop

touchdone:
	RET
