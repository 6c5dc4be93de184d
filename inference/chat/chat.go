// Package chat renders a model's chat template: the Jinja program in
// tokenizer_config.json ("chat_template") that turns a list of messages
// into the prompt format the instruct model was trained on.
//
// Templates run on gonja (github.com/nikolalohinski/gonja/v2) configured
// like HF transformers' apply_chat_template: trim_blocks and lstrip_blocks
// on, loop controls (break/continue), the globals raise_exception and
// strftime_now, and the special tokens bos_token, eos_token, unk_token and
// pad_token. Differences from Jinja2 that matter for chat templates are
// fixed here (see pythonMethods, cappedRange) and panics inside gonja are
// turned into errors.
package chat

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Message is one chat turn as HF chat templates expect it.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Template is a parsed chat template with its special tokens; it is
// immutable and safe for concurrent Render calls.
type Template struct {
	source   string
	specials map[string]string
	tpl      *exec.Template
}

// SpecialTokenNames are the tokenizer_config.json fields exposed to
// templates as variables; a missing one is undefined, as in transformers.
var SpecialTokenNames = []string{"bos_token", "eos_token", "unk_token", "pad_token"}

const (
	rootName = "/chat_template"
	// maxIntLiteral bounds integer literals so that `'x' * N` or
	// `center(N)` in a template cannot request a huge allocation.
	maxIntLiteral = 1_000_000
	// maxRangeBudget bounds the items all range() calls of one Render may
	// produce together (Jinja2's sandbox caps one range at 100000), so nested
	// loops cannot run for ever.
	maxRangeBudget = 100_000
)

// FromString parses a chat template. specials maps variable names such as
// "bos_token" to their text; it is copied.
func FromString(src string, specials map[string]string) (t *Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("parse chat template: jinja engine panic: %v", r)
		}
	}()
	cfg := hfConfig()
	if err := checkLiterals(src, cfg); err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	// A memory loader holding only this template: {% include %} and
	// {% import %} cannot reach the file system.
	loader, err := loaders.NewMemoryLoader(map[string]string{rootName: src})
	if err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	tpl, err := exec.NewTemplate(rootName, cfg, loader, newEnvironment())
	if err != nil {
		return nil, fmt.Errorf("parse chat template: %w", trimSourceEcho(err, src))
	}
	sp := make(map[string]string, len(specials))
	for k, v := range specials {
		sp[k] = v
	}
	return &Template{source: src, specials: sp, tpl: tpl}, nil
}

// hfConfig mirrors transformers' ImmutableSandboxedEnvironment settings.
func hfConfig() *config.Config {
	cfg := config.New()
	cfg.TrimBlocks = true
	cfg.LeftStripBlocks = true
	return cfg
}

// checkLiterals rejects integer literals above maxIntLiteral.
func checkLiterals(src string, cfg *config.Config) error {
	stream := tokens.LexAll(src, cfg)
	for !stream.End() {
		tok := stream.Next()
		if tok == nil {
			break
		}
		if tok.Type == tokens.Integer && len(strings.TrimLeft(tok.Val, "0")) > len("1000000") {
			return fmt.Errorf("line %d: integer literal %.20s exceeds %d", tok.Line, tok.Val, maxIntLiteral)
		}
	}
	return nil
}

// trimSourceEcho shortens gonja's parse errors, which quote the whole
// template source.
func trimSourceEcho(err error, src string) error {
	msg := err.Error()
	if len(src) > 0 && strings.Contains(msg, src) {
		return errors.New(strings.Replace(msg, src, "<template>", 1))
	}
	return err
}

// Source returns the template text.
func (t *Template) Source() string { return t.source }

// Render runs the template over msgs. With addGenerationPrompt the
// template appends the header of an assistant turn, so the model's
// continuation is the reply.
func (t *Template) Render(msgs []Message, addGenerationPrompt bool) (out string, err error) {
	st := &renderState{budget: maxRangeBudget}
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("render chat template: jinja engine panic: %v", r)
		}
	}()
	var buf bytes.Buffer
	if err := t.tpl.Execute(&buf, t.context(msgs, addGenerationPrompt, st)); err != nil {
		if st.raised != "" {
			return "", fmt.Errorf("render chat template: %w: %s", ErrTemplateRaised, st.raised)
		}
		return "", fmt.Errorf("render chat template: %w", err)
	}
	return buf.String(), nil
}

// context builds the variables of one Render call.
func (t *Template) context(msgs []Message, addGen bool, st *renderState) *exec.Context {
	list := make(itemList, len(msgs))
	for i, m := range msgs {
		list[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	data := map[string]any{
		"messages":              list,
		"add_generation_prompt": addGen,
		"raise_exception":       st.raiseException,
		"range":                 st.rangeFunc,
		"tools":                 nil,
		"documents":             nil,
	}
	for k, v := range t.specials {
		data[k] = v
	}
	return exec.NewContext(data)
}
