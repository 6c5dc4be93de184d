// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: a matrix-vector kernel for the transposed layout with
// few lhs rows (decode steps, attention scores of one query). See
// ../../../../../NPTI-PATCHES.md.

//go:build amd64 && goexperiment.simd

package matmul

import (
	"runtime"
	"simd/archsimd"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/compute/internal/gobackend"
)

// avx2MatVecMaxRows is the largest lhs cross size routed to the matrix-vector
// kernel whatever the size: up to that many rows, reading each rhs row once
// for all lhs rows beats the packed GEMM.
const avx2MatVecMaxRows = 4

// avx2UseMatVec reports whether a transposed-layout product of n lhs rows,
// m rhs rows and contracting size k goes to the matrix-vector kernel (few
// lhs rows, or a small product) rather than the packed GEMM: the float32
// router's choice, which the bfloat16 products follow.
func avx2UseMatVec(n, m, k int) bool {
	return !ForceLargeVariant && !ForceSmallVariant && (n <= avx2MatVecMaxRows || n*m*k < noSIMDSmallMatMulSizeThreshold)
}

// avx2MatVecMinTileBytes is the least rhs data a parallel tile reads: below
// it, starting a worker costs more than it saves.
const avx2MatVecMinTileBytes = 96 << 10

// avx2MatVecFloat32Parallel computes output[b, n, m] = Σ_k lhs[b, n, k] ·
// rhs[b, m, k] (LayoutTransposed) for lhsCrossSize ≤ avx2MatVecMaxRows.
//
// Each rhs row is read once for all lhs rows, four rhs rows at a time with
// one accumulator each (no serial dependency between them), and the four
// sums are reduced together. Work is split over (batch, rhs rows) tiles; the
// calling goroutine takes tiles too, so it never idles waiting for workers.
func avx2MatVecFloat32Parallel(backend *gobackend.Backend, lhs, rhs []float32,
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int, output []float32) {
	if batchSize == 0 || lhsCrossSize == 0 || rhsCrossSize == 0 {
		return
	}
	avx2MatVecTiles(backend, batchSize, rhsCrossSize, contractingSize*4, mvSpan{uintptr(unsafe.Pointer(unsafe.SliceData(rhs))), len(rhs) * 4}, func(b, start, end int) {
		avx2MatVecFloat32Tile(lhs, rhs, b, lhsCrossSize, rhsCrossSize, contractingSize, start, end, output)
	})
}

// avx2MatVecTiles runs tile over rhs rows [start, end) of each batch entry
// b, covering batchSize × rhsRows rows of rowBytes each: in parallel where
// the data is large enough to pay for it. rhs is the whole rhs (for the
// team's reading ahead of the next product, see mvPrefetch).
func avx2MatVecTiles(backend *gobackend.Backend, batchSize, rhsRows, rowBytes int, rhs mvSpan, tile func(b, start, end int)) {
	maxWorkers := 1
	if backend != nil && backend.Workers != nil {
		maxWorkers = backend.Workers.AdjustedMaxParallelism()
	}
	totalBytes := batchSize * rhsRows * rowBytes
	if maxWorkers <= 1 || totalBytes < 2*avx2MatVecMinTileBytes {
		for b := range batchSize {
			tile(b, 0, rhsRows)
		}
		return
	}

	// Tiles: rows of one batch entry, a multiple of 4, at least the minimum
	// size, about 4 tiles per worker so uneven workers balance out.
	tileRows := max(avx2MatVecMinTileBytes/rowBytes, (batchSize*rhsRows)/(4*maxWorkers))
	tileRows = min((tileRows+3)&^3, (rhsRows+3)&^3)
	tilesPerBatch := (rhsRows + tileRows - 1) / tileRows
	numTiles := batchSize * tilesPerBatch

	mvTeamRun(maxWorkers-1, numTiles, rhs, func(t int) {
		b, start := t/tilesPerBatch, (t%tilesPerBatch)*tileRows
		tile(b, start, min(start+tileRows, rhsRows))
	})
}

