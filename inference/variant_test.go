package inference

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/npti-studio/npti/inference/safetensors"
)

// variantModel writes tiny-random-llama with its config edited by cfg and
// extra float32 tensors (name → shape) whose values are
// 0.05·sin(0.37·i + 0.11·k) (element i of the k-th tensor in the given
// order), to dir (a temporary folder when dir is ""). The reference ids
// below came from ../shared/tools/llama_ref.py run on these folders
// (NPTI_VARIANT_DIR=… go test -run TestVariantModels writes them).
func variantModel(t *testing.T, dir string, cfg map[string]any, extra []safetensors.Tensor, f16 bool) string {
	t.Helper()
	src := filepath.Join(sharedDir(t), "models", "tiny-random-llama")
	raw, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	for k, v := range cfg {
		c[k] = v
	}
	f, err := safetensors.Open(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var list []*safetensors.Tensor
	for _, name := range f.Names() {
		x := f.Tensors()[name]
		list = append(list, &safetensors.Tensor{Name: x.Name, DType: x.DType, Shape: x.Shape, Data: append([]byte(nil), x.Data...)})
	}
	for k, e := range extra {
		n := 1
		for _, d := range e.Shape {
			n *= d
		}
		data := make([]byte, 4*n)
		for i := range n {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(0.05*math.Sin(0.37*float64(i)+0.11*float64(k)))))
		}
		list = append(list, &safetensors.Tensor{Name: e.Name, DType: safetensors.F32, Shape: e.Shape, Data: data})
	}
	if f16 {
		for _, x := range list {
			x.DType, x.Data = safetensors.F16, toF16(x.Data)
		}
	}
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), list, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// toF16 converts little-endian float32 data to float16, truncating (any
// float16 values serve: the reference reads the same file).
func toF16(f32 []byte) []byte {
	out := make([]byte, len(f32)/2)
	for i := range len(f32) / 4 {
		b := binary.LittleEndian.Uint32(f32[4*i:])
		x := math.Abs(float64(math.Float32frombits(b)))
		h := uint16(b>>16) & 0x8000
		switch e := int(b>>23&0xff) - 127 + 15; {
		case e >= 31:
			h |= 0x7bff // the largest finite value
		case e > 0:
			h |= uint16(e)<<10 | uint16(b>>13&0x3ff)
		default:
			h |= uint16(x / math.Ldexp(1, -24)) // subnormal (0 below 2⁻²⁴)
		}
		binary.LittleEndian.PutUint16(out[2*i:], h)
	}
	return out
}

// TestVariantModels: transformers features beyond the shared checkpoints,
// on tiny-random-llama's weights, against the independent PyTorch
// reference: a whole float16 checkpoint, Llama's attention_bias (biases on q, k, v and o: o's used to
// be dropped silently) and Mistral's sliding window (used to be read and
// not applied). (Unedited, the model continues this prompt with 190 24 85
// 65 366 26 …) llama_ref.py applies every bias present; for the window its
// mask was limited to q − k < W, as transformers' sliding_window_overlay
// (kv_idx > q_idx − W), by one added line after the causal mask:
// mask.masked_fill(i[:, None] - i[None, :] >= W, -inf), i = arange(T).
func TestVariantModels(t *testing.T) {
	const H, NH, KVH, D = 64, 4, 2, 16
	var biases []safetensors.Tensor
	for l := range 3 {
		p := fmt.Sprintf("model.layers.%d.self_attn.", l)
		biases = append(biases, safetensors.Tensor{Name: p + "q_proj.bias", Shape: []int{NH * D}},
			safetensors.Tensor{Name: p + "k_proj.bias", Shape: []int{KVH * D}},
			safetensors.Tensor{Name: p + "v_proj.bias", Shape: []int{KVH * D}},
			safetensors.Tensor{Name: p + "o_proj.bias", Shape: []int{H}})
	}
	prompt := []int{321, 133, 382, 186, 17, 250, 9, 77}
	cases := []struct {
		name  string
		cfg   map[string]any
		extra []safetensors.Tensor
		f16   bool
		want  []int
	}{
		{"attention-bias", map[string]any{"attention_bias": true}, biases, false,
			[]int{190, 24, 85, 252, 104, 378, 361, 361, 16, 120, 108, 103}},
		{"sliding-window", map[string]any{"architectures": []string{"MistralForCausalLM"}, "model_type": "mistral", "sliding_window": 3}, nil, false,
			[]int{257, 197, 87, 194, 271, 310, 228, 117, 382, 134, 87, 93}},
		{"float16", map[string]any{"torch_dtype": "float16"}, nil, true,
			[]int{190, 24, 85, 65, 366, 26, 104, 157, 156, 20, 310, 211}},
	}
	dump := os.Getenv("NPTI_VARIANT_DIR")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := ""
			if dump != "" {
				dir = filepath.Join(dump, c.name)
			}
			m, err := Load(variantModel(t, dir, c.cfg, c.extra, c.f16), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			got, err := m.Generate(context.Background(), [][]int{prompt}, GenerateOptions{MaxTokens: len(c.want), IgnoreEOS: true})
			if err != nil {
				t.Fatal(err)
			}
			equalIDs(t, c.name, got[0], c.want)
		})
	}
}
