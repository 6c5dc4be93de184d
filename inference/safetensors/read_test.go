package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/refdata"
)

// sharedDir returns a path in the reference data (../shared).
func sharedDir(t testing.TB) string { return refdata.Path(t) }

// TestOpenReference reads the shared checkpoints, checks the tensors
// against config.json, and checks values decoded by Python's struct module.
func TestOpenReference(t *testing.T) {
	cases := []struct {
		model  string
		tensor string
		dtype  DType
		want   []float32
	}{
		{"stories260K-hf", "model.norm.weight", F32, []float32{2.4583089351654053, 1.3673226833343506, 1.7504382133483887}},
		{"tiny-random-qwen2", "model.layers.1.self_attn.q_proj.bias", BF16, []float32{-0.08349609375, 0.1728515625, 0.30078125}},
		{"persona-tiny", "model.layers.3.mlp.down_proj.weight", F32, []float32{-0.004005529917776585, 0.02024676464498043, -0.020703697577118874}},
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			dir := filepath.Join(sharedDir(t), "models", c.model)
			f, err := Open(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var cfg struct {
				Hidden int `json:"hidden_size"`
				Vocab  int `json:"vocab_size"`
			}
			raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			emb := f.Tensors()["model.embed_tokens.weight"]
			if emb == nil || len(emb.Shape) != 2 || emb.Shape[0] != cfg.Vocab || emb.Shape[1] != cfg.Hidden {
				t.Fatalf("embed_tokens = %+v, want shape [%d %d]", emb, cfg.Vocab, cfg.Hidden)
			}
			if f.Metadata()["format"] != "pt" {
				t.Errorf("metadata = %v, want format pt", f.Metadata())
			}
			// The tensors must cover the whole data area.
			st, _ := os.Stat(f.Path())
			var total int
			for _, t := range f.Tensors() {
				total += len(t.Data)
			}
			hlen := binary.LittleEndian.Uint64(f.data[:8])
			if int64(total) != st.Size()-8-int64(hlen) {
				t.Errorf("tensors hold %d bytes, data area is %d", total, st.Size()-8-int64(hlen))
			}
			x := f.Tensors()[c.tensor]
			if x == nil || x.DType != c.dtype {
				t.Fatalf("%s = %+v, want dtype %s", c.tensor, x, c.dtype)
			}
			v, err := x.Float32()
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range c.want {
				if v[i] != w {
					t.Errorf("%s[%d] = %v, want %v", c.tensor, i, v[i], w)
				}
			}
		})
	}
}

// writeRaw writes an 8-byte header length, the header and body to a file.
func writeRaw(t testing.TB, dir, header string, body []byte) string {
	t.Helper()
	buf := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	buf = append(append(buf, header...), body...)
	p := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenInvalid(t *testing.T) {
	body := make([]byte, 16)
	cases := []struct{ name, header, want string }{
		{"bad json", `{"a":`, "header JSON"},
		{"unknown dtype", `{"a":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}}`, `unknown dtype "F12"`},
		{"negative dim", `{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, "negative dimension"},
		{"shape mismatch", `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, "needs 12 bytes"},
		{"outside", `{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}`, `tensor "a" offsets [0,32) outside data (16 bytes)`},
		{"reversed", `{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}`, "outside data"},
		{"offsets count", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}`, "data_offsets has 1 values"},
		{"overlap", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, "overlap"},
		{"metadata", `{"__metadata__":{"x":1}}`, "__metadata__"},
		{"overflow", `{"a":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`, "overflows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeRaw(t, t.TempDir(), c.header, body)
			f, err := Open(p)
			if err == nil {
				f.Close()
				t.Fatalf("Open succeeded, want error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "model.safetensors") {
				t.Errorf("error %q, want it to name the file and contain %q", err, c.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
		})
	}
}

// TestOpenTruncated cuts a real checkpoint short.
func TestOpenTruncated(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(sharedDir(t), "models", "stories260K-hf", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 7, 100, len(src) - 1} {
		p := filepath.Join(t.TempDir(), "model.safetensors")
		if err := os.WriteFile(p, src[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(p)
		if err == nil {
			f.Close()
			t.Fatalf("Open of %d/%d bytes succeeded", n, len(src))
		}
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name the file with its folder", err)
		}
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope.safetensors"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

// FuzzOpen feeds arbitrary header bytes followed by a small data area.
func FuzzOpen(f *testing.F) {
	f.Add([]byte(`{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"k":"v"}}`))
	f.Add([]byte(`{"a":{"dtype":"BF16","shape":[],"data_offsets":[30,32]}}`))
	f.Add([]byte(`{"a":{"dtype":"I64","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}`))
	f.Add([]byte(`{}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, header []byte) {
		p := writeRaw(t, dir, string(header), make([]byte, 32))
		file, err := Open(p)
		if err != nil {
			if !strings.Contains(err.Error(), "model.safetensors") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		defer file.Close()
		for _, x := range file.Tensors() {
			if x.NumElements()*x.DType.ItemSize() != len(x.Data) {
				t.Errorf("tensor %q: shape %v does not match %d bytes", x.Name, x.Shape, len(x.Data))
			}
			if x.DType.IsFloat() {
				if _, err := x.Float32(); err != nil {
					t.Error(err)
				}
			}
		}
	})
}
