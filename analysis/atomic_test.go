package analysis

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteAtomic: the file replaces the old one whole and is readable by
// all, like the os.WriteFile(…, 0o644) it replaces; a failed fill leaves
// the old file and no temporary file.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	if err := WriteFileAtomic(path, []byte("old\n")); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if data, _ := os.ReadFile(path); err != nil || string(data) != "new\n" || st.Mode().Perm() != 0o644 {
		t.Errorf("file %q, mode %v, err %v; want \"new\\n\" with mode 0644", data, st.Mode().Perm(), err)
	}
	boom := errors.New("boom")
	if err := WriteAtomic(path, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Errorf("failed fill: error %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if data, _ := os.ReadFile(path); string(data) != "new\n" || len(entries) != 1 {
		t.Errorf("after a failed write: file %q, %d entries in the folder", data, len(entries))
	}
	// A file the user made private stays private when replaced.
	os.Chmod(path, 0o600)
	if err := WriteFileAtomic(path, []byte("again\n")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("replaced private file: mode %v, err %v; want 0600", st.Mode().Perm(), err)
	}
}
