package safetensors

import (
	"os"
	"syscall"
	"unsafe"
)

// releasePages drops the whole pages inside b, a slice of a read-only
// file mapping, from the process's resident memory (MADV_DONTNEED: read
// again, they are reloaded from the file).
func releasePages(b []byte) {
	if len(b) == 0 {
		return
	}
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (start + page - 1) &^ (page - 1)
	hi := (start + uintptr(len(b))) &^ (page - 1)
	if hi <= lo {
		return
	}
	_ = syscall.Madvise(b[lo-start:hi-start], syscall.MADV_DONTNEED)
}
