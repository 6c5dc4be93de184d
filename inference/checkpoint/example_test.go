package checkpoint_test

import (
	"fmt"

	"github.com/npti-studio/npti/inference/checkpoint"
)

// Open a llama2.c checkpoint; its tensors come out under the Hugging Face
// names and layout.
func ExampleOpen() {
	ck, err := checkpoint.Open("../../../shared/models/stories260K/stories260K.bin")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ck.Close()
	c := ck.Config
	fmt.Println(ck.Format, c.Architecture, c.NumLayers, "layers", c.NumHeads, "heads", c.NumKVHeads, "kv heads")
	fmt.Println(ck.Tensors["model.layers.0.self_attn.k_proj.weight"].Shape)
	// Output:
	// llama2c LlamaForCausalLM 5 layers 8 heads 4 kv heads
	// [32 64]
}
