package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const baseLlama = `"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100`

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name, json string
		check      func(c Config) bool
	}{
		{"llama defaults", `{` + baseLlama + `}`, func(c Config) bool {
			return c.NumKVHeads == 4 && c.HeadDim == 16 && c.RopeTheta == 10000 && c.RMSNormEps == 1e-6 &&
				!c.AttentionBias && !c.TieWordEmbeddings && c.BOSTokenID == 1 && reflect.DeepEqual(c.EOSTokenIDs, []int{2}) &&
				c.MaxPositions == 2048 && c.ModelType == "llama" && c.RopeScaling == nil
		}},
		{"explicit head_dim and gqa", `{` + baseLlama + `,"num_key_value_heads":2,"head_dim":32}`, func(c Config) bool {
			return c.NumKVHeads == 2 && c.HeadDim == 32
		}},
		{"llama attention_bias", `{` + baseLlama + `,"attention_bias":true}`, func(c Config) bool { return c.AttentionBias && c.OutputBias }},
		{"mistral ignores attention_bias", `{"model_type":"mistral","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"attention_bias":true}`,
			func(c Config) bool { return !c.AttentionBias && !c.OutputBias }},
		{"mistral window absent: 4096", `{"model_type":"mistral","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100}`,
			func(c Config) bool { return c.SlidingWindow == 4096 }},
		{"mistral window null: none", `{"model_type":"mistral","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"sliding_window":null}`,
			func(c Config) bool { return c.SlidingWindow == 0 }},
		{"llama ignores sliding_window", `{` + baseLlama + `,"sliding_window":16}`, func(c Config) bool { return c.SlidingWindow == 0 }},
		{"qwen2 window off by default", `{"model_type":"qwen2","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"sliding_window":32}`,
			func(c Config) bool { return c.SlidingWindow == 0 && !c.OutputBias }},
		{"qwen2 window on every layer", `{"model_type":"qwen2","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"use_sliding_window":true,"sliding_window":32,"max_window_layers":0}`,
			func(c Config) bool { return c.SlidingWindow == 32 }},
		{"qwen2 window past the layers", `{"model_type":"qwen2","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"use_sliding_window":true,"sliding_window":32}`,
			func(c Config) bool { return c.SlidingWindow == 0 }},
		{"qwen2 always biased, no bos", `{"architectures":["Qwen2ForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100}`,
			func(c Config) bool {
				return c.AttentionBias && c.BOSTokenID == -1 && c.EOSTokenIDs == nil && c.MaxPositions == 32768
			}},
		{"model_type only", `{"model_type":"mistral","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,"vocab_size":100,"sliding_window":4096}`,
			func(c Config) bool { return c.Architecture == "MistralForCausalLM" && c.SlidingWindow == 4096 }},
		{"eos list, null bos", `{` + baseLlama + `,"eos_token_id":[7,8,9],"bos_token_id":null}`, func(c Config) bool {
			return reflect.DeepEqual(c.EOSTokenIDs, []int{7, 8, 9}) && c.BOSTokenID == -1
		}},
		{"llama3 rope", `{` + baseLlama + `,"rope_theta":500000.0,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"}}`,
			func(c Config) bool {
				return c.RopeTheta == 500000 && reflect.DeepEqual(c.RopeScaling, &RopeScaling{"llama3", 32, 1, 4, 8192})
			}},
		{"linear rope, type key", `{` + baseLlama + `,"rope_scaling":{"type":"linear","factor":2}}`, func(c Config) bool {
			return reflect.DeepEqual(c.RopeScaling, &RopeScaling{Type: "linear", Factor: 2})
		}},
		{"null and default rope", `{` + baseLlama + `,"rope_scaling":{"rope_type":"default"}}`, func(c Config) bool { return c.RopeScaling == nil }},
		{"v5 rope_parameters", `{` + baseLlama + `,"rope_parameters":{"rope_type":"default","rope_theta":1000000.0},"dtype":"bfloat16"}`, func(c Config) bool {
			return c.RopeScaling == nil && c.RopeTheta == 1e6 && c.TorchDType == "bfloat16"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parseConfig("config.json", []byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(cfg) {
				t.Errorf("config %+v", cfg)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct{ name, json, want string }{
		{"arch", `{"architectures":["GPT2LMHeadModel"],"hidden_size":64}`, `"GPT2LMHeadModel"`},
		{"model type", `{"model_type":"gemma"}`, "gemma"},
		{"yarn", `{` + baseLlama + `,"rope_scaling":{"rope_type":"yarn","factor":4}}`, `rope type "yarn"`},
		{"gelu", `{` + baseLlama + `,"hidden_act":"gelu"}`, "hidden_act"},
		{"window on some layers", `{"model_type":"qwen2","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"use_sliding_window":true,"sliding_window":32,"max_window_layers":1}`, "1 of 2 layers"},
		{"window by layer_types", `{"model_type":"qwen2","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"use_sliding_window":true,"layer_types":["full_attention","sliding_attention"]}`, "1 of 2 layers"},
		{"window zero", `{"model_type":"mistral","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"sliding_window":0}`, "sliding_window 0"},
		{"window text", `{"model_type":"mistral","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"sliding_window":"big"}`, "not an integer"},
		{"gqa", `{` + baseLlama + `,"num_key_value_heads":3}`, "not divisible"},
		{"missing", `{"architectures":["LlamaForCausalLM"],"hidden_size":64}`, "missing intermediate_size"},
		{"negative", `{` + baseLlama + `,"num_hidden_layers":-1}`, "num_hidden_layers = -1"},
		{"odd head", `{` + baseLlama + `,"head_dim":15}`, "even"},
		{"eos range", `{` + baseLlama + `,"eos_token_id":[1,100]}`, "eos_token_id 100"},
		{"eos type", `{` + baseLlama + `,"eos_token_id":"x"}`, "eos_token_id"},
		{"llama3 incomplete", `{` + baseLlama + `,"rope_scaling":{"rope_type":"llama3","factor":8}}`, "llama3 scaling needs"},
		{"json", `{"architectures":`, "unexpected end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig("dir/config.json", []byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "dir/config.json") {
				t.Fatalf("err = %v, want one naming dir/config.json and %q", err, c.want)
			}
		})
	}
	_, err := parseConfig("config.json", []byte(cases[0].json))
	if !errors.Is(err, ErrUnsupportedArch) {
		t.Errorf("unsupported architecture error %v does not wrap ErrUnsupportedArch", err)
	}
}

// TestParseConfigShared reads the shared configs.
func TestParseConfigShared(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "models")
	q, err := ParseConfig(filepath.Join(dir, "tiny-random-qwen2", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Architecture: "Qwen2ForCausalLM", ModelType: "qwen2", HiddenSize: 80, IntermediateSize: 224,
		NumLayers: 2, NumHeads: 5, NumKVHeads: 1, HeadDim: 16, VocabSize: 448, MaxPositions: 4096,
		RMSNormEps: 1e-6, RopeTheta: 1e6, TieWordEmbeddings: true, AttentionBias: true, BOSTokenID: 1,
		EOSTokenIDs: []int{2}, TorchDType: "bfloat16"}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("qwen2 config\n got %+v\nwant %+v", q, want)
	}
	if _, err := ParseConfig(filepath.Join(dir, "absent", "config.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{` + baseLlama + `}`))
	f.Add([]byte(`{` + baseLlama + `,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},"eos_token_id":[1,2]}`))
	f.Add([]byte(`{"model_type":"qwen2","hidden_size":80,"intermediate_size":1,"num_hidden_layers":1,"num_attention_heads":5,"vocab_size":9,"head_dim":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseConfig("config.json", data)
		if err != nil {
			if !strings.Contains(err.Error(), "config.json") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("parsed config fails Validate: %v", err)
		}
		if n := len(c.ExpectedTensors()); n < 2 {
			t.Errorf("%d expected tensors", n)
		}
	})
}
