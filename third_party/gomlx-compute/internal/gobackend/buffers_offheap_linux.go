// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: large user-fed buffers (model weights) live outside
// the Go heap.

//go:build linux

package gobackend

import (
	"runtime"
	"syscall"
	"unsafe"

	"github.com/gomlx/compute/shapes"
)

// madvHugePage is MADV_HUGEPAGE (Linux); elsewhere madvise ignores it or
// fails harmlessly.
const madvHugePage = 14

// offHeapMinBytes is the smallest shared buffer allocated off the Go heap.
const offHeapMinBytes = 256 << 10

// newOffHeapBuffer allocates a user-fed buffer of exactly the shape's size
// in anonymous memory mapped for it, unmapped once neither the Buffer nor
// any shallow clone of it is reachable (Buffer.offHeap). Model weights
// held this way neither count toward the garbage collector's heap goal
// (with them on the heap, the collector lets transient garbage grow in
// proportion to the model) nor carry the size buckets' padding. It returns nil when the shape is small or the mapping
// fails; the caller then uses the pool.
func (b *Backend) newOffHeapBuffer(shape shapes.Shape) *Buffer {
	size := shape.DType.SizeForDimensions(shape.Size())
	if size < offHeapMinBytes {
		return nil
	}
	// Map 2 MiB more and start at a 2 MiB boundary, so the kernel can back
	// the buffer with huge pages (madvise below): streaming weights through
	// 4 KiB pages costs TLB misses enough to halve decode speed.
	const huge = 2 << 20
	mem, err := syscall.Mmap(-1, 0, size+huge, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	off := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(mem))) % huge; r != 0 {
		off = int(huge - r)
	}
	data := mem[off : off+size : off+size]
	_ = syscall.Madvise(data, madvHugePage)
	buf := &Buffer{RawBytes: data, RawBackend: b, InUse: true, isUserFed: true, RawShape: shape.Clone()}
	buf.recast(shape.DType, shape.Size())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	registerOffHeap(start, size)
	buf.offHeap = &offHeapMapping{mem: mem}
	runtime.AddCleanup(buf.offHeap, func(m []byte) {
		unregisterOffHeap(start) // no new read-ahead hint for it
		if BeforeUnmap != nil {
			BeforeUnmap() // nor any left, nor a read-ahead running
		}
		_ = syscall.Munmap(m)
	}, mem)
	return buf
}
