package app

import (
	"io"
	"strings"
	"testing"
)

// TestGUIFlags: the desktop app takes the same --backend and --weights as
// the model commands.
func TestGUIFlags(t *testing.T) {
	o, load, err := guiOptions([]string{"--model", "m", "--backend", "go", "--weights", "bf16"}, io.Discard)
	if err != nil || o.Model != "m" || load.Backend != "go" || load.Weights != "bf16" {
		t.Fatalf("options %+v, load %+v, err %v", o, load, err)
	}
	if _, load, err = guiOptions(nil, io.Discard); err != nil || load.Weights != "auto" {
		t.Fatalf("default weights %q, err %v", load.Weights, err)
	}
	if _, _, err := guiOptions([]string{"stray"}, io.Discard); err == nil {
		t.Fatal("a stray argument must fail")
	}
	if _, _, err := guiOptions([]string{"--weights", "fp8"}, io.Discard); err == nil || !strings.Contains(err.Error(), `"fp8"`) {
		t.Fatalf("--weights fp8: err %v", err)
	}
}
