package inference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// testBackend is a Go backend freed at the end of the test.
func testBackend(t *testing.T) compute.Backend {
	t.Helper()
	be, err := newBackend("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Finalize)
	return be
}

// run1 compiles fn (graph nodes in, one node out), runs it on the inputs
// and returns the float32 result.
func run1[F graph.ExecGraphFn](t *testing.T, be compute.Backend, fn F, inputs ...any) []float32 {
	t.Helper()
	e, err := graph.NewExec(be, fn)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Finalize()
	res, err := e.Call(inputs...)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](res[0])
}

// TestDotTransposedKernels checks x·Wᵀ products through the backend against
// a float64 loop, at the shapes the engine produces and at ragged ones: the
// patched matrix-vector kernel of the Go backend (few lhs rows, any size;
// small transposed products such as attention scores) with odd row counts,
// rhs rows not a multiple of 4, contracting sizes not a multiple of 8 or
// 32, batches, and sizes large enough to split over workers; and the packed
// GEMM with its re-tuned panel sizes.
func TestDotTransposedKernels(t *testing.T) {
	be := testBackend(t)
	cases := []struct{ B, N, M, K int }{
		{1, 1, 1, 1}, {1, 1, 7, 13}, {1, 1, 49152 / 8, 576}, {2, 1, 768, 576}, {1, 2, 1536, 576},
		{1, 2, 577, 35}, {1, 3, 301, 64}, {1, 4, 1000, 1536}, {3, 5, 129, 72}, {12, 384, 128, 64},
		{6, 17, 95, 9}, {1, 2, 5, 8},
		// The packed GEMM (prefill), with and without ragged edges.
		{1, 256, 576, 576}, {1, 301, 197, 1536}, {2, 130, 1536, 100},
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range cases {
		t.Run(fmt.Sprintf("B%d_N%d_M%d_K%d", c.B, c.N, c.M, c.K), func(t *testing.T) {
			x := make([]float32, c.B*c.N*c.K)
			w := make([]float32, c.B*c.M*c.K)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			got := run1(t, be, func(x, w *graph.Node) *graph.Node { return graph.Dot(x, w).Einsum("bnk,bmk->bnm") },
				tensors.FromFlatDataAndDimensions(x, c.B, c.N, c.K), tensors.FromFlatDataAndDimensions(w, c.B, c.M, c.K))
			for b := range c.B {
				for n := range c.N {
					for m := range c.M {
						var want, mag float64
						for k := range c.K {
							p := float64(x[(b*c.N+n)*c.K+k]) * float64(w[(b*c.M+m)*c.K+k])
							want += p
							mag += math.Abs(p)
						}
						g := float64(got[(b*c.N+n)*c.M+m])
						if math.Abs(g-want) > 1e-5*mag+1e-6 {
							t.Fatalf("[%d,%d,%d] = %g, want %g", b, n, m, g, want)
						}
					}
				}
			}
		})
	}
}

// TestLogisticKernel checks the backend's float32 Logistic (the SiLU gate;
// vectorized in the patched Go backend) against float64 arithmetic over
// the range activations take and beyond: within 2 units in the last place
// (absolute 1e-44 near 0, where the result underflows).
func TestLogisticKernel(t *testing.T) {
	be := testBackend(t)
	var xs []float32
	for x := -100.0; x <= 100; x += 0.0137 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-8, -1e-8, 88, -88, 89, -89, 1e4, -1e4)
	got := run1(t, be, graph.Logistic, tensors.FromFlatDataAndDimensions(xs, len(xs)))
	for i, x := range xs {
		want := 1 / (1 + math.Exp(-float64(x)))
		ulp := float64(math.Nextafter32(float32(want), 2) - float32(want))
		if d := math.Abs(float64(got[i]) - want); d > 2*ulp && d > 1e-44 {
			t.Fatalf("Logistic(%g) = %g, want %g (off by %.1f ulp)", x, got[i], want, d/ulp)
		}
	}
}

// TestSoftmaxKernel checks the backend's float32 softmax over the last axis
// (vectorized in the patched Go backend) against float64, with -inf (masked)
// entries, which must get exactly 0, and rows whose length is not a multiple
// of 8.
func TestSoftmaxKernel(t *testing.T) {
	be := testBackend(t)
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{3, 8, 13, 64, 128, 301} {
		const rows = 6
		x := make([]float32, rows*n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 4)
			if rng.IntN(5) == 0 && i%n != 0 {
				x[i] = float32(math.Inf(-1))
			}
		}
		got := run1(t, be, func(x *graph.Node) *graph.Node { return graph.Softmax(x, -1) },
			tensors.FromFlatDataAndDimensions(x, rows, n))
		for r := range rows {
			row := x[r*n : (r+1)*n]
			for i, v := range row {
				want := math.Exp(logSoftmaxAt(row, i)) // float64, on the host
				g := float64(got[r*n+i])
				if math.IsInf(float64(v), -1) && g != 0 || math.Abs(g-want) > 1e-6*want+1e-9 {
					t.Fatalf("n=%d row %d [%d]: softmax = %g, want %g", n, r, i, g, want)
				}
			}
		}
	}
}