// The matrix-vector team: helper goroutines that, after a job, spin for a
// short while waiting for the next one before they park. A decode step
// runs a couple of hundred products of 0.05–0.3 ms back to back; waking a
// parked goroutine for each costs tens of microseconds (what OpenMP's
// spin-waiting threads avoid too). The caller always works on its own job
// as well, so a job completes even when no helper is free.
type mvJob struct {
	tiles      int64
	next, done atomic.Int64 // next: see claim
	fn         func(tile int)
	// prefetch is the rhs that followed this job's rhs last time (none if
	// unknown), valid while mvTeam.epoch is still epoch (see mvForget).
	prefetch mvSpan
	epoch    int64
	reader   atomic.Bool // a helper has taken the reading ahead (one does)
}

// mvSpan is a product's rhs: its address, as a plain number (no reference:
// the memory may be freed meanwhile, see mvForget), and its size.
type mvSpan struct {
	addr  uintptr
	bytes int
}

// mvPrefetchMax bounds how much of the next rhs an idle helper reads ahead:
// a decode step's gaps between products let it read a few hundred KiB.
const mvPrefetchMax = 4 << 20

// mvPrefetch: once a job is done, one idle helper reads the rhs that came
// next last time into its caches, 4 KiB at a time, until the next job
// comes. A decode step runs the same products in the same order every
// step, and between them the caller runs the small ops (norms, RoPE,
// attention) that leave the memory bus idle; what the helper reads then,
// the next product finds in the helper's caches, and the helper takes that
// product's first tiles itself (see run; a bfloat16 decode step −2–4 %:
// faster in 7 of 10 and 7 of 8 alternating rounds, before the helper took
// the first tiles; a float32 step −6 % more since). It reads with plain
// loads: prefetch instructions are dropped when the memory queues are
// full, and had no effect. Loads can fault on unmapped memory, so only
// off-heap buffers (the weights; gobackend.OffHeapBytes) are hinted, the
// hints are dropped before any of them is unmapped (mvForget, under
// mvTeam.pf), and a job's hint is used only in the epoch it was taken in.
// (Go heap pages can be unmapped without notice, e.g. under
// GODEBUG=harddecommit=1.)
func mvPrefetch(j *mvJob, seen int64) {
	for spins := 0; j.done.Load() < j.tiles && mvTeam.gen.Load() == seen; spins++ {
		if spins%64 == 63 {
			runtime.Gosched()
		}
	}
	mvTeam.pf.RLock()
	defer mvTeam.pf.RUnlock()
	if mvTeam.epoch.Load() != j.epoch {
		return
	}
	n := min(j.prefetch.bytes, mvPrefetchMax)
	for off := 0; off < n && mvTeam.gen.Load() == seen; off += 4096 {
		avx2TouchLines(j.prefetch.addr+uintptr(off), min(4096, n-off)/64)
	}
}

// mvForget drops every prefetch hint; it returns once no helper is reading
// ahead (gobackend.BeforeUnmap, run before an off-heap buffer is unmapped).
func mvForget() {
	mvTeam.pf.Lock()
	mvTeam.mu.Lock()
	clear(mvTeam.after)
	mvTeam.last = 0
	mvTeam.epoch.Add(1)
	mvTeam.mu.Unlock()
	mvTeam.pf.Unlock()
}

// mvPrefetchHints is how many rhs → next rhs hints the team holds.
func mvPrefetchHints() int {
	mvTeam.mu.Lock()
	defer mvTeam.mu.Unlock()
	return len(mvTeam.after)
}

func init() {
	gobackend.BeforeUnmap = mvForget
	gobackend.PrefetchHints = mvPrefetchHints
}

// run works on the job's tiles from the lowest up (helpers); runFromEnd,
// from the highest down (the caller). The helper that read ahead before
// this job (mvPrefetch) read the start of its rhs, so it takes the tiles
// whose lines are in its own caches, while the caller streams the others
// from memory; when the caller took the first tiles too, it fetched those
// lines from the helper's caches, little faster than from memory. (A
// float32 decode step −6 %: faster in 14 of 16 alternating rounds of 5
// runs.)
func (j *mvJob) run()        { j.work(false) }
func (j *mvJob) runFromEnd() { j.work(true) }

func (j *mvJob) work(fromEnd bool) {
	for t := j.claim(fromEnd); t >= 0; t = j.claim(fromEnd) {
		j.fn(t)
		j.done.Add(1)
	}
}

