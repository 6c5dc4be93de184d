package checkpoint

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLlama2cGolden converts stories260K.bin and compares every tensor
// with the independently converted stories260K-hf: this checks the q/k
// RoPE permutation bit for bit.
func TestLlama2cGolden(t *testing.T) {
	bin, err := Open(filepath.Join(modelDir(t, "stories260K"), "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	hf, err := Open(modelDir(t, "stories260K-hf"))
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	if bin.Format != FormatLlama2c || hf.Format != FormatHF {
		t.Errorf("formats %q, %q", bin.Format, hf.Format)
	}
	if !reflect.DeepEqual(bin.Config, hf.Config) {
		t.Errorf("configs differ:\nllama2c %+v\n     hf %+v", bin.Config, hf.Config)
	}
	if len(bin.Tensors) != len(hf.Tensors) {
		t.Errorf("%d tensors from llama2.c, %d from HF", len(bin.Tensors), len(hf.Tensors))
	}
	for name, want := range hf.Tensors {
		got := bin.Tensors[name]
		if got == nil {
			t.Errorf("llama2.c conversion lacks %s", name)
			continue
		}
		if got.DType != want.DType || !reflect.DeepEqual(got.Shape, want.Shape) || string(got.Data) != string(want.Data) {
			t.Errorf("tensor %s differs from the HF conversion", name)
		}
	}
	// The permutation is not the identity: the raw wq of layer 0 (right
	// after the embedding and the attention norms) differs from q_proj.
	raw, err := os.ReadFile(filepath.Join(modelDir(t, "stories260K"), "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	off := 28 + 4*(512*64+5*64)
	if string(raw[off:off+4*64*64]) == string(hf.Tensors["model.layers.0.self_attn.q_proj.weight"].Data) {
		t.Error("stories260K wq equals q_proj unpermuted; the golden check would not test the permutation")
	}
}

// writeLlama2c writes a synthetic llama2.c file whose floats count up
// from 0, and returns its path and the floats.
func writeLlama2c(t *testing.T, h llama2cHeader) (string, []float32) {
	t.Helper()
	n, err := h.floats()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 28, 28+4*n)
	for i, v := range []int32{h.Dim, h.HiddenDim, h.NumLayers, h.NumHeads, h.NumKVHeads, h.VocabSize, h.SeqLen} {
		binary.LittleEndian.PutUint32(buf[4*i:], uint32(v))
	}
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32(i)
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(vals[i]))
	}
	p := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, vals
}

// TestLlama2cUntied checks the layout of a file with a separate
// classifier, and the row permutation on a small head.
func TestLlama2cUntied(t *testing.T) {
	h := llama2cHeader{Dim: 8, HiddenDim: 12, NumLayers: 2, NumHeads: 2, NumKVHeads: 1, VocabSize: -16, SeqLen: 4}
	p, vals := writeLlama2c(t, h)
	ck, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Config.TieWordEmbeddings || ck.Config.VocabSize != 16 || ck.Config.HeadDim != 4 {
		t.Fatalf("config %+v", ck.Config)
	}
	head, err := ck.Float32("lm_head.weight")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(head, vals[len(vals)-16*8:]) {
		t.Errorf("lm_head is not the trailing classifier")
	}
	// wq of layer 0 starts after embeddings (16*8) and 2 norms of 8.
	wq := vals[16*8+2*8:]
	q, _ := ck.Float32("model.layers.0.self_attn.q_proj.weight")
	// Head size 4: new rows (0,1,2,3) of each head come from old (0,2,1,3).
	for newRow, oldRow := range []int{0, 2, 1, 3, 4, 6, 5, 7} {
		if !reflect.DeepEqual(q[8*newRow:8*newRow+8], wq[8*oldRow:8*oldRow+8]) {
			t.Errorf("q_proj row %d is not wq row %d", newRow, oldRow)
		}
	}
	// wk of layer 0 follows both layers' wq.
	wk := vals[16*8+2*8+2*8*8:]
	k, _ := ck.Float32("model.layers.0.self_attn.k_proj.weight")
	for newRow, oldRow := range []int{0, 2, 1, 3} {
		if !reflect.DeepEqual(k[8*newRow:8*newRow+8], wk[8*oldRow:8*oldRow+8]) {
			t.Errorf("k_proj row %d is not wk row %d", newRow, oldRow)
		}
	}
}

func TestLlama2cErrors(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(modelDir(t, "stories260K"), "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	bad := func(mutate func([]byte) []byte) []byte { return mutate(append([]byte(nil), src...)) }
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", src[:len(src)-4], "truncated"},
		{"trailing", append(append([]byte(nil), src...), 0, 0, 0, 0), "trailing data"},
		{"short header", src[:20], "llama2.c header"},
		{"zero heads", bad(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 0); return b }), "sizes must be"},
		{"gqa", bad(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[16:], 3); return b }), "heads into kv groups"},
		{"huge", bad(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[0:], 1<<24); return b }), "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "stories.bin")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(p)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "stories.bin") {
				t.Errorf("err = %v, want one naming stories.bin and %q", err, c.want)
			}
		})
	}
}

// FuzzLlama2cHeader opens files with arbitrary headers and a small body.
func FuzzLlama2cHeader(f *testing.F) {
	seed := make([]byte, 28)
	for i, v := range []uint32{8, 12, 1, 2, 1, 16, 4} {
		binary.LittleEndian.PutUint32(seed[4*i:], v)
	}
	f.Add(seed, uint16(0))
	f.Add(seed, uint16(4*(16*8+8+64+32+32+64+8+3*96+8+16)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, header []byte, body uint16) {
		p := filepath.Join(dir, "fuzz.bin")
		if err := os.WriteFile(p, append(header, make([]byte, body)...), 0o644); err != nil {
			t.Fatal(err)
		}
		ck, err := Open(p)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.bin") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		ck.Close()
	})
}
