package safetensors

import (
	"path/filepath"
	"testing"
)

// TestRelease: releasing a mapped tensor's pages keeps its data readable
// (reloaded from the file); a copy with its own bytes and the tensors of a
// closed file are left alone.
func TestRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.safetensors")
	v := make([]float32, 5000) // several pages
	for i := range v {
		v[i] = float32(i) * 0.5
	}
	if err := Write(path, []*Tensor{FromFloat32("w", []int{50, 100}, v)}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w := f.Tensors()["w"]
	if w.mapping == nil {
		t.Skip("this platform reads files instead of mapping them")
	}
	cp := *w
	cp.Data = append([]byte(nil), w.Data...)
	if cp.mapping.holds(cp.Data) || !w.mapping.holds(w.Data) {
		t.Fatal("holds: a copy's bytes counted as mapped, or the mapping's own not")
	}
	w.Release()
	cp.Release()
	for _, tt := range []*Tensor{w, &cp} {
		got, err := tt.Float32()
		if err != nil {
			t.Fatal(err)
		}
		for i := range v {
			if got[i] != v[i] {
				t.Fatalf("element %d = %v after Release, want %v", i, got[i], v[i])
			}
		}
	}
	f.Close()
	if w.mapping.holds(w.Data) {
		t.Fatal("a closed file's mapping still counts as open")
	}
	w.Release() // must not touch the unmapped range
}
