// Package checkpoint opens Llama-family decoder checkpoints (Hugging Face
// safetensors directories, cached hub models, and llama2.c files) as
// validated tensors in the Hugging Face layout.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrUnsupportedArch is wrapped when a config names an architecture this
// package cannot run.
var ErrUnsupportedArch = errors.New("unsupported architecture")

// RopeScaling describes a non-default RoPE frequency scaling.
type RopeScaling struct {
	Type                          string // "llama3" or "linear"
	Factor                        float64
	LowFreqFactor, HighFreqFactor float64 // llama3 only
	OriginalMaxPositionEmbeddings int     // llama3 only
}

// Config is the parsed, validated model configuration.
type Config struct {
	Architecture, ModelType string
	HiddenSize              int // d_model
	IntermediateSize        int // FFN width
	NumLayers               int
	NumHeads                int // query heads
	NumKVHeads              int // key/value heads (GQA when < NumHeads)
	HeadDim                 int
	VocabSize               int
	MaxPositions            int
	RMSNormEps, RopeTheta   float64
	RopeScaling             *RopeScaling // nil: default RoPE
	TieWordEmbeddings       bool         // lm_head shares embed_tokens
	AttentionBias           bool         // q/k/v projections have biases
	OutputBias              bool         // o_proj has a bias (Llama's attention_bias)
	BOSTokenID              int          // -1 if none
	EOSTokenIDs             []int
	TorchDType              string
	// SlidingWindow W > 0: every layer's query at position p attends to
	// positions p−W+1 … p only (transformers' sliding_window: kv > q − W).
	SlidingWindow int // 0: full attention
}

// archDefaults are the transformers defaults that differ per family.
type archDefaults struct {
	modelType    string
	maxPositions int
	bos, eos     int // -1: none
	bias         bool
}

var architectures = map[string]archDefaults{
	"LlamaForCausalLM":   {"llama", 2048, 1, 2, false},
	"MistralForCausalLM": {"mistral", 4096 * 32, 1, 2, false},
	"Qwen2ForCausalLM":   {"qwen2", 32768, -1, -1, true},
}

var modelTypes = map[string]string{
	"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM",
}

// rawConfig mirrors the config.json fields read.
type rawConfig struct {
	Architectures     []string        `json:"architectures"`
	ModelType         string          `json:"model_type"`
	HiddenSize        *int            `json:"hidden_size"`
	IntermediateSize  *int            `json:"intermediate_size"`
	NumLayers         *int            `json:"num_hidden_layers"`
	NumHeads          *int            `json:"num_attention_heads"`
	NumKVHeads        *int            `json:"num_key_value_heads"`
	HeadDim           *int            `json:"head_dim"`
	VocabSize         *int            `json:"vocab_size"`
	MaxPositions      *int            `json:"max_position_embeddings"`
	RMSNormEps        *float64        `json:"rms_norm_eps"`
	RopeTheta         *float64        `json:"rope_theta"`
	RopeScaling       json.RawMessage `json:"rope_scaling"`
	RopeParameters    json.RawMessage `json:"rope_parameters"`
	TieWordEmbeddings *bool           `json:"tie_word_embeddings"`
	AttentionBias     *bool           `json:"attention_bias"`
	MLPBias           bool            `json:"mlp_bias"`
	HiddenAct         *string         `json:"hidden_act"`
	BOSTokenID        json.RawMessage `json:"bos_token_id"`
	EOSTokenID        json.RawMessage `json:"eos_token_id"`
	TorchDType        string          `json:"torch_dtype"`
	DType             string          `json:"dtype"`
	UseSlidingWindow  bool            `json:"use_sliding_window"`
	SlidingWindow     json.RawMessage `json:"sliding_window"` // absent, null or a number
	MaxWindowLayers   *int            `json:"max_window_layers"`
	LayerTypes        []string        `json:"layer_types"`
}

// ParseConfig reads and validates a Hugging Face config.json.
func ParseConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("checkpoint: %w", err)
	}
	return parseConfig(path, data)
}

// parseConfig parses config.json bytes; name is used in errors.
func parseConfig(name string, data []byte) (Config, error) {
	var raw rawConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("checkpoint: %s: %w", name, err)
	}
	c, err := raw.toConfig()
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		return Config{}, fmt.Errorf("checkpoint: %s: %w", name, err)
	}
	return c, nil
}