// TestSliceKernel checks slices (the patched Go backend copies runs when
// the last axis has unit stride) against index arithmetic, on every axis,
// with and without strides.
func TestSliceKernel(t *testing.T) {
	be := testBackend(t)
	dims := []int{3, 4, 5, 7}
	x := make([]float32, 3*4*5*7)
	for i := range x {
		x[i] = float32(i)
	}
	type spec struct{ axis, start, end, stride int }
	for _, sp := range []spec{{3, 2, 6, 1}, {3, 1, 7, 2}, {2, 1, 4, 1}, {0, 1, 3, 1}, {1, 0, 4, 3}, {3, 0, 7, 1}} {
		got := run1(t, be, func(x *graph.Node) *graph.Node {
			return graph.SliceAxis(x, sp.axis, graph.AxisRange(sp.start, sp.end).Stride(sp.stride))
		}, tensors.FromFlatDataAndDimensions(x, dims...))
		out := append([]int{}, dims...)
		out[sp.axis] = (sp.end - sp.start + sp.stride - 1) / sp.stride
		i := 0
		for a := range out[0] {
			for b := range out[1] {
				for c := range out[2] {
					for d := range out[3] {
						idx := []int{a, b, c, d}
						idx[sp.axis] = sp.start + idx[sp.axis]*sp.stride
						want := float32(((idx[0]*4+idx[1])*5+idx[2])*7 + idx[3])
						if got[i] != want {
							t.Fatalf("slice %+v: [%d %d %d %d] = %v, want %v", sp, a, b, c, d, got[i], want)
						}
						i++
					}
				}
			}
		}
		if i != len(got) {
			t.Fatalf("slice %+v: %d values, want %d", sp, len(got), i)
		}
	}
}

// TestDynamicUpdateSliceKernel checks DynamicUpdateSlice (added to the Go
// backend for the decode cache write) against index arithmetic, with start
// indices clamped as XLA defines them.
func TestDynamicUpdateSliceKernel(t *testing.T) {
	be := testBackend(t)
	dims, udims := []int{2, 3, 6, 4}, []int{1, 2, 2, 4}
	op := make([]float32, 2*3*6*4)
	for i := range op {
		op[i] = float32(i)
	}
	up := make([]float32, 1*2*2*4)
	for i := range up {
		up[i] = -1 - float32(i)
	}
	for _, starts := range [][]int32{{1, 0, 3, 0}, {0, 1, 0, 0}, {1, 2, 5, 0}, {-1, 0, 9, 2}} {
		got := run1(t, be, func(o, u *graph.Node) *graph.Node {
			idx := make([]*graph.Node, len(starts))
			for i, s := range starts {
				idx[i] = graph.Const(o.Graph(), s)
			}
			return graph.DynamicUpdateSlice(o, u, idx)
		}, tensors.FromFlatDataAndDimensions(op, dims...), tensors.FromFlatDataAndDimensions(up, udims...))
		var st [4]int
		for a := range 4 {
			st[a] = min(max(int(starts[a]), 0), dims[a]-udims[a])
		}
		i := 0
		for a := range dims[0] {
			for b := range dims[1] {
				for c := range dims[2] {
					for d := range dims[3] {
						want := op[i]
						if ua, ub, uc, ud := a-st[0], b-st[1], c-st[2], d-st[3]; ua >= 0 && ua < udims[0] && ub >= 0 && ub < udims[1] &&
							uc >= 0 && uc < udims[2] && ud >= 0 && ud < udims[3] {
							want = up[((ua*udims[1]+ub)*udims[2]+uc)*udims[3]+ud]
						}
						if got[i] != want {
							t.Fatalf("starts %v: [%d %d %d %d] = %v, want %v", starts, a, b, c, d, got[i], want)
						}
						i++
					}
				}
			}
		}
	}
}

