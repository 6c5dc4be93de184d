// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0
//
// NPTI Studio patch: see buffers_offheap_linux.go.

//go:build !linux

package gobackend

import "github.com/gomlx/compute/shapes"

func (b *Backend) newOffHeapBuffer(shapes.Shape) *Buffer { return nil }
