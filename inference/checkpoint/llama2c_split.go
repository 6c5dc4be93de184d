package checkpoint

import (
	"fmt"

	"github.com/npti-studio/npti/inference/safetensors"
)

// splitLlama2c cuts the float data of a llama2.c file (already checked to
// have the right length) into Hugging Face tensors. The q and k rows are
// permuted from interleaved RoPE pairs to rotate-half order.
func splitLlama2c(c Config, data []byte) map[string]*safetensors.Tensor {
	d, ff, L := c.HiddenSize, c.IntermediateSize, c.NumLayers
	kv := c.NumKVHeads * c.HeadDim
	out := map[string]*safetensors.Tensor{}
	off := 0
	// take returns the next rows*cols floats as raw bytes.
	take := func(rows, cols int) []byte {
		b := data[off : off+4*rows*cols : off+4*rows*cols]
		off += 4 * rows * cols
		return b
	}
	add := func(name string, shape []int, b []byte) {
		out[name] = &safetensors.Tensor{Name: name, DType: safetensors.F32, Shape: shape, Data: b}
	}
	layer := func(i int, suffix string) string { return fmt.Sprintf("model.layers.%d.%s", i, suffix) }
	perLayer := func(suffix string, rows, cols int, conv func([]byte) []byte) {
		for i := range L {
			b := take(rows, cols)
			if conv != nil {
				b = conv(b)
			}
			shape := []int{rows, cols}
			if cols == 1 {
				shape = []int{rows}
			}
			add(layer(i, suffix), shape, b)
		}
	}
	add("model.embed_tokens.weight", []int{c.VocabSize, d}, take(c.VocabSize, d))
	perLayer("input_layernorm.weight", d, 1, nil)
	perLayer("self_attn.q_proj.weight", d, d, func(b []byte) []byte { return permuteRoPE(b, c.NumHeads, d) })
	perLayer("self_attn.k_proj.weight", kv, d, func(b []byte) []byte { return permuteRoPE(b, c.NumKVHeads, d) })
	perLayer("self_attn.v_proj.weight", kv, d, nil)
	perLayer("self_attn.o_proj.weight", d, d, nil)
	perLayer("post_attention_layernorm.weight", d, 1, nil)
	perLayer("mlp.gate_proj.weight", ff, d, nil)
	perLayer("mlp.down_proj.weight", d, ff, nil)
	perLayer("mlp.up_proj.weight", ff, d, nil)
	add("model.norm.weight", []int{d}, take(d, 1))
	take(c.MaxPositions, c.HeadDim) // legacy freq_cis_real and _imag, unused
	if !c.TieWordEmbeddings {
		add("lm_head.weight", []int{c.VocabSize, d}, take(c.VocabSize, d))
	}
	return out
}

// permuteRoPE reorders the rows of a [heads*hs, cols] float32 matrix from
// interleaved pairs (2i, 2i+1) to rotate-half order (i, i+hs/2) within
// each head, as transformers' convert_llama_weights_to_hf permute does:
// w.view(heads, hs/2, 2, cols).transpose(1, 2).reshape(heads*hs, cols).
func permuteRoPE(src []byte, heads, cols int) []byte {
	rowBytes := 4 * cols
	hs := len(src) / rowBytes / heads
	dst := make([]byte, len(src))
	for h := range heads {
		for i := range hs / 2 {
			for j := range 2 {
				from := (h*hs + 2*i + j) * rowBytes
				to := (h*hs + j*hs/2 + i) * rowBytes
				copy(dst[to:to+rowBytes], src[from:from+rowBytes])
			}
		}
	}
	return dst
}
