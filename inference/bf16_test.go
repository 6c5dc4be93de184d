package inference

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/npti-studio/npti/inference/checkpoint"
	"github.com/npti-studio/npti/inference/safetensors"
)

// TestDotBF16Kernels checks x·float32(W)ᵀ with W bfloat16, as the engine
// builds it for bfloat16 weights, against a float64 loop over the widened
// weights: the Go backend's matrix-vector kernel that reads bfloat16 rows
// (≤ 4 lhs rows; contracting sizes a multiple of 32 or ragged), and the
// blocked conversion that feeds the float32 GEMM (more rows; one block or
// several). On the Go backend each product must read the bfloat16 weights
// directly, never a float32 copy of them.
func TestDotBF16Kernels(t *testing.T) {
	be := testBackend(t)
	goBackend := isGoBackend(be.Name())
	cases := []struct{ B, N, M, K int }{
		{1, 1, 1, 32}, {1, 1, 7, 13}, {1, 1, 49152 / 8, 576}, {2, 1, 768, 576}, {1, 2, 1536, 576},
		{1, 2, 33, 80}, {1, 3, 301, 64}, {1, 4, 1000, 1536}, {3, 5, 129, 96},
		{1, 64, 577, 80}, {1, 256, 576, 576}, {1, 5, 6144, 576}, {2, 130, 300, 100},
		{1, 8, 576, 576}, {1, 16, 960, 576}, {1, 3, 577, 80}, {1, 2, 300, 100}, {2, 7, 33, 40},
	}
	rng := rand.New(rand.NewPCG(6, 6))
	for _, c := range cases {
		t.Run(fmt.Sprintf("B%d_N%d_M%d_K%d", c.B, c.N, c.M, c.K), func(t *testing.T) {
			x := make([]float32, c.B*c.N*c.K)
			w := make([]bfloat16.BFloat16, c.B*c.M*c.K)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			for i := range w {
				w[i] = bfloat16.FromFloat32(float32(rng.NormFloat64()))
			}
			before := gobackend.BF16WeightProducts()
			got := run1(t, be, func(x, w *graph.Node) *graph.Node {
				return graph.Dot(x, graph.ConvertDType(w, dtypes.Float32)).Einsum("bnk,bmk->bnm")
			}, tensors.FromFlatDataAndDimensions(x, c.B, c.N, c.K), tensors.FromFlatDataAndDimensions(w, c.B, c.M, c.K))
			if n := gobackend.BF16WeightProducts() - before; goBackend && n != 1 {
				t.Errorf("%d products read the bfloat16 operand directly, want 1", n)
			}
			// With the AVX2 kernels, the product is the float32 one over the
			// widened weights bit for bit (same kernels, same sums).
			w32 := make([]float32, len(w))
			for i, v := range w {
				w32[i] = v.Float32()
			}
			ref := run1(t, be, func(x, w *graph.Node) *graph.Node { return graph.Dot(x, w).Einsum("bnk,bmk->bnm") },
				tensors.FromFlatDataAndDimensions(x, c.B, c.N, c.K), tensors.FromFlatDataAndDimensions(w32, c.B, c.M, c.K))
			if goBackend && fastAttention {
				for i := range ref {
					if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("output %d: %v with bfloat16 weights, %v with float32 ones", i, got[i], ref[i])
					}
				}
			}
			bad := 0
			for b := range c.B {
				for n := range c.N {
					for m := range c.M {
						var want, mag float64
						for k := range c.K {
							p := float64(x[(b*c.N+n)*c.K+k]) * float64(w[(b*c.M+m)*c.K+k].Float32())
							want += p
							mag += math.Abs(p)
						}
						if g := float64(got[(b*c.N+n)*c.M+m]); math.Abs(g-want) > 1e-5*mag+1e-6 {
							if bad++; bad <= 3 {
								t.Errorf("[%d,%d,%d] = %v, want %v", b, n, m, g, want)
							}
						}
					}
				}
			}
		})
	}
}

