package analysis

import (
	"context"

	"github.com/npti-studio/npti/inference/hook"
)

// Runner is what the NPTI pipeline needs from a loaded model. The app
// provides it over the inference package; analysis never imports GoMLX.
type Runner interface {
	// Shape is the FFN shape: decoder layers and neurons per layer.
	Shape() (layers, neurons int)
	// ModelInfo names the model and a hash of its content.
	ModelInfo() (path, hash string)
	// Tokenize encodes text, with the tokenizer's special tokens (BOS)
	// when special is set.
	Tokenize(text string, special bool) ([]int, error)
	// ChatPrompt renders one user message through the model's chat template
	// with the generation prompt and tokenizes it; ok is false when the
	// model has no chat template.
	ChatPrompt(user string) (ids []int, ok bool, err error)
	// Detokenize decodes generated ids to text (stop tokens dropped).
	Detokenize(ids []int) string
	// BOS is the beginning-of-sequence id (-1 if none); EOS the stop ids.
	BOS() int
	EOS() []int
	// TeacherForce runs the sequences at once (padded), accumulating
	// statistics over every position into capture when not nil and editing
	// activations at every position with o when not nil.
	TeacherForce(ctx context.Context, seqs [][]int, o *hook.Override, capture *hook.Stats) error
	// LogProbs returns per sequence the log-probability of each next token
	// (len-1 values) under the unedited model.
	LogProbs(ctx context.Context, seqs [][]int) ([][]float64, error)
	// Generate continues each prompt; see GenSpec.
	Generate(ctx context.Context, prompts [][]int, g GenSpec) ([][]int, error)
}

// GenSpec configures Runner.Generate.
type GenSpec struct {
	MaxTokens         int
	Temperature       float64 // 0 = greedy
	TopK              int
	TopP              float64
	RepetitionPenalty float64 // 1 or 0 = off
	Seed              uint64
	// Override edits activations (nil = none) in the rows of OverrideRows
	// (nil = all rows), at the positions of its Scope.
	Override     *hook.Override
	OverrideRows []bool
	// Capture accumulates statistics (nil = none) over CaptureScope.
	Capture      *hook.Stats
	CaptureScope hook.Scope
	// OnToken streams each generated id.
	OnToken func(row, id int)
}
