package ui

import (
	"strings"
	"testing"
)

// TestModelCard: the Start view's description names how the weights are
// held (bfloat16 kept as is, or float32) with their size in memory.
func TestModelCard(t *testing.T) {
	m := ModelInfo{Name: "tiny", Architecture: "Qwen2ForCausalLM", Layers: 2, Neurons: 224, DType: "bfloat16",
		Backend: "Go Backend", WeightBytes: 96 << 20, WeightDType: "bf16", Path: "/m/tiny"}
	if got := modelCard(m); !strings.Contains(got, "96.0 MiB of bf16 weights") || !strings.Contains(got, "2 layers × 224 neurons (448 FFN neurons)") {
		t.Errorf("card %q", got)
	}
	m.WeightDType = ""
	if got := modelCard(m); !strings.Contains(got, "96.0 MiB of weights") {
		t.Errorf("card without a weight dtype %q", got)
	}
}
