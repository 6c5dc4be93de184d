package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// checkLen verifies that Data holds exactly the elements of Shape.
func (t *Tensor) checkLen() (int, error) {
	size := t.DType.ItemSize()
	if size == 0 {
		return 0, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	n := t.NumElements()
	if n*size != len(t.Data) {
		return 0, fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, has %d",
			t.Name, t.Shape, t.DType, n*size, len(t.Data))
	}
	return n, nil
}

// checkDst is checkLen for a destination of dstLen elements.
func (t *Tensor) checkDst(dstLen int) (int, error) {
	n, err := t.checkLen()
	if err == nil && dstLen != n {
		err = fmt.Errorf("safetensors: tensor %q has %d elements, destination %d", t.Name, n, dstLen)
	}
	return n, err
}

// Float32 converts an F32, F16, BF16 or F64 tensor to a new float32
// slice. F16 and BF16 convert exactly; F64 rounds to nearest.
func (t *Tensor) Float32() ([]float32, error) {
	n, err := t.checkLen()
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	return out, t.ReadFloat32(out)
}

// ReadFloat32 converts the tensor as Float32 does into dst, which must
// hold exactly its elements.
func (t *Tensor) ReadFloat32(dst []float32) error {
	if _, err := t.checkDst(len(dst)); err != nil {
		return err
	}
	return t.decodeFloat32(t.Data, dst)
}

// decodeFloat32 converts len(dst) elements of the tensor's dtype from d
// (already checked to hold them) into dst.
func (t *Tensor) decodeFloat32(d []byte, dst []float32) error {
	switch t.DType {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = F16ToFloat32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = BF16ToFloat32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	default:
		return fmt.Errorf("safetensors: tensor %q: cannot convert %s to float32", t.Name, t.DType)
	}
	return nil
}

// ReadBF16 writes the tensor into dst as bfloat16 bit patterns: BF16
// exactly, other float dtypes converted to float32 (as Float32) and
// rounded to nearest even. dst must hold exactly its elements.
func (t *Tensor) ReadBF16(dst []uint16) error {
	n, err := t.checkDst(len(dst))
	if err != nil {
		return err
	}
	if t.DType == BF16 {
		for i := range dst {
			dst[i] = binary.LittleEndian.Uint16(t.Data[2*i:])
		}
		return nil
	}
	const chunk = 4096 // converted through a small float32 buffer
	var buf [chunk]float32
	for i0 := 0; i0 < n; i0 += chunk {
		i1 := min(i0+chunk, n)
		if err := t.decodeFloat32(t.Data[i0*t.DType.ItemSize():i1*t.DType.ItemSize()], buf[:i1-i0]); err != nil {
			return err
		}
		for i, f := range buf[:i1-i0] {
			dst[i0+i] = Float32ToBF16(f)
		}
	}
	return nil
}

// Release tells the system that the tensor's data will not be read again
// soon: for a memory-mapped file, its pages leave the process's resident
// memory (they stay in the page cache, and reading Data again reloads
// them). Loading a model releases each tensor once it is copied, so the
// file and the loaded weights are not resident together. Like reading
// Data, it must not run concurrently with the file's Close: after Close it
// does nothing, but the check and the release are not one step.
func (t *Tensor) Release() {
	if t.mapping.holds(t.Data) { // not a copy's own bytes, nor a closed file's
		releasePages(t.Data)
	}
}

// Int64 converts an integer tensor (I64, I32, I16, I8, U8, U16, U32) to a
// new int64 slice.
func (t *Tensor) Int64() ([]int64, error) {
	n, err := t.checkLen()
	if err != nil {
		return nil, err
	}
	out := make([]int64, n)
	d := t.Data
	le := binary.LittleEndian
	for i := range out {
		switch t.DType {
		case I64:
			out[i] = int64(le.Uint64(d[8*i:]))
		case I32:
			out[i] = int64(int32(le.Uint32(d[4*i:])))
		case U32:
			out[i] = int64(le.Uint32(d[4*i:]))
		case I16:
			out[i] = int64(int16(le.Uint16(d[2*i:])))
		case U16:
			out[i] = int64(le.Uint16(d[2*i:]))
		case I8:
			out[i] = int64(int8(d[i]))
		case U8:
			out[i] = int64(d[i])
		default:
			return nil, fmt.Errorf("safetensors: tensor %q: cannot convert %s to int64", t.Name, t.DType)
		}
	}
	return out, nil
}

// FromFloat32 returns an F32 tensor holding a copy of v. The caller must
// pass len(v) equal to the product of shape.
func FromFloat32(name string, shape []int, v []float32) *Tensor {
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return &Tensor{Name: name, DType: F32, Shape: append([]int(nil), shape...), Data: data}
}

// FromInt64 returns an I64 tensor holding the values of v (int64, or
// uint32 counts written in the wider on-disk type). The caller must pass
// len(v) equal to the product of shape.
func FromInt64[T int64 | uint32](name string, shape []int, v []T) *Tensor {
	data := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(x))
	}
	return &Tensor{Name: name, DType: I64, Shape: append([]int(nil), shape...), Data: data}
}
