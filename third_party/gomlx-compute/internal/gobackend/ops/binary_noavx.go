//go:build !(amd64 && goexperiment.simd)

package ops

// binaryRunFloat32: no vector kernel in this build (see binary_avx2.go).
func binaryRunFloat32(op binaryOpKind, out, l, r []float32, ls, rs int) bool { return false }
