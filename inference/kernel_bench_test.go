package inference

import (
	"sync"
	"testing"

	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Matrix-vector products at the LM head's size (49152 × 576, 113 MB of
// float32), through the Go backend and as a plain Go loop on 2 goroutines:
// the bandwidth each reaches bounds decode speed (GB/s reported).

const mvRows, mvIn = 49152, 576

func BenchmarkMatVecGoMLX(b *testing.B) {
	w := make([]float32, mvRows*mvIn)
	for i := range w {
		w[i] = float32(i%7) * 0.01 // touched, not the shared zero page
	}
	benchMatVec(b, tensors.FromFlatDataAndDimensions(w, mvRows, mvIn), 4)
}

// BenchmarkMatVecGoMLXBF16: the same product with bfloat16 weights (as
// held for BF16 checkpoints), read directly; GB/s of bfloat16 read.
func BenchmarkMatVecGoMLXBF16(b *testing.B) {
	w := make([]bfloat16.BFloat16, mvRows*mvIn)
	for i := range w {
		w[i] = bfloat16.FromFloat32(float32(i%7) * 0.01)
	}
	benchMatVec(b, tensors.FromFlatDataAndDimensions(w, mvRows, mvIn), 2)
}

func benchMatVec(b *testing.B, w *tensors.Tensor, bytesPer int) {
	be, err := newBackend("")
	if err != nil {
		b.Fatal(err)
	}
	x := tensors.FromFlatDataAndDimensions(make([]float32, mvIn), 1, mvIn)
	e, err := graph.NewExec(be, func(x, w *graph.Node) *graph.Node { return linear(x, w, nil) })
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := e.Call(x, w)
		if err != nil {
			b.Fatal(err)
		}
		_ = r[0].FinalizeAll()
	}
	b.ReportMetric(float64(mvRows*mvIn*bytesPer)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

func BenchmarkMatVecGoLoop(b *testing.B) {
	w := make([]float32, mvRows*mvIn)
	for i := range w {
		w[i] = float32(i%7) * 0.01 // touched, not the shared zero page
	}
	x := make([]float32, mvIn)
	y := make([]float32, mvRows)
	for b.Loop() {
		var wg sync.WaitGroup
		for p := range 2 {
			wg.Go(func() {
				for o := p * mvRows / 2; o < (p+1)*mvRows/2; o++ {
					row := w[o*mvIn : (o+1)*mvIn]
					var s0, s1, s2, s3 float32
					for i := 0; i+4 <= mvIn; i += 4 {
						s0 += row[i] * x[i]
						s1 += row[i+1] * x[i+1]
						s2 += row[i+2] * x[i+2]
						s3 += row[i+3] * x[i+3]
					}
					y[o] = s0 + s1 + s2 + s3
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(mvRows*mvIn*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