// TestBroadcastBinaryKernel checks Add, Sub, Mul and Div with operands that
// broadcast (the patched Go backend walks the output in runs) against index
// arithmetic: per-row scalars, row vectors, both sides broadcasting, axes of
// size 1 between broadcast ones, a shape pair with no run longer than one
// element, and outputs large enough to be split over workers.
func TestBroadcastBinaryKernel(t *testing.T) {
	be := testBackend(t)
	rng := rand.New(rand.NewPCG(10, 10))
	pairs := [][2][]int{
		{{2, 3, 4}, {1, 1, 4}}, {{2, 3, 4}, {2, 3, 1}}, {{2, 1, 4}, {1, 3, 1}},
		{{4, 1, 1, 5, 7}, {4, 3, 2, 1, 7}}, {{1, 9, 1, 64}, {1, 1, 1, 64}}, {{1, 3}, {2, 1}},
		{{3, 1, 2, 1}, {1, 4, 1, 5}}, {{5, 1}, {5, 6}}, {{2, 3, 1, 1}, {2, 3, 1, 1}},
		// Runs of 16 or more with ragged tails (the AVX2 runs): same shapes,
		// one operand constant over each run, a one-element operand.
		{{23}, {23}}, {{1, 576}, {1, 576}}, {{3, 37}, {3, 1}}, {{2, 1, 19}, {2, 5, 19}}, {{1}, {45}},
		// Large enough (≥ 2¹⁵ elements) to be split over workers: by runs,
		// and one run split anywhere (same shapes, a one-element operand).
		{{64, 1, 600}, {1, 3, 600}}, {{301, 203}, {301, 203}}, {{301, 203}, {1, 1}}, {{2, 128, 1536}, {2, 128, 1}},
		// Beyond the runs' rank limit (8): the generated executors, with a
		// scalar on either side.
		{{2, 1, 2, 1, 2, 1, 2, 1, 3}, {1, 2, 1, 2, 1, 2, 1, 2, 3}}, {{}, {2, 1, 2, 1, 2, 1, 2, 1, 3}}, {{2, 1, 2, 1, 2, 1, 2, 1, 3}, {}},
	}
	ops := []struct {
		name string
		fn   func(a, b *graph.Node) *graph.Node
		ref  func(a, b float32) float32
	}{
		{"Add", graph.Add, func(a, b float32) float32 { return a + b }},
		{"Sub", graph.Sub, func(a, b float32) float32 { return a - b }},
		{"Mul", graph.Mul, func(a, b float32) float32 { return a * b }},
		{"Div", graph.Div, func(a, b float32) float32 { return a / b }},
	}
	for _, p := range pairs {
		for _, swap := range []bool{false, true} {
			ld, rd := p[0], p[1]
			if swap {
				ld, rd = rd, ld
			}
			out := make([]int, max(len(ld), len(rd))) // a scalar has no dims
			size := 1
			for i := range out {
				out[i] = 1
				if len(ld) > 0 {
					out[i] = ld[i]
				}
				if len(rd) > 0 {
					out[i] = max(out[i], rd[i])
				}
				size *= out[i]
			}
			fill := func(dims []int) []float32 {
				n := 1
				for _, d := range dims {
					n *= d
				}
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(rng.NormFloat64()) + 3 // no zero divisors
				}
				return x
			}
			l, r := fill(ld), fill(rd)
			// flat index of an operand at an output position.
			at := func(dims, pos []int) int {
				f := 0
				for i, d := range dims {
					f = f*d + min(pos[i], d-1)
				}
				return f
			}
			for _, op := range ops {
				t.Run(fmt.Sprintf("%s_%v_%v", op.name, ld, rd), func(t *testing.T) {
					got := run1(t, be, op.fn, tensors.FromFlatDataAndDimensions(l, ld...), tensors.FromFlatDataAndDimensions(r, rd...))
					if len(got) != size {
						t.Fatalf("got %d values, want %d", len(got), size)
					}
					pos := make([]int, len(out))
					for f := range size {
						rem := f
						for i := len(out) - 1; i >= 0; i-- {
							pos[i] = rem % out[i]
							rem /= out[i]
						}
						if want := op.ref(l[at(ld, pos)], r[at(rd, pos)]); got[f] != want {
							t.Fatalf("at %v: got %g, want %g", pos, got[f], want)
						}
					}
				})
			}
		}
	}
}

