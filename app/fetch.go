package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/hfhub"
)

// resolveModelArg turns a --model argument into a local path: an existing
// file or folder as it is; a Hugging Face repo id from the local HF cache,
// or downloaded into it (with a progress line on w) when not cached.
func resolveModelArg(ctx context.Context, arg string, w io.Writer) (string, error) {
	if _, err := os.Stat(arg); err == nil || !hfhub.ValidRepoID(arg) {
		return arg, nil
	}
	if dir, err := hfhub.Resolve(arg); err == nil {
		return dir, nil
	}
	fmt.Fprintf(w, "downloading %s into %s\n", arg, hfhub.CacheDir())
	bar := &downloadBar{w: w}
	dir, err := hfhub.Download(ctx, arg, "", bar.update)
	bar.done()
	if err != nil {
		return "", err
	}
	return dir, nil
}

// openModel resolves a --model argument (downloading a repo id if needed)
// and loads the model with its tokenizer and chat template.
func openModel(ctx context.Context, arg string, opts inference.Options, w io.Writer) (*loaded, error) {
	path, err := resolveModelArg(ctx, arg, w)
	if err != nil {
		return nil, err
	}
	opts.Context = ctx // Ctrl-C stops a long load too
	return loadModel(path, opts)
}

// downloadBar prints a throttled one-line progress bar.
type downloadBar struct {
	w     io.Writer
	mu    sync.Mutex
	last  time.Time
	start time.Time
	shown bool
}

func (p *downloadBar) update(file string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.start.IsZero() {
		p.start = now
	}
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = now
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 1e-3) / 1e6
	if total > 0 {
		const width = 30
		n := int(float64(width) * float64(done) / float64(total))
		bar := ""
		for i := 0; i < width; i++ {
			if i < n {
				bar += "█"
			} else {
				bar += "░"
			}
		}
		fmt.Fprintf(p.w, "\r%-28.28s %s %5.1f%% %8.1f MB  %6.1f MB/s", file, bar, 100*float64(done)/float64(total), float64(done)/1e6, rate)
	} else {
		fmt.Fprintf(p.w, "\r%-28.28s %8.1f MB  %6.1f MB/s", file, float64(done)/1e6, rate)
	}
	p.shown = true
}

func (p *downloadBar) done() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}
