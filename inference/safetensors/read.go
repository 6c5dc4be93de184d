package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"unsafe"
)

// MaxHeaderSize bounds the JSON header, as the reference implementation
// does (100 MB).
const MaxHeaderSize = 100_000_000

// ErrInvalid is wrapped by every error about a malformed file.
var ErrInvalid = errors.New("invalid safetensors file")

// Tensor is one named tensor. Data holds the little-endian raw bytes; for
// a tensor read with Open it is a slice of the memory-mapped file, valid
// until the File is closed.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte

	mapping *mapping // the file mapping Data was sliced from (nil: read into memory)
}

// mapping is a File's read-only memory map, for Tensor.Release.
type mapping struct {
	data   []byte
	closed atomic.Bool
}

// holds reports whether the mapping is open and b lies inside it.
func (m *mapping) holds(b []byte) bool {
	if m == nil || m.closed.Load() || len(b) == 0 || len(m.data) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(m.data))
}

// NumElements returns the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is an opened safetensors file.
type File struct {
	path     string
	data     []byte // whole file
	unmap    func() error
	tensors  map[string]*Tensor
	metadata map[string]string
	mapping  *mapping // nil when the file was read, not mapped
}

// Open maps the file at path read-only (reading it into memory when mmap
// is unavailable) and parses and validates its header.
func Open(path string) (*File, error) {
	name := path // errors name the whole path: which folder, which snapshot
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("safetensors: %s: not a regular file: %w", name, ErrInvalid)
	}
	size := st.Size()
	if size < 8 {
		return nil, fmt.Errorf("safetensors: %s: file is %d bytes, too short for a header: %w", name, size, ErrInvalid)
	}
	data, unmap, err := mapFile(f, size)
	var mp *mapping
	if err == nil {
		mp = &mapping{data: data}
	} else {
		data = make([]byte, size)
		if _, err := io.ReadFull(f, data); err != nil {
			return nil, fmt.Errorf("safetensors: %s: %w", name, err)
		}
		unmap = func() error { return nil }
	}
	tensors, meta, err := parse(name, data)
	if err != nil {
		unmap()
		return nil, err
	}
	for _, t := range tensors {
		t.mapping = mp
	}
	return &File{path: path, data: data, unmap: unmap, tensors: tensors, metadata: meta, mapping: mp}, nil
}

// Path returns the path the file was opened from.
func (f *File) Path() string { return f.path }

// Tensors returns the tensors by name. The map and its tensors belong to
// the File; their Data is invalid after Close.
func (f *File) Tensors() map[string]*Tensor { return f.tensors }

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.tensors))
	for n := range f.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Metadata returns the __metadata__ strings of the header (may be empty).
func (f *File) Metadata() map[string]string { return f.metadata }

// Close unmaps the file. Tensor data obtained from the File must not be
// used afterwards.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	if f.mapping != nil {
		f.mapping.closed.Store(true)
	}
	err := f.unmap()
	f.unmap, f.data = nil, nil
	if err != nil {
		return fmt.Errorf("safetensors: %s: unmap: %w", filepath.Base(f.path), err)
	}
	return nil
}

type headerEntry struct {
	DType       DType   `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// parse validates the header of a whole file's bytes and returns the
// tensors (slicing data) and metadata. name is used in error messages.
func parse(name string, data []byte) (map[string]*Tensor, map[string]string, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("safetensors: %s: %s: %w", name, fmt.Sprintf(format, args...), ErrInvalid)
	}
	if len(data) < 8 {
		return nil, nil, bad("file is %d bytes, too short for a header", len(data))
	}
	hlen := binary.LittleEndian.Uint64(data[:8])
	if hlen > MaxHeaderSize {
		return nil, nil, bad("header length %d exceeds limit %d", hlen, MaxHeaderSize)
	}
	if hlen > uint64(len(data)-8) {
		return nil, nil, bad("header length %d exceeds file size %d (truncated file?)", hlen, len(data))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+hlen], &raw); err != nil {
		return nil, nil, bad("header JSON: %v", err)
	}
	body := data[8+hlen:]
	meta := map[string]string{}
	tensors := make(map[string]*Tensor, len(raw))
	spans := make([][2]int64, 0, len(raw))
	names := make([]string, 0, len(raw))
	for key, msg := range raw {
		if key == "__metadata__" {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, bad("__metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		t, span, err := entry(key, msg, body)
		if err != nil {
			return nil, nil, bad("%v", err)
		}
		tensors[key] = t
		spans = append(spans, span)
		names = append(names, key)
	}
	if err := checkOverlap(names, spans); err != nil {
		return nil, nil, bad("%v", err)
	}
	return tensors, meta, nil
}

// entry validates one header entry against the data area.
func entry(key string, msg json.RawMessage, body []byte) (*Tensor, [2]int64, error) {
	var e headerEntry
	var span [2]int64
	if err := json.Unmarshal(msg, &e); err != nil {
		return nil, span, fmt.Errorf("tensor %q: %v", key, err)
	}
	size := e.DType.ItemSize()
	if size == 0 {
		return nil, span, fmt.Errorf("tensor %q: unknown dtype %q", key, e.DType)
	}
	if len(e.DataOffsets) != 2 {
		return nil, span, fmt.Errorf("tensor %q: data_offsets has %d values, want 2", key, len(e.DataOffsets))
	}
	begin, end := e.DataOffsets[0], e.DataOffsets[1]
	if begin < 0 || end < begin || end > int64(len(body)) {
		return nil, span, fmt.Errorf("tensor %q offsets [%d,%d) outside data (%d bytes)", key, begin, end, len(body))
	}
	nbytes := int64(size)
	shape := make([]int, len(e.Shape))
	for i, d := range e.Shape {
		if d < 0 {
			return nil, span, fmt.Errorf("tensor %q: negative dimension %d in shape %v", key, d, e.Shape)
		}
		if d > 0 && nbytes > math.MaxInt64/d {
			return nil, span, fmt.Errorf("tensor %q: shape %v overflows", key, e.Shape)
		}
		nbytes *= d
		shape[i] = int(d)
	}
	if nbytes != end-begin {
		return nil, span, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, offsets [%d,%d) span %d",
			key, e.Shape, e.DType, nbytes, begin, end, end-begin)
	}
	span = [2]int64{begin, end}
	t := &Tensor{Name: key, DType: e.DType, Shape: shape, Data: body[begin:end:end]}
	return t, span, nil
}

// checkOverlap reports the first pair of tensors whose byte ranges overlap.
func checkOverlap(names []string, spans [][2]int64) error {
	idx := make([]int, len(spans))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		sa, sb := spans[idx[a]], spans[idx[b]]
		if sa[0] != sb[0] {
			return sa[0] < sb[0]
		}
		return sa[1] < sb[1]
	})
	for k := 1; k < len(idx); k++ {
		prev, cur := spans[idx[k-1]], spans[idx[k]]
		if cur[0] < prev[1] {
			return fmt.Errorf("tensors %q [%d,%d) and %q [%d,%d) overlap",
				names[idx[k-1]], prev[0], prev[1], names[idx[k]], cur[0], cur[1])
		}
	}
	return nil
}
