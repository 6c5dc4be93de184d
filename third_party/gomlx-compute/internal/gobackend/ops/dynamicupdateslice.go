// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: DynamicUpdateSlice for the Go backend (a KV cache
// write in O(update) when the operand is donated).

package ops

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/pkg/errors"
)

func init() {
	gobackend.RegisterDynamicUpdateSlice.Register(DynamicUpdateSlice, gobackend.PriorityGeneric)
	gobackend.SetNodeExecutor(compute.OpTypeDynamicUpdateSlice, gobackend.PriorityGeneric, execDynamicUpdateSlice)
}

// DynamicUpdateSlice returns operand with update pasted at startIndices
// (one integer scalar per axis), each clamped to [0, dim - update dim], as
// XLA defines it.
func DynamicUpdateSlice(f *gobackend.Function, operandOp, updateOp compute.Value, startIndices []compute.Value) (compute.Value, error) {
	opType := compute.OpTypeDynamicUpdateSlice
	inputs, err := f.VerifyAndCastValues(opType.String(), append([]compute.Value{operandOp, updateOp}, startIndices...)...)
	if err != nil {
		return nil, err
	}
	operand, update := inputs[0], inputs[1]
	rank := operand.Shape.Rank()
	if update.Shape.Rank() != rank || len(startIndices) != rank {
		return nil, errors.Errorf("%s: operand %s, update %s and %d start indices must have the same rank",
			opType, operand.Shape, update.Shape, len(startIndices))
	}
	if update.Shape.DType != operand.Shape.DType {
		return nil, errors.Errorf("%s: update dtype %s differs from the operand's %s", opType, update.Shape.DType, operand.Shape.DType)
	}
	for axis := range rank {
		if update.Shape.Dimensions[axis] > operand.Shape.Dimensions[axis] {
			return nil, errors.Errorf("%s: update %s does not fit in operand %s", opType, update.Shape, operand.Shape)
		}
		idx := inputs[2+axis].Shape
		if idx.Rank() != 0 || !idx.DType.IsInt() {
			return nil, errors.Errorf("%s: start index %d must be an integer scalar, got %s", opType, axis, idx)
		}
	}
	node, _ := f.GetOrCreateNode(opType, operand.Shape.Clone(), inputs, nil)
	return node, nil
}

// execDynamicUpdateSlice writes in place when the operand is owned (donated
// or an intermediate), else into a copy.
func execDynamicUpdateSlice(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
	operand, update := inputs[0], inputs[1]
	var output *gobackend.Buffer
	if inputsOwned[0] {
		output = operand
		inputs[0] = nil // reused
	} else {
		var err error
		if output, err = backend.GetBuffer(node.Shape); err != nil {
			return nil, err
		}
		copy(output.RawBytes[:len(operand.RawBytes)], operand.RawBytes)
	}
	dims, udims := operand.RawShape.Dimensions, update.RawShape.Dimensions
	rank := len(dims)
	elem := operand.RawShape.DType.Size()
	starts := make([]int, rank)
	for axis := range rank {
		v, err := scalarInt(inputs[2+axis])
		if err != nil {
			return nil, err
		}
		starts[axis] = min(max(v, 0), dims[axis]-udims[axis])
	}
	if update.RawShape.Size() == 0 {
		return output, nil
	}
	strides := operand.RawShape.Strides()
	// Copy runs along the last axis, odometer over the others.
	run := 1
	if rank > 0 {
		run = udims[rank-1]
	}
	idx := make([]int, rank)
	src := update.RawBytes
	for off := 0; off < update.RawShape.Size(); off += run {
		dst := 0
		for axis := range rank {
			dst += (starts[axis] + idx[axis]) * strides[axis]
		}
		copy(output.RawBytes[dst*elem:(dst+run)*elem], src[off*elem:(off+run)*elem])
		for axis := rank - 2; axis >= 0; axis-- {
			if idx[axis]++; idx[axis] < udims[axis] {
				break
			}
			idx[axis] = 0
		}
	}
	return output, nil
}

// scalarInt reads an integer scalar buffer.
func scalarInt(b *gobackend.Buffer) (int, error) {
	switch flat := b.Flat.(type) {
	case []int32:
		return int(flat[0]), nil
	case []int64:
		return int(flat[0]), nil
	case []int16:
		return int(flat[0]), nil
	case []int8:
		return int(flat[0]), nil
	case []uint32:
		return int(flat[0]), nil
	case []uint64:
		return int(flat[0]), nil
	case []uint16:
		return int(flat[0]), nil
	case []uint8:
		return int(flat[0]), nil
	}
	return 0, errors.Errorf("DynamicUpdateSlice: start index of dtype %s", b.RawShape.DType)
}
