package app

import (
	"context"
	"sync"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/checkpoint"
	"github.com/npti-studio/npti/inference/hook"
)

// runner adapts a loaded model to analysis.Runner.
type runner struct {
	*loaded
	hashOnce sync.Once
	hash     string
}

var _ analysis.Runner = (*runner)(nil)

func newRunner(l *loaded) *runner { return &runner{loaded: l} }

func (r *runner) Shape() (int, int) { return r.model.Layers(), r.model.Neurons() }

func (r *runner) ModelInfo() (string, string) {
	r.hashOnce.Do(func() {
		if ck, err := checkpoint.Open(r.model.Path); err == nil {
			r.hash, _ = ck.QuickHash()
			ck.Close()
		}
		if r.hash == "" { // never empty: a resume must not match any model
			r.hash = "path:" + r.model.Path
		}
	})
	return r.model.Path, r.hash
}

func (r *runner) Tokenize(text string, special bool) ([]int, error) {
	if r.tok == nil {
		return nil, errNoTokenizer(r.dir)
	}
	return r.tok.Encode(text, special)
}

func (r *runner) ChatPrompt(user string) ([]int, bool, error) {
	if r.template == nil {
		return nil, false, nil
	}
	ids, err := r.encodePrompt(user, true)
	return ids, err == nil, err
}

func (r *runner) Detokenize(ids []int) string {
	if r.tok == nil {
		return ""
	}
	return r.tok.Decode(stripStop(ids, r.EOS()))
}

func (r *runner) BOS() int {
	if r.tok != nil {
		if b := r.tok.BOS(); b >= 0 {
			return b
		}
	}
	return r.model.Config.BOSTokenID
}

// EOS is where generation stops, as transformers' generate: the
// generation config's eos_token_id, else config.json's, else the
// tokenizer's.
func (r *runner) EOS() []int {
	if len(r.genEOS) > 0 {
		return r.genEOS
	}
	if len(r.model.Config.EOSTokenIDs) > 0 || r.tok == nil {
		return r.model.Config.EOSTokenIDs
	}
	return r.tok.EOS()
}

func (r *runner) TeacherForce(ctx context.Context, seqs [][]int, o *hook.Override, capture *hook.Stats) error {
	_, err := r.model.Forward(ctx, seqs, inference.ForwardOptions{Override: o, Capture: capture})
	return err
}

func (r *runner) LogProbs(ctx context.Context, seqs [][]int) ([][]float64, error) {
	return r.model.Forward(ctx, seqs, inference.ForwardOptions{LogProbs: true})
}

func (r *runner) Generate(ctx context.Context, prompts [][]int, g analysis.GenSpec) ([][]int, error) {
	return r.model.Generate(ctx, prompts, inference.GenerateOptions{
		MaxTokens: g.MaxTokens,
		Sampling: inference.Sampling{Temperature: g.Temperature, TopK: g.TopK, TopP: g.TopP,
			RepetitionPenalty: g.RepetitionPenalty, Seed: g.Seed},
		StopIDs:  r.EOS(),
		Override: g.Override, OverrideRows: g.OverrideRows,
		Capture: g.Capture, CaptureScope: g.CaptureScope,
		OnToken: g.OnToken,
	})
}
