//go:build !(amd64 && goexperiment.simd)

package inference

// fastAttention: without the SIMD build the Go backend decomposes attention.
const fastAttention = false
