// Package refdata locates the project's reference data for tests: the
// read-only folder ../shared beside the repository root (golden outputs,
// tokenizer vectors, tiny checkpoints, PersonalityBench). A missing folder
// fails the test: reference checks are never skipped.
package refdata

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the repository root: the nearest folder above the working
// directory that holds go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("refdata: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path returns ../shared/<parts...> beside the repository root, failing the
// test when it does not exist.
func Path(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Root(t), "..", "shared"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("refdata: reference data missing (../shared must sit beside the checkout): %v", err)
	}
	return p
}
