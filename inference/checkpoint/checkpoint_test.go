package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/safetensors"
)

func TestOpenShared(t *testing.T) {
	cases := []struct {
		model   string
		tensors int // 2 + layers*9 (+3 biases) (+ lm_head)
		lmHead  bool
		dtype   safetensors.DType
	}{
		{"stories260K-hf", 2 + 5*9, false, safetensors.F32},
		{"persona-tiny", 2 + 4*9, false, safetensors.F32},
		{"tiny-random-llama", 3 + 3*9, true, safetensors.F32},
		{"tiny-random-qwen2", 2 + 2*12, false, safetensors.BF16},
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			ck, err := Open(modelDir(t, c.model))
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			if len(ck.Tensors) != c.tensors {
				t.Errorf("%d tensors, want %d", len(ck.Tensors), c.tensors)
			}
			if _, ok := ck.Tensors["lm_head.weight"]; ok != c.lmHead {
				t.Errorf("lm_head present = %v, want %v", ok, c.lmHead)
			}
			if d := ck.Tensors["model.embed_tokens.weight"].DType; d != c.dtype {
				t.Errorf("dtype %s, want %s", d, c.dtype)
			}
		})
	}
}

// copyModel writes a model directory with persona-tiny's config and the
// given tensors, split over shards when shards > 1.
func copyModel(t *testing.T, config []byte, tensors []*safetensors.Tensor, shards int) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	if shards <= 1 {
		if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), tensors, nil); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	weightMap := map[string]string{}
	for s := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", s+1, shards)
		var part []*safetensors.Tensor
		for i := s; i < len(tensors); i += shards {
			part = append(part, tensors[i])
			weightMap[tensors[i].Name] = name
		}
		if err := safetensors.Write(filepath.Join(dir, name), part, nil); err != nil {
			t.Fatal(err)
		}
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// personaTensors returns persona-tiny's config bytes and tensors, sorted.
func personaTensors(t *testing.T) ([]byte, []*safetensors.Tensor, *Checkpoint) {
	ck, err := Open(modelDir(t, "persona-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	var list []*safetensors.Tensor
	for _, x := range ck.Tensors {
		list = append(list, x)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return ck.configBytes, list, ck
}

func TestOpenSharded(t *testing.T) {
	cfg, list, ref := personaTensors(t)
	ck, err := Open(copyModel(t, cfg, list, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if len(ck.Tensors) != len(ref.Tensors) || len(ck.files) != 2 {
		t.Fatalf("%d tensors from %d files", len(ck.Tensors), len(ck.files))
	}
	for name, x := range ref.Tensors {
		if string(ck.Tensors[name].Data) != string(x.Data) {
			t.Errorf("tensor %s differs after sharding", name)
		}
	}
	h1, _ := ck.Hash()
	h2, _ := ref.Hash()
	if h1 != h2 {
		t.Errorf("hash of the sharded copy %s differs from the original %s", h1, h2)
	}
	// An index naming a tensor its shard lacks is an error.
	dir := copyModel(t, cfg, list, 2)
	idx := filepath.Join(dir, "model.safetensors.index.json")
	raw, _ := os.ReadFile(idx)
	raw = []byte(strings.Replace(string(raw), `"weight_map":{`, `"weight_map":{"ghost.weight":"model-00001-of-00002.safetensors",`, 1))
	os.WriteFile(idx, raw, 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), `"ghost.weight"`) {
		t.Errorf("ghost tensor: err = %v", err)
	}
}

func TestOpenInvalid(t *testing.T) {
	cfg, list, _ := personaTensors(t)
	without := func(name string) []*safetensors.Tensor {
		var out []*safetensors.Tensor
		for _, x := range list {
			if x.Name != name {
				out = append(out, x)
			}
		}
		return out
	}
	reshaped := without("model.layers.2.mlp.up_proj.weight")
	up := *findTensor(list, "model.layers.2.mlp.up_proj.weight")
	up.Shape = []int{up.Shape[1], up.Shape[0]}
	reshaped = append(reshaped, &up)
	ints := without("model.norm.weight")
	ints = append(ints, safetensors.FromInt64("model.norm.weight", []int{128}, make([]int64, 128)))
	cases := []struct {
		name    string
		config  []byte
		tensors []*safetensors.Tensor
		want    string
	}{
		{"missing", cfg, without("model.layers.3.self_attn.k_proj.weight"), `missing tensor "model.layers.3.self_attn.k_proj.weight"`},
		{"transposed", cfg, reshaped, `"model.layers.2.mlp.up_proj.weight" has shape [128 384], want [384 128]`},
		{"int norm", cfg, ints, "dtype I64"},
		{"untied without head", []byte(strings.Replace(string(cfg), `"tie_word_embeddings": true`, `"tie_word_embeddings": false`, 1)), list, `missing tensor "lm_head.weight"`},
		{"arch", []byte(strings.Replace(string(cfg), "LlamaForCausalLM", "PhiForCausalLM", 1)), list, "unsupported architecture"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyModel(t, c.config, c.tensors, 1)
			_, err := Open(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("err = %v, want one naming %s and %q", err, dir, c.want)
			}
		})
	}
	if _, err := Open(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent path: %v", err)
	}
}

func findTensor(list []*safetensors.Tensor, name string) *safetensors.Tensor {
	for _, x := range list {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// TestOpenRepoID resolves "org/name" in a hub cache laid out with
// symlinks to the shared files.
func TestOpenRepoID(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", home)
	snap := filepath.Join(home, "hub", "models--npti--persona-tiny", "snapshots", "abc123")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.safetensors"} {
		target, _ := filepath.Abs(filepath.Join(modelDir(t, "persona-tiny"), f))
		if err := os.Symlink(target, filepath.Join(snap, f)); err != nil {
			t.Fatal(err)
		}
	}
	ck, err := Open("npti/persona-tiny")
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if ck.Path != snap || ck.Config.NumLayers != 4 {
		t.Errorf("opened %s with %d layers", ck.Path, ck.Config.NumLayers)
	}
	if _, err := Open("npti/absent"); err == nil || !strings.Contains(err.Error(), "npti/absent") {
		t.Errorf("absent repo: %v", err)
	}
}

func TestHash(t *testing.T) {
	cfg, list, ref := personaTensors(t)
	h, err := ref.Hash()
	if err != nil || len(h) != 64 {
		t.Fatalf("Hash = %q, %v", h, err)
	}
	q1, err := ref.QuickHash()
	if err != nil {
		t.Fatal(err)
	}
	// Flip one weight: both hashes change (the file is < 2 MiB, so the
	// quick hash covers all of it).
	x := findTensor(list, "model.layers.1.mlp.gate_proj.weight")
	changed := *x
	changed.Data = append([]byte(nil), x.Data...)
	changed.Data[100] ^= 1
	var list2 []*safetensors.Tensor
	for _, y := range list {
		if y.Name == x.Name {
			y = &changed
		}
		list2 = append(list2, y)
	}
	ck, err := Open(copyModel(t, cfg, list2, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	h2, _ := ck.Hash()
	q2, _ := ck.QuickHash()
	if h2 == h || q2 == q1 {
		t.Errorf("hashes unchanged by a flipped bit: %s %s", h2, q2)
	}
	again, _ := Open(modelDir(t, "persona-tiny"))
	defer again.Close()
	if h3, _ := again.Hash(); h3 != h {
		t.Errorf("Hash not stable: %s then %s", h, h3)
	}
}

func BenchmarkOpenPersonaTiny(b *testing.B) {
	dir := modelDir(b, "persona-tiny")
	for b.Loop() {
		ck, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		ck.Close()
	}
}

func BenchmarkHashPersonaTiny(b *testing.B) {
	ck, err := Open(modelDir(b, "persona-tiny"))
	if err != nil {
		b.Fatal(err)
	}
	defer ck.Close()
	b.SetBytes(3678656)
	for b.Loop() {
		if _, err := ck.Hash(); err != nil {
			b.Fatal(err)
		}
	}
}