// claim takes the lowest unclaimed tile, or with fromEnd the highest; -1
// when none is left. j.next packs the next tile from the bottom (low 32
// bits) and the count taken from the top (high 32 bits).
func (j *mvJob) claim(fromEnd bool) int {
	for {
		s := j.next.Load()
		lo, taken := s&0xffffffff, s>>32
		hi := j.tiles - taken
		if lo >= hi {
			return -1
		}
		if fromEnd {
			if j.next.CompareAndSwap(s, s+1<<32) {
				return int(hi - 1)
			}
		} else if j.next.CompareAndSwap(s, s+1) {
			return int(lo)
		}
	}
}

// mvSpin is how many polls an idle helper makes before parking (~1.5 ms,
// yielding every 4096 polls, ~6 µs, so other goroutines still run). A
// decode step's gaps between products (norms, RoPE, attention) last up to a
// few hundred µs; with a shorter spin (~0.1 ms) the helper was often parked
// and each product paid a futex wake-up, 30–60 µs: decode ran 20 % slower.
// OpenMP's spin-waiting threads (GOMP_SPINCOUNT) do the same.
const mvSpin = 1 << 20

var mvTeam struct {
	mu       sync.Mutex
	helpers  int
	last     uintptr            // the rhs of the latest product run with helpers (under mu)
	after    map[uintptr]mvSpan // rhs → the rhs of the product after it (under mu)
	epoch    atomic.Int64       // changes (under mu and pf) when hints are dropped
	pf       sync.RWMutex       // read-held by a helper reading ahead
	job      atomic.Pointer[mvJob]
	gen      atomic.Int64
	sleeping atomic.Int32
	wake     chan struct{}
}

func mvHelper() {
	var seen int64
	for {
		for spins := 0; mvTeam.gen.Load() == seen; spins++ {
			if spins < mvSpin {
				if spins%4096 == 4095 {
					runtime.Gosched()
				}
				continue
			}
			mvTeam.sleeping.Add(1)
			if mvTeam.gen.Load() == seen {
				<-mvTeam.wake
			}
			mvTeam.sleeping.Add(-1)
			spins = 0
		}
		seen = mvTeam.gen.Load()
		if j := mvTeam.job.Load(); j != nil {
			j.run()
			if j.prefetch.bytes > 0 && j.reader.CompareAndSwap(false, true) {
				mvPrefetch(j, seen)
			}
		}
	}
}

// TeamRun runs fn(tile) for tiles [0, numTiles) on the caller and the
// matrix-vector team's helpers (up to the backend's parallelism less one),
// and returns when all are done. The helpers spin between jobs, so handing
// them work costs about a microsecond where waking pool workers costs tens:
// for the small parallel loops of a decode step (the fused attention of one
// query). It records no read-ahead hint; once its job is done, an idle
// helper goes on reading ahead the product that follows the latest one.
func TeamRun(backend *gobackend.Backend, numTiles int, fn func(tile int)) {
	helpers := 0
	if backend != nil && backend.Workers != nil {
		helpers = backend.Workers.AdjustedMaxParallelism() - 1
	}
	mvTeamRun(min(helpers, numTiles-1), numTiles, mvSpan{}, fn)
}

