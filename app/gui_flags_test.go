package app

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/refdata"
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

// TestUIEngineReplacesModel: loading a second model closes the first once
// no call runs on it, calls on the replaced model fail clearly, and a
// cancelled load returns at once.
func TestUIEngineReplacesModel(t *testing.T) {
	dir := refdata.Path(t, "models", "persona-tiny")
	e := newUIEngine(inference.Options{})
	info, err := e.Load(context.Background(), dir)
	if err != nil || info.Layers != 4 {
		t.Fatalf("load: %+v %v", info, err)
	}
	first := e.runner
	if err := first.enter(); err != nil { // a generation in flight
		t.Fatal(err)
	}
	if _, err := e.Load(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if first.closed {
		t.Fatal("the replaced model was closed under a running call")
	}
	if _, err := first.Generate(context.Background(), [][]int{{1}}, analysis.GenSpec{MaxTokens: 1}); !errors.Is(err, errReplaced) {
		t.Errorf("a call on the replaced model: err %v, want errReplaced", err)
	}
	first.leave()
	if !first.closed {
		t.Error("the replaced model was not closed after its last call")
	}
	if out, err := e.Runner().Generate(context.Background(), [][]int{{1}}, analysis.GenSpec{MaxTokens: 2}); err != nil || len(out) != 1 {
		t.Errorf("the new model does not generate: %v %v", out, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Load(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled load: err %v", err)
	}
	if e.runner.retired {
		t.Error("a cancelled load replaced the current model")
	}
}

func TestDisplayName(t *testing.T) {
	for _, c := range []struct{ path, dir, want string }{
		{"/c/hub/models--HuggingFaceTB--SmolLM2-360M-Instruct/snapshots/abc", "/c/hub/models--HuggingFaceTB--SmolLM2-360M-Instruct/snapshots/abc", "HuggingFaceTB/SmolLM2-360M-Instruct"},
		{"Qwen/Qwen2.5-0.5B-Instruct", "/c/hub/models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/x", "Qwen/Qwen2.5-0.5B-Instruct"},
		{"/m/persona-tiny", "/m/persona-tiny", "persona-tiny"},
	} {
		if got := displayName(c.path, c.dir); got != c.want {
			t.Errorf("displayName(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

// TestNoDisplay: without a display the bare command says so in one line
// and exits 1 (GLFW panicked with a stack trace).
func TestNoDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	var out, errb strings.Builder
	if code := Main(nil, &out, &errb); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if got := errb.String(); got != "npti: "+errNoDisplay.Error()+"\n" {
		t.Errorf("stderr %q", got)
	}
}
