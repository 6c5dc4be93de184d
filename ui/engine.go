package ui

import (
	"context"

	"github.com/npti-studio/npti/analysis"
)

// ModelInfo describes a loaded model for the model card.
type ModelInfo struct {
	Path            string
	Name            string // short display name (folder or repo id)
	Architecture    string
	Layers, Neurons int
	DType           string
	Backend         string
	WeightBytes     int64
	WeightDType     string // how the weight matrices are held: "bf16" or "f32"
	HasChat         bool   // the model has a chat template
}

// CachedModel is a model found in the local Hugging Face cache.
type CachedModel struct {
	RepoID string
	Dir    string
	Size   int64
}

// Engine is what the UI needs from the rest of the program: loading a
// model (slow: call it off the UI goroutine), the analysis.Runner over the
// loaded model, and the Hugging Face cache. The app implements it; tests
// may use the app's implementation on a tiny real model.
type Engine interface {
	// Load opens a model folder, llama2.c checkpoint or cached repo id and
	// makes it the current model.
	Load(ctx context.Context, path string) (ModelInfo, error)
	// Runner returns the current model's runner, or nil before Load.
	Runner() analysis.Runner
	// Cached lists the models in the local Hugging Face cache.
	Cached() ([]CachedModel, error)
	// Download fetches a repository into the cache and returns its folder.
	Download(ctx context.Context, repoID string, progress func(file string, done, total int64)) (string, error)
}

// Options are the start-up choices of the window (command-line flags).
type Options struct {
	Model   string // model to load at start
	Stats   string // stats folder to open at start
	Neurons string // neuron dict folder to open at start
	Bench   string // PersonalityBench folder chosen for identification
	// DebugLayout prints widget positions and status lines to stderr
	// (NPTI_DEBUG_LAYOUT=1), for end-to-end scripts.
	DebugLayout bool
}

// Suggested lists good small instruct models to download.
var Suggested = []string{
	"HuggingFaceTB/SmolLM2-360M-Instruct",
	"Qwen/Qwen2.5-0.5B-Instruct",
	"meta-llama/Llama-3.2-1B-Instruct",
}