// mvTeamRun runs fn over tiles [0, numTiles) on the caller and up to
// helpers team goroutines, and returns when all are done. rhs is the
// product's rhs: it is recorded as the one after the previous job's, for
// the helpers' reading ahead (mvPrefetch); a zero rhs (TeamRun's jobs) is
// not a product and records nothing.
func mvTeamRun(helpers, numTiles int, rhs mvSpan, fn func(tile int)) {
	if numTiles >= 1<<31 { // beyond what mvJob.next packs (never, in practice)
		for t := range numTiles {
			fn(t)
		}
		return
	}
	j := &mvJob{tiles: int64(numTiles), fn: fn}
	if helpers > 0 {
		mvTeam.mu.Lock()
		if mvTeam.wake == nil {
			mvTeam.wake = make(chan struct{}, 64)
			mvTeam.after = make(map[uintptr]mvSpan)
		}
		if rhs.addr != 0 {
			// Only off-heap buffers (model weights) are read ahead. A hint
			// already held is one (mvForget drops them all before any is
			// unmapped): decode steps repeat theirs without the lookup.
			if mvTeam.last != 0 && mvTeam.after[mvTeam.last] != rhs && len(mvTeam.after) < 1<<16 &&
				gobackend.OffHeapBytes(rhs.addr) >= rhs.bytes {
				mvTeam.after[mvTeam.last] = rhs
			}
			mvTeam.last = rhs.addr
		}
		// The rhs to read ahead once this job is done: the one that came
		// after this product last time, or, for a job that is not a
		// product, the one after the latest product (the reading ahead
		// that this job interrupted).
		j.prefetch, j.epoch = mvTeam.after[mvTeam.last], mvTeam.epoch.Load()
		for mvTeam.helpers < min(helpers, 63) {
			mvTeam.helpers++
			go mvHelper()
		}
		mvTeam.mu.Unlock()
		mvTeam.job.Store(j)
		mvTeam.gen.Add(1)
		for range mvTeam.sleeping.Load() {
			select {
			case mvTeam.wake <- struct{}{}:
			default:
			}
		}
	}
	j.runFromEnd()
	for spins := 0; j.done.Load() < j.tiles; spins++ {
		if spins%64 == 63 {
			runtime.Gosched()
		}
	}
}

// avx2MatVecL2Bytes bounds the rhs rows one block of the tile works on, so
// that they stay in L2 cache while every lhs row passes over them.
const avx2MatVecL2Bytes = 128 << 10

// avx2MatVecL2Block is how many rhs rows of k floats one block holds (see
// avx2MatVecL2Bytes): a multiple of 4, at least 4.
func avx2MatVecL2Block(k int) int { return max(4, (avx2MatVecL2Bytes/(k*4))&^3) }

// avx2MatVecFloat32Tile computes rhs rows [mStart, mEnd) of batch entry b.
func avx2MatVecFloat32Tile(lhs, rhs []float32, b, n, m, k, mStart, mEnd int, output []float32) {
	lhsBase := unsafe.Pointer(unsafe.SliceData(lhs[b*n*k:]))
	rhsBase := unsafe.Pointer(unsafe.SliceData(rhs[b*m*k:]))
	outBase := output[b*n*m : (b+1)*n*m]
	// Leave the upper halves of the YMM registers clean: SSE code that runs
	// next on this thread (math.Exp in Logistic, for one) otherwise pays a
	// transition penalty on every instruction.
	defer archsimd.ClearAVXUpperBits()
	block := mEnd - mStart
	if n > 2 {
		block = avx2MatVecL2Block(k)
	}
	for j0 := mStart; j0 < mEnd; j0 += block {
		j1 := min(j0+block, mEnd)
		row := 0
		for ; row+1 < n; row += 2 {
			l0 := unsafe.Add(lhsBase, row*k*4)
			avx2MatVec2Rows(l0, unsafe.Add(l0, k*4), rhsBase, k, j0, j1, outBase[row*m:(row+1)*m], outBase[(row+1)*m:(row+2)*m])
		}
		if row < n {
			avx2MatVec1Row(unsafe.Add(lhsBase, row*k*4), rhsBase, k, j0, j1, outBase[row*m:(row+1)*m])
		}
	}
}

// avx2DotRows: out[r] = x · w[r*k:(r+1)*k] for r < rows (k%32 == 0).
//
//go:noescape
func avx2DotRows(x, w, out *float32, k, rows int)

// avx2TouchLines loads one word of each of lines cache lines from p.
//
//go:noescape
func avx2TouchLines(p uintptr, lines int)

// avx2DotRows2: out0[r] = x0 · w[r], out1[r] = x1 · w[r] (k%32 == 0).
//
//go:noescape
func avx2DotRows2(x0, x1, w, out0, out1 *float32, k, rows int)

// avx2Kernel4x16 stores the 4×16 product of a packed [k][4] lhs panel and a
// packed [k][16] rhs panel at out, rows outStride floats apart.
//
//go:noescape
func avx2Kernel4x16(lhs, rhs, out *float32, outStride, k int)

