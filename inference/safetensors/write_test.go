package safetensors

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWriteRoundTrip(t *testing.T) {
	bf := &Tensor{Name: "b.bf16", DType: BF16, Shape: []int{3}, Data: []byte{0x80, 0x3f, 0x00, 0xc0, 0x80, 0x7f}}
	in := []*Tensor{
		FromFloat32("z.weight", []int{2, 3}, []float32{1, -2, 3.5, 0, float32(math.Inf(1)), 1e-30}),
		FromInt64("a.ids", []int{4}, []int64{-1, 0, 1 << 40, 7}),
		FromFloat32("scalar", nil, []float32{42}),
		FromFloat32("empty", []int{0, 5}, nil),
		bf,
	}
	meta := map[string]string{"format": "pt", "note": "ünïcode \"quoted\""}
	p := filepath.Join(t.TempDir(), "out.safetensors")
	if err := Write(p, in, meta); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	hlen := binary.LittleEndian.Uint64(raw)
	if hlen%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", hlen)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !reflect.DeepEqual(f.Metadata(), meta) {
		t.Errorf("metadata = %v, want %v", f.Metadata(), meta)
	}
	got := f.Tensors()
	if len(got) != len(in) {
		t.Fatalf("read %d tensors, wrote %d", len(got), len(in))
	}
	for _, w := range in {
		g := got[w.Name]
		if g == nil || g.DType != w.DType || !reflect.DeepEqual(append([]int{}, g.Shape...), append([]int{}, w.Shape...)) || string(g.Data) != string(w.Data) {
			t.Errorf("tensor %q: got %+v, want %+v", w.Name, g, w)
		}
	}
	// Data is laid out in name order.
	names := f.Names()
	for i := 1; i < len(names); i++ {
		a, b := got[names[i-1]], got[names[i]]
		if len(a.Data) > 0 && len(b.Data) > 0 && &a.Data[0] == &b.Data[0] {
			t.Errorf("%s and %s share data", a.Name, b.Name)
		}
	}
	ids, err := got["a.ids"].Int64()
	if err != nil || !reflect.DeepEqual(ids, []int64{-1, 0, 1 << 40, 7}) {
		t.Errorf("Int64 = %v, %v", ids, err)
	}
	v, err := got["b.bf16"].Float32()
	if err != nil || !reflect.DeepEqual(v, []float32{1, -2, float32(math.Inf(1))}) {
		t.Errorf("bf16 Float32 = %v, %v", v, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestWriteReference rewrites a shared checkpoint and checks every tensor
// survives byte for byte.
func TestWriteReference(t *testing.T) {
	src, err := Open(filepath.Join(sharedDir(t), "models", "tiny-random-qwen2", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var list []*Tensor
	for _, x := range src.Tensors() {
		list = append(list, x)
	}
	p := filepath.Join(t.TempDir(), "copy.safetensors")
	if err := Write(p, list, src.Metadata()); err != nil {
		t.Fatal(err)
	}
	dst, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for name, x := range src.Tensors() {
		y := dst.Tensors()[name]
		if y == nil || y.DType != x.DType || !reflect.DeepEqual(y.Shape, x.Shape) || string(y.Data) != string(x.Data) {
			t.Errorf("tensor %q changed", name)
		}
	}
}

func TestWriteInvalid(t *testing.T) {
	cases := []struct {
		name string
		in   []*Tensor
		want string
	}{
		{"size", []*Tensor{{Name: "a", DType: F32, Shape: []int{3}, Data: make([]byte, 8)}}, "needs 12 bytes"},
		{"dtype", []*Tensor{{Name: "a", DType: "Q4", Shape: []int{1}, Data: make([]byte, 1)}}, "unknown dtype"},
		{"dup", []*Tensor{FromFloat32("a", []int{1}, []float32{1}), FromFloat32("a", []int{1}, []float32{2})}, "duplicate"},
		{"name", []*Tensor{FromFloat32("__metadata__", []int{1}, []float32{1})}, "invalid tensor name"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		err := Write(filepath.Join(dir, "x.safetensors"), c.in, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "x.safetensors") {
			t.Errorf("%s: err = %v, want one naming x.safetensors and %q", c.name, err, c.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: files left behind: %v", c.name, entries)
		}
	}
}
