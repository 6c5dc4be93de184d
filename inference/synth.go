package inference

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/npti-studio/npti/inference/checkpoint"
	"github.com/npti-studio/npti/inference/safetensors"
)

// Shapes are named model shapes that Synthesize can build, for benchmarks.
var Shapes = map[string]checkpoint.Config{
	"smollm2-135m": {Architecture: "LlamaForCausalLM", ModelType: "llama", HiddenSize: 576, IntermediateSize: 1536,
		NumLayers: 30, NumHeads: 9, NumKVHeads: 3, HeadDim: 64, VocabSize: 49152, MaxPositions: 8192,
		RMSNormEps: 1e-5, RopeTheta: 100000, TieWordEmbeddings: true, BOSTokenID: 1, EOSTokenIDs: []int{2}, TorchDType: "float32"},
	"persona-tiny": {Architecture: "LlamaForCausalLM", ModelType: "llama", HiddenSize: 128, IntermediateSize: 384,
		NumLayers: 4, NumHeads: 4, NumKVHeads: 2, HeadDim: 32, VocabSize: 1024, MaxPositions: 256,
		RMSNormEps: 1e-5, RopeTheta: 10000, TieWordEmbeddings: true, BOSTokenID: 1, EOSTokenIDs: []int{2}, TorchDType: "float32"},
}

// ShapeNames lists the names of Shapes, sorted.
func ShapeNames() []string {
	var n []string
	for k := range Shapes {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Synthesize builds a model of a named shape with random weights (normal,
// std 0.02; norms 1), for speed measurements only: its outputs mean nothing.
func Synthesize(shape string, seed uint64, opts Options) (*Model, error) {
	cfg, ok := Shapes[shape]
	if !ok {
		return nil, fmt.Errorf("unknown shape %q (known: %v)", shape, ShapeNames())
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	H, N, D := cfg.HiddenSize, cfg.IntermediateSize, cfg.HeadDim
	shapeOf := map[string][]int{}
	shapeOf["model.embed_tokens.weight"] = []int{cfg.VocabSize, H}
	shapeOf["lm_head.weight"] = []int{cfg.VocabSize, H}
	shapeOf["model.norm.weight"] = []int{H}
	for l := 0; l < cfg.NumLayers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		shapeOf[p+"input_layernorm.weight"] = []int{H}
		shapeOf[p+"post_attention_layernorm.weight"] = []int{H}
		shapeOf[p+"self_attn.q_proj.weight"] = []int{cfg.NumHeads * D, H}
		shapeOf[p+"self_attn.k_proj.weight"] = []int{cfg.NumKVHeads * D, H}
		shapeOf[p+"self_attn.v_proj.weight"] = []int{cfg.NumKVHeads * D, H}
		shapeOf[p+"self_attn.o_proj.weight"] = []int{H, cfg.NumHeads * D}
		shapeOf[p+"mlp.gate_proj.weight"] = []int{N, H}
		shapeOf[p+"mlp.up_proj.weight"] = []int{N, H}
		shapeOf[p+"mlp.down_proj.weight"] = []int{H, N}
	}
	// Weights are drawn one at a time, in load order, straight into their
	// backend buffers (see build).
	return build(cfg, "synthetic:"+shape, "synthetic", opts, synthSource{shapeOf, rng})
}

// synthSource draws the weights of Synthesize: normal (std 0.02) matrices,
// norms 1, in read order (so a model drawn as bfloat16 is the float32 one
// rounded).
type synthSource struct {
	shapeOf map[string][]int
	rng     *rand.Rand
}

func (s synthSource) shape(name string) ([]int, bool, error) {
	d, ok := s.shapeOf[name]
	if !ok {
		return nil, false, fmt.Errorf("missing tensor %q", name)
	}
	return d, false, nil
}

func (s synthSource) read(name string, dst any) error {
	draw := func() float32 { return float32(s.rng.NormFloat64() * 0.02) }
	if len(s.shapeOf[name]) == 1 {
		draw = func() float32 { return 1 }
	}
	switch d := dst.(type) {
	case []float32:
		for i := range d {
			d[i] = draw()
		}
	case []uint16:
		for i := range d {
			d[i] = safetensors.Float32ToBF16(draw())
		}
	default:
		return fmt.Errorf("cannot read into %T", dst)
	}
	return nil
}