// avx2Sum4 reduces four accumulators to their four sums, in order.
func avx2Sum4(a0, a1, a2, a3 archsimd.Float32x8) archsimd.Float32x4 {
	h := a0.AddPairsGrouped(a1).AddPairsGrouped(a2.AddPairsGrouped(a3))
	return h.GetLo().Add(h.GetHi())
}

func avx2Load8(p unsafe.Pointer) archsimd.Float32x8 { return archsimd.LoadFloat32x8((*[8]float32)(p)) }

// avx2MatVec1Row: out[j] = x · rhs[j] for j in [mStart, mEnd).
func avx2MatVec1Row(x, rhs unsafe.Pointer, k, mStart, mEnd int, out []float32) {
	stride := k * 4
	if k%32 == 0 && mStart < mEnd {
		avx2DotRows((*float32)(x), (*float32)(unsafe.Add(rhs, mStart*stride)), &out[mStart], k, mEnd-mStart)
		return
	}
	k8 := k &^ 7
	j := mStart
	for ; j+4 <= mEnd; j += 4 {
		r0 := unsafe.Add(rhs, j*stride)
		r1 := unsafe.Add(r0, stride)
		r2 := unsafe.Add(r1, stride)
		r3 := unsafe.Add(r2, stride)
		var a0, a1, a2, a3 archsimd.Float32x8
		for i := 0; i < k8*4; i += 32 {
			xv := avx2Load8(unsafe.Add(x, i))
			a0 = avx2Load8(unsafe.Add(r0, i)).MulAdd(xv, a0)
			a1 = avx2Load8(unsafe.Add(r1, i)).MulAdd(xv, a1)
			a2 = avx2Load8(unsafe.Add(r2, i)).MulAdd(xv, a2)
			a3 = avx2Load8(unsafe.Add(r3, i)).MulAdd(xv, a3)
		}
		s := avx2Sum4(a0, a1, a2, a3)
		if k8 < k {
			var t [4]float32
			s.Store(&t)
			for i := k8; i < k; i++ {
				xi := *(*float32)(unsafe.Add(x, i*4))
				t[0] += *(*float32)(unsafe.Add(r0, i*4)) * xi
				t[1] += *(*float32)(unsafe.Add(r1, i*4)) * xi
				t[2] += *(*float32)(unsafe.Add(r2, i*4)) * xi
				t[3] += *(*float32)(unsafe.Add(r3, i*4)) * xi
			}
			copy(out[j:j+4], t[:])
		} else {
			s.Store((*[4]float32)(out[j : j+4]))
		}
	}
	for ; j < mEnd; j++ {
		out[j] = avx2DotTail(x, unsafe.Add(rhs, j*stride), k)
	}
}

// avx2MatVec2Rows: out0[j] = x0 · rhs[j], out1[j] = x1 · rhs[j], reading
// each rhs row once for both.
func avx2MatVec2Rows(x0, x1, rhs unsafe.Pointer, k, mStart, mEnd int, out0, out1 []float32) {
	stride := k * 4
	if k%32 == 0 && mStart < mEnd {
		avx2DotRows2((*float32)(x0), (*float32)(x1), (*float32)(unsafe.Add(rhs, mStart*stride)),
			&out0[mStart], &out1[mStart], k, mEnd-mStart)
		return
	}
	k8 := k &^ 7
	j := mStart
	for ; j+4 <= mEnd && k8 == k; j += 4 {
		r0 := unsafe.Add(rhs, j*stride)
		r1 := unsafe.Add(r0, stride)
		r2 := unsafe.Add(r1, stride)
		r3 := unsafe.Add(r2, stride)
		var a0, a1, a2, a3, b0, b1, b2, b3 archsimd.Float32x8
		for i := 0; i < k8*4; i += 32 {
			xv := avx2Load8(unsafe.Add(x0, i))
			yv := avx2Load8(unsafe.Add(x1, i))
			w0 := avx2Load8(unsafe.Add(r0, i))
			w1 := avx2Load8(unsafe.Add(r1, i))
			w2 := avx2Load8(unsafe.Add(r2, i))
			w3 := avx2Load8(unsafe.Add(r3, i))
			a0 = w0.MulAdd(xv, a0)
			a1 = w1.MulAdd(xv, a1)
			a2 = w2.MulAdd(xv, a2)
			a3 = w3.MulAdd(xv, a3)
			b0 = w0.MulAdd(yv, b0)
			b1 = w1.MulAdd(yv, b1)
			b2 = w2.MulAdd(yv, b2)
			b3 = w3.MulAdd(yv, b3)
		}
		avx2Sum4(a0, a1, a2, a3).Store((*[4]float32)(out0[j : j+4]))
		avx2Sum4(b0, b1, b2, b3).Store((*[4]float32)(out1[j : j+4]))
	}
	if j < mEnd {
		// Ragged contracting size or trailing rows: one lhs row at a time.
		avx2MatVec1Row(x0, rhs, k, j, mEnd, out0)
		avx2MatVec1Row(x1, rhs, k, j, mEnd, out1)
	}
}

