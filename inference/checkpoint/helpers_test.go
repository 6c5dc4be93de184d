package checkpoint

import (
	"path/filepath"
	"testing"

	"github.com/npti-studio/npti/inference/refdata"
)

// sharedDir returns a path in the reference data (../shared).
func sharedDir(t testing.TB) string { return refdata.Path(t) }

// modelDir returns a shared model directory.
func modelDir(t testing.TB, name string) string {
	return filepath.Join(sharedDir(t), "models", name)
}
