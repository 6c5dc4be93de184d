package app

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/hfhub"
	"github.com/npti-studio/npti/ui"
)

// uiEngine implements ui.Engine over loadModel and newRunner.
type uiEngine struct {
	load inference.Options // how models are loaded (--backend, --weights)

	mu     sync.Mutex
	runner *runner
}

var _ ui.Engine = (*uiEngine)(nil)

func newUIEngine(load inference.Options) *uiEngine { return &uiEngine{load: load} }

// Load opens a model and makes it current.
func (e *uiEngine) Load(_ context.Context, path string) (ui.ModelInfo, error) {
	l, err := loadModel(path, e.load)
	if err != nil {
		return ui.ModelInfo{}, err
	}
	r := newRunner(l)
	e.mu.Lock()
	e.runner = r
	e.mu.Unlock()
	m := l.model
	name := filepath.Base(l.dir)
	if hfhub.ValidRepoID(path) {
		name = path
	} else if filepath.Base(filepath.Dir(filepath.Dir(l.dir))) != "" && filepath.Base(filepath.Dir(l.dir)) == "snapshots" {
		name = filepath.Base(filepath.Dir(filepath.Dir(l.dir))) // models--org--name
	}
	return ui.ModelInfo{
		Path: path, Name: name, Architecture: m.Config.Architecture,
		Layers: m.Layers(), Neurons: m.Neurons(), DType: m.Config.TorchDType,
		Backend: m.BackendName(), WeightBytes: m.WeightBytes(), WeightDType: m.WeightDType(), HasChat: l.template != nil,
	}, nil
}

// Runner returns the current model's runner (nil before Load).
func (e *uiEngine) Runner() analysis.Runner {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.runner == nil {
		return nil
	}
	return e.runner
}

// Cached lists the models of the local Hugging Face cache.
func (e *uiEngine) Cached() ([]ui.CachedModel, error) {
	ms, err := hfhub.ListCached()
	out := make([]ui.CachedModel, len(ms))
	for i, m := range ms {
		out[i] = ui.CachedModel{RepoID: m.RepoID, Dir: m.Dir, Size: m.Size}
	}
	return out, err
}

// Download fetches a repository into the cache.
func (e *uiEngine) Download(ctx context.Context, repoID string, progress func(file string, done, total int64)) (string, error) {
	return hfhub.Download(ctx, repoID, "main", progress)
}