// TestBF16Weights: a BF16 checkpoint is held as bfloat16 by default, in
// half the bytes of its matrices, and computes what its float32 widening
// computes; "bf16" rounds a float32 checkpoint's matrices exactly as
// rounding them beforehand would.
func TestBF16Weights(t *testing.T) {
	ctx := context.Background()
	logProbs := func(m *Model, seqs [][]int) [][]float64 {
		t.Helper()
		lp, err := m.Forward(ctx, seqs, ForwardOptions{LogProbs: true})
		if err != nil {
			t.Fatal(err)
		}
		return lp
	}
	same := func(what string, a, b [][]float64, tol float64) {
		t.Helper()
		for i := range a {
			for j := range a[i] {
				if math.Abs(a[i][j]-b[i][j]) > tol {
					t.Fatalf("%s: log-prob [%d][%d] %v vs %v", what, i, j, a[i][j], b[i][j])
				}
			}
		}
	}
	seqs := [][]int{{1, 17, 42, 99, 5, 300, 7, 12, 8, 250, 3, 77}, {1, 400, 2, 9}}

	t.Run("qwen2", func(t *testing.T) {
		bf := loadModelOpts(t, "models/tiny-random-qwen2", Options{Weights: "bf16"})
		defer bf.Close()
		auto := loadModelOpts(t, "models/tiny-random-qwen2", Options{})
		defer auto.Close()
		// "auto" keeps a BF16 checkpoint as bfloat16 where products read it
		// directly (the Go backend's AVX2 kernels), else widens it.
		if want := map[bool]string{true: "bf16", false: "f32"}[isGoBackend(auto.BackendName()) && gobackend.HasBF16Kernels()]; auto.WeightDType() != want {
			t.Errorf("auto holds the BF16 checkpoint as %s, want %s", auto.WeightDType(), want)
		}
		f32 := loadModelOpts(t, "models/tiny-random-qwen2", Options{Weights: "f32"})
		defer f32.Close()
		if bf.WeightDType() != "bf16" || f32.WeightDType() != "f32" {
			t.Fatalf("weights held as %s and %s, want bf16 and f32", bf.WeightDType(), f32.WeightDType())
		}
		c := bf.Config
		qkv := (c.NumHeads + 2*c.NumKVHeads) * c.HeadDim
		matrices := int64(c.VocabSize*c.HiddenSize + c.NumLayers*(qkv*c.HiddenSize+c.HiddenSize*c.NumHeads*c.HeadDim+3*c.IntermediateSize*c.HiddenSize))
		vectors := int64(c.NumLayers*(2*c.HiddenSize+qkv) + c.HiddenSize)
		if got, want := bf.WeightBytes(), 2*matrices+4*vectors; got != want {
			t.Errorf("bf16 weights take %d bytes, want %d", got, want)
		}
		if got, want := f32.WeightBytes(), 4*(matrices+vectors); got != want {
			t.Errorf("f32 weights take %d bytes, want %d", got, want)
		}
		before := gobackend.BF16WeightProducts()
		a := logProbs(bf, seqs)
		if isGoBackend(bf.BackendName()) && gobackend.BF16WeightProducts() == before {
			t.Error("no product read the bfloat16 weights directly")
		}
		tol := 1e-4
		if isGoBackend(bf.BackendName()) && fastAttention {
			tol = 0 // the AVX2 kernels: the float32 sums bit for bit
		}
		same("bf16 vs f32 weights", a, logProbs(f32, seqs), tol)
	})

	t.Run("rounded", func(t *testing.T) {
		ck, err := checkpoint.Open(filepath.Join(sharedDir(t), "models/stories260K-hf"))
		if err != nil {
			t.Fatal(err)
		}
		defer ck.Close()
		src := checkpointSource{ck}
		rounded := roundedSource{src}
		bf, err := build(ck.Config, ck.Path, ck.Format, Options{Weights: "bf16"}, src)
		if err != nil {
			t.Fatal(err)
		}
		defer bf.Close()
		want, err := build(ck.Config, ck.Path, ck.Format, Options{Weights: "f32"}, rounded)
		if err != nil {
			t.Fatal(err)
		}
		defer want.Close()
		if bf.WeightDType() != "bf16" {
			t.Fatalf("weights held as %s, want bf16", bf.WeightDType())
		}
		s := [][]int{{1, 200, 45, 17, 300, 5, 99, 250, 12}}
		same("bf16 mode vs rounded f32", logProbs(bf, s), logProbs(want, s), 1e-4)
		if _, err := build(ck.Config, ck.Path, ck.Format, Options{Weights: "fp8"}, src); err == nil || !strings.Contains(err.Error(), "fp8") {
			t.Errorf("unknown weights mode: err %v", err)
		}
	})
}

// roundedSource reads a checkpoint with its matrices rounded to bfloat16
// and widened back to float32.
type roundedSource struct{ checkpointSource }

func (s roundedSource) read(name string, dst any) error {
	if err := s.checkpointSource.read(name, dst); err != nil {
		return err
	}
	if d, ok := dst.([]float32); ok {
		if dims, _, _ := s.shape(name); len(dims) == 2 {
			for i, f := range d {
				d[i] = safetensors.BF16ToFloat32(safetensors.Float32ToBF16(f))
			}
		}
	}
	return nil
}

// TestLoadRejectsNonFinite: a NaN or Inf in a weight, bfloat16 (kept as
// is) or float32, fails the load with the folder and the tensor named.
func TestLoadRejectsNonFinite(t *testing.T) {
	src := filepath.Join(sharedDir(t), "models/tiny-random-qwen2")
	for _, c := range []struct {
		weights, tensor string
		bits            uint16
	}{
		{"", "model.layers.1.mlp.up_proj.weight", 0x7fc0},         // NaN, kept as bfloat16
		{"f32", "model.layers.0.self_attn.k_proj.weight", 0xff80}, // -Inf, widened
		{"", "model.norm.weight", 0x7f80},                         // +Inf in a float32 vector
	} {
		t.Run(c.tensor, func(t *testing.T) {
			f, err := safetensors.Open(filepath.Join(src, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var ts []*safetensors.Tensor
			for _, name := range f.Names() {
				tt := *f.Tensors()[name]
				tt.Data = append([]byte(nil), tt.Data...)
				if name == c.tensor {
					if tt.DType != safetensors.BF16 {
						t.Fatalf("%s is %s, the test expects BF16", name, tt.DType)
					}
					tt.Data[6], tt.Data[7] = byte(c.bits), byte(c.bits>>8) // element 3
				}
				ts = append(ts, &tt)
			}
			dir := t.TempDir()
			if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
				t.Fatal(err)
			}
			cfg, err := os.ReadFile(filepath.Join(src, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Load(dir, Options{Weights: c.weights})
			if err == nil {
				m.Close()
				t.Fatal("loaded a checkpoint holding NaN/Inf")
			}
			for _, want := range []string{dir, c.tensor, "NaN or Inf"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}
