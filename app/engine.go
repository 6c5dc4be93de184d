package app

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/chat"
	"github.com/npti-studio/npti/inference/checkpoint"
	"github.com/npti-studio/npti/inference/hfhub"
	"github.com/npti-studio/npti/inference/tokenizer"
)

// loaded is a model with its tokenizer and chat template, when it has them.
type loaded struct {
	model    *inference.Model
	dir      string               // the model's folder (for a llama2.c file, its folder)
	tok      *tokenizer.Tokenizer // nil when the model ships none
	template *chat.Template       // nil when the model has no chat template
	genEOS   []int                // generation_config.json's eos_token_id (nil: none)
}

// generationEOS reads eos_token_id (an id or a list) from dir's
// generation_config.json: transformers' generate stops at these when the
// file has them (Llama-3-Instruct's config.json lists only
// <|end_of_text|>, its generation config <|eot_id|> too).
func generationEOS(dir string) ([]int, error) {
	path := filepath.Join(dir, "generation_config.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var gc struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if err := json.Unmarshal(data, &gc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ids, err := checkpoint.ParseEOS(gc.EOS, -1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ids, nil
}

// modelFlags defines the --model, --backend and --weights flags every
// model command shares.
func modelFlags(fs *flag.FlagSet) (model *string, opts *inference.Options) {
	model = fs.String("model", "", "model folder, llama2.c file or HF repo id")
	return model, runtimeFlags(fs)
}

// runtimeFlags defines --backend and --weights, how a model is loaded.
func runtimeFlags(fs *flag.FlagSet) *inference.Options {
	var o inference.Options
	fs.StringVar(&o.Backend, "backend", "", "GoMLX backend (default $GOMLX_BACKEND or go)")
	fs.StringVar(&o.Weights, "weights", "auto", "how weight matrices are held: auto (bf16 for BF16 checkpoints where the Go backend has its AVX2 bf16 kernels, else f32), f32, or bf16 (rounds float32 checkpoints; half the memory)")
	return &o
}

// loadModel opens a model by path or HF repo id, with its tokenizer and chat
// template when present beside it.
func loadModel(path string, opts inference.Options) (_ *loaded, err error) {
	m, err := inference.Load(path, opts)
	if err != nil {
		return nil, err
	}
	defer func() { // a bad file beside the weights: free them
		if err != nil {
			m.Close()
		}
	}()
	budgetHeap(m.WeightBytes())
	dir := m.Path
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	} else if err != nil {
		if d, rerr := hfhub.Resolve(path); rerr == nil {
			dir = d
		}
	}
	l := &loaded{model: m, dir: dir}
	if l.genEOS, err = generationEOS(dir); err != nil {
		return nil, err
	}
	for _, id := range l.genEOS {
		if id < 0 || id >= m.Config.VocabSize {
			return nil, fmt.Errorf("%s: eos_token_id %d outside the vocabulary of %d", filepath.Join(dir, "generation_config.json"), id, m.Config.VocabSize)
		}
	}
	if hasTokenizer(dir) {
		if l.tok, err = tokenizer.Load(dir); err != nil {
			return nil, err
		}
	}
	if t, ok, err := chat.LoadForModel(dir); err != nil {
		return nil, err
	} else if ok {
		l.template = t
	}
	return l, nil
}

func hasTokenizer(dir string) bool {
	for _, f := range []string{"tokenizer.json", "tokenizer.bin"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// encodePrompt turns user text into prompt ids: through the chat template
// when asked (the template writes the special tokens), else with the
// tokenizer's own special tokens (BOS).
func (l *loaded) encodePrompt(text string, useChat bool) ([]int, error) {
	if l.tok == nil {
		return nil, errNoTokenizer(l.dir)
	}
	if useChat {
		if l.template == nil {
			return nil, fmt.Errorf("%s has no chat template", l.dir)
		}
		s, err := l.template.Render([]chat.Message{{Role: "user", Content: text}}, true)
		if err != nil {
			return nil, err
		}
		return l.tok.Encode(s, false)
	}
	return l.tok.Encode(text, true)
}

// parseIDs parses "1,2,3" (spaces allowed).
func parseIDs(s string) ([]int, error) {
	var ids []int
	parts := strings.Split(s, ",")
	for i, part := range parts {
		fields := strings.Fields(part)
		if len(fields) == 0 && len(parts) > 1 {
			return nil, fmt.Errorf("token ids %q: field %d is empty", s, i+1)
		}
		for _, f := range fields {
			v, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("bad token id %q", f)
			}
			ids = append(ids, v)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no token ids in %q", s)
	}
	return ids, nil
}

func errNoTokenizer(dir string) error {
	return fmt.Errorf("%s has no tokenizer (tokenizer.json or tokenizer.bin): pass token ids instead", dir)
}
