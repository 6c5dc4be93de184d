//go:build !unix

package safetensors

import (
	"errors"
	"os"
)

// mapFile is unavailable on this platform; Open reads the file instead.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("mmap not supported")
}