// toConfig applies the transformers defaults of the architecture.
func (r *rawConfig) toConfig() (Config, error) {
	arch := ""
	if len(r.Architectures) > 0 {
		arch = r.Architectures[0]
	} else {
		arch = modelTypes[r.ModelType]
	}
	def, ok := architectures[arch]
	if !ok {
		if arch == "" {
			arch = "model_type " + r.ModelType
		}
		return Config{}, fmt.Errorf("architecture %q: %w", arch, ErrUnsupportedArch)
	}
	if r.HiddenAct != nil && *r.HiddenAct != "silu" {
		return Config{}, fmt.Errorf("hidden_act %q: only silu is supported: %w", *r.HiddenAct, ErrUnsupportedArch)
	}
	if r.MLPBias {
		return Config{}, fmt.Errorf("mlp_bias is not supported: %w", ErrUnsupportedArch)
	}
	c := Config{Architecture: arch, ModelType: firstNonEmpty(r.ModelType, def.modelType),
		TorchDType: firstNonEmpty(r.TorchDType, r.DType)}
	for _, f := range []struct {
		dst  *int
		src  *int
		name string
	}{{&c.HiddenSize, r.HiddenSize, "hidden_size"}, {&c.IntermediateSize, r.IntermediateSize, "intermediate_size"},
		{&c.NumLayers, r.NumLayers, "num_hidden_layers"}, {&c.NumHeads, r.NumHeads, "num_attention_heads"},
		{&c.VocabSize, r.VocabSize, "vocab_size"}} {
		if f.src == nil {
			return Config{}, fmt.Errorf("missing %s", f.name)
		}
		*f.dst = *f.src
	}
	c.NumKVHeads = deref(r.NumKVHeads, c.NumHeads)
	if r.HeadDim == nil && c.NumHeads > 0 && c.HiddenSize%c.NumHeads != 0 {
		return Config{}, fmt.Errorf("hidden_size %d not divisible by num_attention_heads %d (and no head_dim)", c.HiddenSize, c.NumHeads)
	}
	if c.NumHeads > 0 {
		c.HeadDim = deref(r.HeadDim, c.HiddenSize/c.NumHeads)
	}
	c.MaxPositions = deref(r.MaxPositions, def.maxPositions)
	c.RMSNormEps = derefF(r.RMSNormEps, 1e-6)
	c.RopeTheta = derefF(r.RopeTheta, 10000)
	c.TieWordEmbeddings = r.TieWordEmbeddings != nil && *r.TieWordEmbeddings
	// transformers: Llama's attention_bias gives q, k, v and o biases;
	// Qwen2 always has q, k, v biases and no o bias; Mistral has none.
	llamaBias := def.modelType == "llama" && r.AttentionBias != nil && *r.AttentionBias
	c.AttentionBias = def.bias || llamaBias
	c.OutputBias = llamaBias
	var err error
	if c.SlidingWindow, err = r.slidingWindow(def.modelType, c.NumLayers); err != nil {
		return Config{}, err
	}
	if c.RopeScaling, err = parseRope(r, &c.RopeTheta); err != nil {
		return Config{}, err
	}
	if c.BOSTokenID, err = parseBOS(r.BOSTokenID, def.bos); err != nil {
		return Config{}, err
	}
	if c.EOSTokenIDs, err = ParseEOS(r.EOSTokenID, def.eos); err != nil {
		return Config{}, err
	}
	return c, nil
}

// slidingWindow returns the attention window of every layer (0: full
// attention) as transformers reads the config: Mistral's sliding_window
// (4096 when absent, none when null); Qwen2's only with use_sliding_window,
// on the layers from max_window_layers on (28 when absent), or those that
// layer_types marks "sliding_attention". A window on some layers only is
// refused: the engine has one mask for all layers.
func (r *rawConfig) slidingWindow(modelType string, layers int) (int, error) {
	window := func(def int) (int, error) {
		raw := strings.TrimSpace(string(r.SlidingWindow))
		switch raw {
		case "":
			return def, nil
		case "null":
			return 0, nil
		}
		var w int
		if err := json.Unmarshal(r.SlidingWindow, &w); err != nil {
			return 0, fmt.Errorf("sliding_window %s is not an integer", raw)
		}
		if w <= 0 {
			return 0, fmt.Errorf("sliding_window %d must be positive (or null)", w)
		}
		return w, nil
	}
	switch modelType {
	case "mistral":
		return window(4096)
	case "qwen2":
		if !r.UseSlidingWindow {
			return 0, nil
		}
		w, err := window(4096)
		if err != nil || w == 0 {
			return 0, err
		}
		windowed := 0
		if r.LayerTypes != nil {
			if len(r.LayerTypes) != layers {
				return 0, fmt.Errorf("layer_types has %d entries for %d layers", len(r.LayerTypes), layers)
			}
			for _, t := range r.LayerTypes {
				if t == "sliding_attention" {
					windowed++
				}
			}
		} else {
			windowed = max(0, layers-deref(r.MaxWindowLayers, 28))
		}
		switch windowed {
		case 0:
			return 0, nil
		case layers:
			return w, nil
		}
		return 0, fmt.Errorf("a sliding window on %d of %d layers is not supported (only on all or none): %w", windowed, layers, ErrUnsupportedArch)
	}
	return 0, nil
}

func deref(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func derefF(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
