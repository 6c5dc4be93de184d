package inference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestAttend checks attend — the fused attention of the Go backend where
// the build has it, else the decomposed graph — against a float64 loop:
// grouped heads, per-row masks with masked suffixes (decode), causal masks
// (prefill), masked slots in the middle, non-zero additive entries, a row
// with only slot 0 open (padding), one with every slot masked (zeros, as the
// decomposed graph gives NaN there, the engine never builds one), and sizes
// that split over workers. It also checks that the fused op is taken exactly
// when the build has it, so a silent fallback cannot hide.
func TestAttend(t *testing.T) {
	be := testBackend(t)
	ninf := float32(math.Inf(-1))
	type mk func(b, s, t int) float32
	suffix := func(open []int) mk { // slots below open[b]+s are attended
		return func(b, s, t int) float32 {
			if t <= open[b]+s {
				return 0
			}
			return ninf
		}
	}
	cases := []struct {
		name                 string
		B, NH, KVH, S, T, D  int
		mask                 mk
		allMaskedRow, addDev bool
	}{
		{name: "decode", B: 2, NH: 9, KVH: 3, S: 1, T: 64, D: 64, mask: suffix([]int{40, 3})},
		{name: "decode-padding-row", B: 2, NH: 9, KVH: 3, S: 1, T: 16, D: 64, mask: suffix([]int{15, 0})},
		{name: "prefill-causal", B: 2, NH: 4, KVH: 2, S: 24, T: 24, D: 32, mask: suffix([]int{0, 0})},
		{name: "holes-and-bias", B: 1, NH: 2, KVH: 1, S: 3, T: 37, D: 96, mask: func(b, s, t int) float32 {
			if t%5 == 2 {
				return ninf
			}
			return float32(t%3) * 0.25
		}},
		{name: "parallel", B: 2, NH: 4, KVH: 4, S: 64, T: 80, D: 64, mask: suffix([]int{16, 10})},
		{name: "all-masked-row", B: 1, NH: 2, KVH: 1, S: 2, T: 8, D: 32, allMaskedRow: true, mask: func(b, s, t int) float32 {
			if s == 1 || t > 3 {
				return ninf
			}
			return 0
		}},
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_B%d_H%d_KV%d_S%d_T%d_D%d", c.name, c.B, c.NH, c.KVH, c.S, c.T, c.D), func(t *testing.T) {
			randn := func(n int) []float32 {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				return x
			}
			q := randn(c.B * c.NH * c.S * c.D)
			k := randn(c.B * c.KVH * c.T * c.D)
			v := randn(c.B * c.KVH * c.T * c.D)
			mask := make([]float32, c.B*c.S*c.T)
			for b := range c.B {
				for s := range c.S {
					for tt := range c.T {
						mask[(b*c.S+s)*c.T+tt] = c.mask(b, s, tt)
					}
				}
			}
			var fused bool
			got := run1(t, be, func(q, k, v, m *graph.Node) *graph.Node {
				var o *graph.Node
				o, fused = attend(q, k, v, m)
				return o
			}, tensors.FromFlatDataAndDimensions(q, c.B, c.NH, c.S, c.D),
				tensors.FromFlatDataAndDimensions(k, c.B, c.KVH, c.T, c.D),
				tensors.FromFlatDataAndDimensions(v, c.B, c.KVH, c.T, c.D),
				tensors.FromFlatDataAndDimensions(mask, c.B, c.S, c.T))
			if fused != fastAttention {
				t.Fatalf("fused attention taken = %v, want %v for this build", fused, fastAttention)
			}
			rep := c.NH / c.KVH
			scale := 1 / math.Sqrt(float64(c.D))
			for b := range c.B {
				for h := range c.NH {
					kv := (b*c.KVH + h/rep) * c.T * c.D
					for s := range c.S {
						row := ((b*c.NH+h)*c.S + s) * c.D
						mrow := mask[(b*c.S+s)*c.T:]
						p := make([]float64, c.T)
						mx := math.Inf(-1)
						for tt := range c.T {
							var dot float64
							for d := range c.D {
								dot += float64(q[row+d]) * float64(k[kv+tt*c.D+d])
							}
							p[tt] = dot*scale + float64(mrow[tt])
							mx = max(mx, p[tt])
						}
						if math.IsInf(mx, -1) {
							if !c.allMaskedRow || !fastAttention {
								continue // NaN in the decomposed graph; never built by the engine
							}
							for d := range c.D {
								if got[row+d] != 0 {
									t.Fatalf("all-masked row b%d h%d s%d: out[%d] = %g, want 0", b, h, s, d, got[row+d])
								}
							}
							continue
						}
						var sum float64
						for tt := range p {
							p[tt] = math.Exp(p[tt] - mx)
							sum += p[tt]
						}
						for d := range c.D {
							var want, mag float64
							for tt := range c.T {
								w := p[tt] / sum * float64(v[kv+tt*c.D+d])
								want += w
								mag += math.Abs(w)
							}
							g := float64(got[row+d])
							if math.Abs(g-want) > 2e-5*mag+1e-6 {
								t.Fatalf("b%d h%d s%d d%d: got %.7g, want %.7g (±%.2g)", b, h, s, d, g, want, 2e-5*mag+1e-6)
							}
						}
					}
				}
			}
		})
	}
}
