//go:build !noxla

package inference

// XLA (xla:cpu, xla:cuda) is selectable with GOMLX_BACKEND or --backend for
// users who have its PJRT plugins; the plugin is loaded at run time only
// when asked for, so the pure-Go backend stays the dependency-free default.
// Build with -tags noxla to leave it out.
import _ "github.com/gomlx/go-xla/compute/xla"
