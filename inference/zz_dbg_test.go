package inference

import (
	"context"
	"testing"
	"time"

	gb "github.com/gomlx/compute/gobackend"
)

func TestDbgDecode(t *testing.T) {
	m, err := Synthesize("smollm2-135m", 1, Options{Weights: "bf16"})
	if err != nil {
		t.Fatal(err)
	}
	prompts := randomSeqs(m, 1, 16)
	ctx := context.Background()
	m.Generate(ctx, prompts, GenerateOptions{MaxTokens: 32, IgnoreEOS: true})
	gb.DbgDump()
	t0 := time.Now()
	m.Generate(ctx, prompts, GenerateOptions{MaxTokens: 32, IgnoreEOS: true})
	t.Logf("wall %v", time.Since(t0))
	gb.DbgDump()
}