// avx2DotTail is a single dot product of length k.
func avx2DotTail(x, r unsafe.Pointer, k int) float32 {
	var acc archsimd.Float32x8
	i := 0
	for ; i+8 <= k; i += 8 {
		acc = avx2Load8(unsafe.Add(r, i*4)).MulAdd(avx2Load8(unsafe.Add(x, i*4)), acc)
	}
	s := avx2ReduceSumFloat32x8(acc)
	for ; i < k; i++ {
		s += *(*float32)(unsafe.Add(r, i*4)) * *(*float32)(unsafe.Add(x, i*4))
	}
	return s
}

// avx2MatVecOK: the CPU runs the assembly kernels (VFMADD231PS).
var avx2MatVecOK = archsimd.X86.AVX2() && archsimd.X86.FMA()

// DotRowsFloat32 sets out[r] = x · w[r*k:(r+1)*k] for r < len(out), with the
// AVX2 row kernel (no worker hand-off: the caller parallelizes). It reports
// false, doing nothing, where that kernel does not apply (k%32 != 0, or the
// CPU lacks AVX2/FMA). Used by the fused attention (fusedops/sdpa_avx2.go).
func DotRowsFloat32(x, w, out []float32, k int) bool {
	rows := len(out)
	if !avx2MatVecOK || k%32 != 0 || len(x) < k || len(w) < rows*k {
		return false
	}
	if rows > 0 {
		avx2DotRows(&x[0], &w[0], &out[0], k, rows)
	}
	return true
}

// avx2PackStrip16 packs 16 rows (stride bytes apart) × 8·k8 columns into
// dst[k·16 + row], the packed GEMM's rhs strip layout, by 8×8 transposes.
//
//go:noescape
func avx2PackStrip16(src *float32, stride int, dst *float32, k8 int)

// avx2PackRHSTransposedFloat32 is unsafePackLHS(rhs, panel, rowStart,
// colStart, cols, copyRows, contractingCols, 16) — the packing of a
// transposed rhs (weights in [out, in]) into 16-row strips — with the full
// strips' 8-column blocks transposed in AVX2 registers instead of copied
// one element at a time; the last partial strip and column tails go
// through unsafePackLHS and a scalar loop.
func avx2PackRHSTransposedFloat32(rhs, panel []float32, rowStart, colStart, cols, copyRows, contractingCols int) {
	if !avx2MatVecOK || copyRows == 0 || contractingCols == 0 {
		unsafePackLHS(rhs, panel, rowStart, colStart, cols, copyRows, contractingCols, 16)
		return
	}
	full := copyRows / 16 * 16
	k8 := contractingCols / 8
	for s := 0; s < full; s += 16 {
		strip := panel[s*contractingCols : (s+16)*contractingCols]
		src := rhs[(rowStart+s)*cols+colStart:]
		if k8 > 0 {
			avx2PackStrip16(&src[0], cols*4, &strip[0], k8)
		}
		for k := k8 * 8; k < contractingCols; k++ {
			for r := range 16 {
				strip[k*16+r] = src[r*cols+k]
			}
		}
	}
	if full < copyRows {
		unsafePackLHS(rhs, panel[full*contractingCols:], rowStart+full, colStart, cols, copyRows-full, contractingCols, 16)
	}
}
