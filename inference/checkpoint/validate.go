package checkpoint

import (
	"fmt"
	"slices"
)

// TensorSpec is a tensor the model needs, with its shape as Hugging Face
// stores it ([out, in] for projections).
type TensorSpec struct {
	Name  string
	Shape []int
}

// ExpectedTensors lists every tensor a model with config c needs.
func (c *Config) ExpectedTensors() []TensorSpec {
	var specs []TensorSpec
	c.visitExpected(func(s TensorSpec) error {
		specs = append(specs, s)
		return nil
	})
	return specs
}

// visitExpected calls fn for each expected tensor, stopping at the first
// error.
func (c *Config) visitExpected(fn func(TensorSpec) error) error {
	d, ff := c.HiddenSize, c.IntermediateSize
	q, kv := c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim
	top := []TensorSpec{
		{"model.embed_tokens.weight", []int{c.VocabSize, d}},
		{"model.norm.weight", []int{d}},
	}
	if !c.TieWordEmbeddings {
		top = append(top, TensorSpec{"lm_head.weight", []int{c.VocabSize, d}})
	}
	for _, s := range top {
		if err := fn(s); err != nil {
			return err
		}
	}
	for i := range c.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", i)
		specs := []TensorSpec{
			{p + "input_layernorm.weight", []int{d}},
			{p + "post_attention_layernorm.weight", []int{d}},
			{p + "self_attn.q_proj.weight", []int{q, d}},
			{p + "self_attn.k_proj.weight", []int{kv, d}},
			{p + "self_attn.v_proj.weight", []int{kv, d}},
			{p + "self_attn.o_proj.weight", []int{d, q}},
			{p + "mlp.gate_proj.weight", []int{ff, d}},
			{p + "mlp.up_proj.weight", []int{ff, d}},
			{p + "mlp.down_proj.weight", []int{d, ff}},
		}
		if c.AttentionBias {
			specs = append(specs,
				TensorSpec{p + "self_attn.q_proj.bias", []int{q}},
				TensorSpec{p + "self_attn.k_proj.bias", []int{kv}},
				TensorSpec{p + "self_attn.v_proj.bias", []int{kv}},
			)
		}
		if c.OutputBias {
			specs = append(specs, TensorSpec{p + "self_attn.o_proj.bias", []int{d}})
		}
		for _, s := range specs {
			if err := fn(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// validate checks that every expected tensor is present with its exact
// shape and a float dtype.
func (ck *Checkpoint) validate() error {
	return ck.Config.visitExpected(func(s TensorSpec) error {
		t, ok := ck.Tensors[s.Name]
		if !ok {
			return fmt.Errorf("checkpoint: %s: missing tensor %q", ck.Path, s.Name)
		}
		if !slices.Equal(t.Shape, s.Shape) {
			return fmt.Errorf("checkpoint: %s: tensor %q has shape %v, want %v", ck.Path, s.Name, t.Shape, s.Shape)
		}
		if !t.DType.IsFloat() {
			return fmt.Errorf("checkpoint: %s: tensor %q has dtype %s, want F32, F16, BF16 or F64", ck.Path, s.Name, t.DType)
		}
		return nil
	})
}

// Float32 returns the named tensor converted to float32.
func (ck *Checkpoint) Float32(name string) ([]float32, error) {
	t, ok := ck.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("checkpoint: %s: no tensor %q", ck.Path, name)
	}
	return t.Float32()
}