// TestTransposeKernel checks transposes (the patched Go backend copies runs
// when the trailing axes stay in place) against index arithmetic, with and
// without fixed trailing axes, and with runs too short to take that path.
func TestTransposeKernel(t *testing.T) {
	be := testBackend(t)
	cases := []struct{ dims, perm []int }{
		{[]int{2, 5, 3, 8}, []int{0, 2, 1, 3}}, {[]int{2, 3, 5, 8}, []int{0, 2, 1, 3}},
		{[]int{3, 4, 2, 5, 6}, []int{2, 0, 1, 3, 4}}, {[]int{4, 6, 2}, []int{1, 0, 2}},
		{[]int{4, 6, 5}, []int{2, 0, 1}}, {[]int{3, 5}, []int{1, 0}}, {[]int{2, 3, 4, 3}, []int{3, 1, 2, 0}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v_%v", c.dims, c.perm), func(t *testing.T) {
			n := 1
			for _, d := range c.dims {
				n *= d
			}
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(i)
			}
			got := run1(t, be, func(x *graph.Node) *graph.Node { return graph.TransposeAllDims(x, c.perm...) },
				tensors.FromFlatDataAndDimensions(x, c.dims...))
			out := make([]int, len(c.dims))
			for i, p := range c.perm {
				out[i] = c.dims[p]
			}
			pos, src := make([]int, len(out)), make([]int, len(out))
			for f := range n {
				rem := f
				for i := len(out) - 1; i >= 0; i-- {
					pos[i] = rem % out[i]
					rem /= out[i]
				}
				for i, p := range c.perm {
					src[p] = pos[i]
				}
				want := 0
				for i, d := range c.dims {
					want = want*d + src[i]
				}
				if got[f] != float32(want) {
					t.Fatalf("output %v = %g, want operand element %d", pos, got[f], want)
				}
			}
		})
	}
}

// TestReduceSumKernel checks float32 sums (the patched Go backend sums rows
// in a plain loop when the reduced axes are the trailing ones) against
// float64, over trailing axes and over others.
func TestReduceSumKernel(t *testing.T) {
	be := testBackend(t)
	dims := []int{3, 5, 70}
	x := make([]float32, 3*5*70)
	rng := rand.New(rand.NewPCG(11, 11))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for _, axes := range [][]int{{2}, {1, 2}, {2, 1}, {0}, {1}, {0, 2}} {
		t.Run(fmt.Sprint(axes), func(t *testing.T) {
			got := run1(t, be, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, axes...) },
				tensors.FromFlatDataAndDimensions(x, dims...))
			reduced := [3]bool{}
			for _, a := range axes {
				reduced[a] = true
			}
			want := map[int]float64{}
			mag := map[int]float64{}
			for i := range dims[0] {
				for j := range dims[1] {
					for k := range dims[2] {
						o := 0
						for a, p := range [3]int{i, j, k} {
							if !reduced[a] {
								o = o*dims[a] + p
							}
						}
						v := float64(x[(i*dims[1]+j)*dims[2]+k])
						want[o] += v
						mag[o] += math.Abs(v)
					}
				}
			}
			if len(got) != len(want) {
				t.Fatalf("got %d sums, want %d", len(got), len(want))
			}
			for o, w := range want {
				if math.Abs(float64(got[o])-w) > 1e-6*mag[o] {
					t.Fatalf("sum %d = %g, want %g", o, got[o], w)
				}
			}
		})
	}
}

// TestParallelOps runs a graph whose independent large ops — run side by
// side by the parallel executor, each on a worker — each split their work
// over workers too (elementwise ops, GEMMs), and checks every result
// against float64. (The deadlock of ops that waited for a free worker while
// holding one showed in prefill; this graph did not reproduce it when tried
// against that code, so it checks results, not that fix.)
func TestParallelOps(t *testing.T) {
	be := testBackend(t)
	const n, k, rows = 1 << 17, 16, 512
	cols := n / rows
	x := make([]float32, k*n)
	for i := range x {
		x[i] = float32(i%97)*0.01 - 0.4
	}
	e, err := graph.NewExec(be, func(x *graph.Node) *graph.Node {
		var outs []*graph.Node
		for i := range k {
			a := graph.Slice(x, graph.AxisRange(i*n, (i+1)*n))
			m := graph.Reshape(a, rows, cols)
			outs = append(outs, graph.ReduceAllSum(graph.Mul(graph.Add(a, a), a)),
				graph.ReduceAllSum(graph.Dot(m, m).Einsum("ij,kj->ik")))
		}
		return graph.Stack(outs, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Finalize()
	for range 5 {
		res, err := e.Call(tensors.FromFlatDataAndDimensions(x, k*n))
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](res[0])
		for i := range k {
			a := x[i*n : (i+1)*n]
			var sq, mag float64
			colSum := make([]float64, cols)
			for j, v := range a {
				sq += 2 * float64(v) * float64(v)
				colSum[j%cols] += float64(v)
			}
			var gram float64
			for _, c := range colSum {
				gram += c * c
				mag += math.Abs(c) * math.Abs(c)
			}
			if math.Abs(float64(got[2*i])-sq) > 1e-3*sq || math.Abs(float64(got[2*i+1])-gram) > 1e-3*mag+1e-3 {
				t.Fatalf("chain %d: got %g, %g; want %g, %g", i, got[2*i], got[2*i+1], sq, gram)
			}
		}
	}
}
