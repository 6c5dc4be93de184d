package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/hfhub"
	"github.com/npti-studio/npti/inference/hook"
	"github.com/npti-studio/npti/ui"
)

// uiEngine implements ui.Engine over loadModel and newRunner.
type uiEngine struct {
	load inference.Options // how models are loaded (--backend, --weights)

	mu     sync.Mutex
	runner *guarded
}

var _ ui.Engine = (*uiEngine)(nil)

func newUIEngine(load inference.Options) *uiEngine { return &uiEngine{load: load} }

// errReplaced is the error of a call on a model that another one replaced.
var errReplaced = errors.New("the model was unloaded: another model was loaded since this work started")

// Load opens a model and makes it current; the previous model is closed
// (its memory freed) once no call runs on it any more. inference.Load
// takes no context, so a cancelled Load returns ctx.Err() at once and the
// model, when its loading ends, is closed instead of made current.
func (e *uiEngine) Load(ctx context.Context, path string) (ui.ModelInfo, error) {
	type result struct {
		l   *loaded
		err error
	}
	ch := make(chan result, 1)
	go func() {
		o := e.load
		o.Context = ctx // Cancel stops the load between weights and frees them
		l, err := loadModel(path, o)
		ch <- result{l, err}
	}()
	var res result
	select {
	case res = <-ch:
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil {
				r.l.model.Close()
			}
		}()
		return ui.ModelInfo{}, ctx.Err()
	}
	if res.err != nil {
		return ui.ModelInfo{}, res.err
	}
	l := res.l
	if ctx.Err() != nil { // cancelled as the load ended
		l.model.Close()
		return ui.ModelInfo{}, ctx.Err()
	}
	e.mu.Lock()
	old := e.runner
	e.runner = &guarded{runner: newRunner(l)}
	e.mu.Unlock()
	if old != nil {
		old.retire()
	}
	m := l.model
	return ui.ModelInfo{
		Path: path, Name: displayName(path, l.dir), Architecture: m.Config.Architecture,
		Layers: m.Layers(), Neurons: m.Neurons(), DType: m.Config.TorchDType,
		Backend: m.BackendName(), WeightBytes: m.WeightBytes(), WeightDType: m.WeightDType(), HasChat: l.template != nil,
	}, nil
}

// displayName is the short name of a model: the repo id for a cached or
// named repository ("org/name", not the cache folder's
// "models--org--name"), else the folder name.
func displayName(path, dir string) string {
	if hfhub.ValidRepoID(path) {
		return path
	}
	if filepath.Base(filepath.Dir(dir)) == "snapshots" {
		repo := filepath.Base(filepath.Dir(filepath.Dir(dir)))
		if rest, ok := strings.CutPrefix(repo, "models--"); ok && rest != "" {
			return strings.Replace(rest, "--", "/", 1)
		}
	}
	return filepath.Base(dir)
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

// guarded is the runner the UI gets. It counts the model calls in flight,
// so that a replaced model is closed when its last call returns, never
// under a running generation; calls that start after the replacement fail
// with errReplaced.
type guarded struct {
	*runner

	mu      sync.Mutex
	busy    int  // model calls in flight
	retired bool // another model replaced this one
	closed  bool
}

// enter registers a model call; it fails once the model was replaced.
func (g *guarded) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.retired {
		return errReplaced
	}
	g.busy++
	return nil
}

// leave ends a model call, closing a replaced model after its last one.
func (g *guarded) leave() {
	g.mu.Lock()
	g.busy--
	g.mu.Unlock()
	g.closeIfIdle()
}

// retire marks the model replaced and closes it when no call runs.
func (g *guarded) retire() {
	g.mu.Lock()
	g.retired = true
	g.mu.Unlock()
	g.closeIfIdle()
}

func (g *guarded) closeIfIdle() {
	g.mu.Lock()
	c := g.retired && g.busy == 0 && !g.closed
	if c {
		g.closed = true
	}
	g.mu.Unlock()
	if c {
		g.runner.model.Close()
	}
}

func (g *guarded) TeacherForce(ctx context.Context, seqs [][]int, o *hook.Override, capture *hook.Stats) error {
	if err := g.enter(); err != nil {
		return err
	}
	defer g.leave()
	return g.runner.TeacherForce(ctx, seqs, o, capture)
}

func (g *guarded) LogProbs(ctx context.Context, seqs [][]int) ([][]float64, error) {
	if err := g.enter(); err != nil {
		return nil, err
	}
	defer g.leave()
	return g.runner.LogProbs(ctx, seqs)
}

func (g *guarded) Generate(ctx context.Context, prompts [][]int, spec analysis.GenSpec) ([][]int, error) {
	if err := g.enter(); err != nil {
		return nil, err
	}
	defer g.leave()
	return g.runner.Generate(ctx, prompts, spec)
}
