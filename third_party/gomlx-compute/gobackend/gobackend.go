// Package gobackend implements a native Go [compute.Backend]: very portable (including WASM) but not very fast.
//
// It only implements the most popular dtypes and operations.
// But generally, it's easy to add new ops: just open an issue in GoMLX.
//
// This package is simply a thin wrapper around internal/gobackend.
package gobackend

import (
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
	"github.com/gomlx/compute/internal/gobackend/fusedops"

	// Registers all the ops.
	_ "github.com/gomlx/compute/internal/gobackend/defaultpkgs"
)

// BackendName to be used in GOMLX_BACKEND to specify this backend.
const BackendName = "go"

// GetBackend returns a singleton Go backend, created with the default configuration.
// The backend is only created at the first call of the function.
//
// The singleton is never destroyed.
var GetBackend = sync.OnceValue(func() compute.Backend {
	backend, err := New("")
	if err != nil {
		panic(err)
	}
	return backend
})

// New constructs a new Go Backend.
// There are no configurations, the string is simply ignored.
func New(config string) (compute.Backend, error) {
	return gobackend.New(config)
}

// BF16WeightProducts counts the float32 products that read a bfloat16
// operand directly, instead of a float32 conversion of it: a model's
// weights kept as bfloat16 in memory (NPTI Studio patch; diagnostics).
func BF16WeightProducts() int64 { return dot.BF16Products.Load() }

// HasBF16Kernels reports whether this build and CPU have the kernels that
// read bfloat16 weights in float32 products directly (the AVX2 ones, NPTI
// Studio patch). Without them such products convert blocks of the weights
// first, which is slower than float32 weights.
func HasBF16Kernels() bool { return dot.ProductBF16 != nil }

// PrefetchHints is how many "this weight matrix comes next" hints the
// matrix-vector team holds for reading ahead between products (NPTI Studio
// patch; diagnostics). They are dropped whenever weights are unmapped.
func PrefetchHints() int {
	if gobackend.PrefetchHints == nil {
		return 0
	}
	return gobackend.PrefetchHints()
}

// OffHeapMappings is how many buffers the Go backend holds outside the Go
// heap (NPTI Studio patch; diagnostics): shared buffers of 256 KiB or more,
// such as model weights, each unmapped once no Buffer over it is reachable.
func OffHeapMappings() int { return gobackend.OffHeapMappings() }

// RMSNormsFused counts the RMS norms (x·rsqrt(mean(x²)+ε)·w, nine graph
// ops) that compilation fused into one op with the same results (NPTI
// Studio patch; diagnostics). GOMLX_GO_NO_FUSION=1 turns the fusion passes
// off for graphs compiled afterwards.
func RMSNormsFused() int64 { return fusedops.RMSNormsFused.Load() }

// SwiGLUsFused counts the SwiGLUs over a joined gate+up product (five
// graph ops) that compilation fused into one op with the same results
// (NPTI Studio patch; diagnostics; see RMSNormsFused).
func SwiGLUsFused() int64 { return fusedops.SwiGLUsFused.Load() }

// RoPEsFused counts the rotary embeddings (rotate-half layout, six graph
// ops) that compilation fused into one op with the same results (NPTI
// Studio patch; diagnostics; see RMSNormsFused).
func RoPEsFused() int64 { return fusedops.RoPEsFused.Load() }

// AddNormsFused counts the residual Adds fused with the RMS norm of their
// sum into one op with both results (NPTI Studio patch; diagnostics; see
// RMSNormsFused).
func AddNormsFused() int64 { return fusedops.AddNormsFused.Load() }

// ViewsFolded counts the op inputs that compilation turned into views:
// chains of Reshapes and contiguous Slices the op reads in place instead
// of running them (NPTI Studio patch; diagnostics). GOMLX_GO_NO_FUSION=1
// or GOMLX_GO_NO_VIEWS=1 turns the pass off for graphs compiled afterwards.
func ViewsFolded() int64 { return fusedops.ViewsFolded.Load() }
