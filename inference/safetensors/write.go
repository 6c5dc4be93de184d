package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Write stores tensors and metadata at path in the safetensors format,
// atomically: it writes a temporary file in the same directory, syncs it
// and renames it over path. Tensors are laid out sorted by name and the
// header is padded with spaces to a multiple of 8 bytes, as the reference
// implementation does.
func Write(path string, tensors []*Tensor, metadata map[string]string) error {
	name := filepath.Base(path)
	sorted, err := checkTensors(name, tensors)
	if err != nil {
		return err
	}
	header, err := encodeHeader(sorted, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", name, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(header)))
	if _, err := tmp.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors: %s: %w", name, err)
	}
	if _, err := tmp.Write(header); err != nil {
		return fmt.Errorf("safetensors: %s: %w", name, err)
	}
	for _, t := range sorted {
		if _, err := tmp.Write(t.Data); err != nil {
			return fmt.Errorf("safetensors: %s: %w", name, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors: %s: sync: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: %s: %w", name, err)
	}
	ok = true
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename durable; failures are ignored (not all platforms
// can sync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// checkTensors validates the tensors to write and returns them sorted by
// name.
func checkTensors(file string, tensors []*Tensor) ([]*Tensor, error) {
	sorted := make([]*Tensor, 0, len(tensors))
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		if t == nil {
			return nil, fmt.Errorf("safetensors: %s: nil tensor", file)
		}
		if t.Name == "" || t.Name == "__metadata__" {
			return nil, fmt.Errorf("safetensors: %s: invalid tensor name %q", file, t.Name)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("safetensors: %s: duplicate tensor %q", file, t.Name)
		}
		seen[t.Name] = true
		size := t.DType.ItemSize()
		if size == 0 {
			return nil, fmt.Errorf("safetensors: %s: tensor %q: unknown dtype %q", file, t.Name, t.DType)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: %s: tensor %q: negative dimension in shape %v", file, t.Name, t.Shape)
			}
		}
		if want := t.NumElements() * size; want != len(t.Data) {
			return nil, fmt.Errorf("safetensors: %s: tensor %q: shape %v of %s needs %d bytes, has %d",
				file, t.Name, t.Shape, t.DType, want, len(t.Data))
		}
		sorted = append(sorted, t)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	return sorted, nil
}

// encodeHeader returns the JSON header (metadata first, then tensors in
// the given order), padded with spaces to a multiple of 8 bytes.
func encodeHeader(sorted []*Tensor, metadata map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata)
		if err != nil {
			return nil, err
		}
		buf.WriteString(`"__metadata__":`)
		buf.Write(m)
		first = false
	}
	var offset int64
	for _, t := range sorted {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		key, _ := json.Marshal(t.Name)
		e, err := json.Marshal(struct {
			DType       DType    `json:"dtype"`
			Shape       []int    `json:"shape"`
			DataOffsets [2]int64 `json:"data_offsets"`
		}{t.DType, shape, [2]int64{offset, offset + int64(len(t.Data))}})
		if err != nil {
			return nil, err
		}
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(e)
		offset += int64(len(t.Data))
	}
	buf.WriteByte('}')
	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	return buf.Bytes(), nil
}
