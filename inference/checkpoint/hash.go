package checkpoint

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
)

// hashChunk is how much tensor data Hash feeds at a time between
// cancellation checks.
const hashChunk = 16 << 20

// Hash returns a hex sha256 over the config bytes and every tensor (name,
// dtype, shape and data, in name order). It reads all the weights; see
// HashContext to cancel it and QuickHash for a cheap fingerprint.
func (c *Checkpoint) Hash() (string, error) {
	return c.HashContext(context.Background())
}

// HashContext is Hash, stopping with ctx's error when ctx is done.
func (c *Checkpoint) HashContext(ctx context.Context) (string, error) {
	h := sha256.New()
	writeBlock(h, c.configBytes)
	names := make([]string, 0, len(c.Tensors))
	for n := range c.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := c.Tensors[n]
		writeBlock(h, []byte(n))
		writeBlock(h, []byte(t.DType))
		writeInt(h, int64(len(t.Shape)))
		for _, d := range t.Shape {
			writeInt(h, int64(d))
		}
		writeInt(h, int64(len(t.Data)))
		for off := 0; off < len(t.Data); off += hashChunk {
			if err := ctx.Err(); err != nil {
				return "", fmt.Errorf("checkpoint: %s: hash: %w", c.Path, err)
			}
			h.Write(t.Data[off:min(off+hashChunk, len(t.Data))])
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// QuickHash returns a hex sha256 over the config bytes and, for each
// weight file, its size and its first and last MiB: cheap, and enough to
// tell checkpoints apart in metadata.
func (c *Checkpoint) QuickHash() (string, error) {
	const mib = 1 << 20
	h := sha256.New()
	writeBlock(h, c.configBytes)
	for _, path := range c.files {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("checkpoint: quick hash: %w", err)
		}
		st, err := f.Stat()
		if err == nil {
			size := st.Size()
			writeInt(h, size)
			head := min(size, mib)
			err = copyAt(h, f, 0, head)
			if err == nil && size > head {
				start := max(head, size-mib)
				err = copyAt(h, f, start, size-start)
			}
		}
		f.Close()
		if err != nil {
			return "", fmt.Errorf("checkpoint: %s: quick hash: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyAt feeds n bytes of f from offset off into h.
func copyAt(h hash.Hash, f *os.File, off, n int64) error {
	_, err := io.Copy(h, io.NewSectionReader(f, off, n))
	return err
}

// writeBlock writes a length-prefixed block, so that concatenations
// cannot collide.
func writeBlock(h hash.Hash, b []byte) {
	writeInt(h, int64(len(b)))
	h.Write(b)
}

func writeInt(h hash.Hash, v int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	h.Write(b[:])
}
