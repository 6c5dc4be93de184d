//go:build amd64 && goexperiment.simd

package inference

import (
	"simd/archsimd"
	"sync"
	"testing"
)

// A matrix-vector product written with archsimd (AVX2: 4 rows at a time,
// 2 accumulators per row) on 2 goroutines, at the LM head's size: what a
// kernel without per-output horizontal reductions reaches (GB/s).
func BenchmarkMatVecSIMD(b *testing.B) {
	w := make([]float32, mvRows*mvIn)
	for i := range w {
		w[i] = float32(i%7) * 0.01
	}
	x := make([]float32, mvIn)
	y := make([]float32, mvRows)
	for b.Loop() {
		var wg sync.WaitGroup
		for p := range 2 {
			wg.Go(func() { matVecRows(w, x, y, p*mvRows/2, (p+1)*mvRows/2) })
		}
		wg.Wait()
	}
	b.ReportMetric(float64(mvRows*mvIn*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

func matVecRows(w, x, y []float32, lo, hi int) {
	n := len(x)
	var tmp [8]float32
	for o := lo; o+4 <= hi; o += 4 {
		r0, r1, r2, r3 := w[o*n:(o+1)*n], w[(o+1)*n:(o+2)*n], w[(o+2)*n:(o+3)*n], w[(o+3)*n:(o+4)*n]
		var a0, a1, a2, a3 archsimd.Float32x8
		for i := 0; i+8 <= n; i += 8 {
			xv := archsimd.LoadFloat32x8Slice(x[i:])
			a0 = archsimd.LoadFloat32x8Slice(r0[i:]).MulAdd(xv, a0)
			a1 = archsimd.LoadFloat32x8Slice(r1[i:]).MulAdd(xv, a1)
			a2 = archsimd.LoadFloat32x8Slice(r2[i:]).MulAdd(xv, a2)
			a3 = archsimd.LoadFloat32x8Slice(r3[i:]).MulAdd(xv, a3)
		}
		for j, a := range []archsimd.Float32x8{a0, a1, a2, a3} {
			a.StoreSlice(tmp[:])
			y[o+j] = tmp[0] + tmp[1] + tmp[2] + tmp[3] + tmp[4] + tmp[5] + tmp[6] + tmp[7]
		}
	}
}
