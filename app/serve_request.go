package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference/chat"
	"github.com/npti-studio/npti/inference/hook"
)

// chatRequest is the body of POST /v1/chat/completions: the OpenAI fields
// the server honours, vLLM's top_k, repetition_penalty and ignore_eos, and
// the "npti" extension. Other fields are ignored.
type chatRequest struct {
	Model               string         `json:"model"`
	Messages            []chatMessage  `json:"messages"`
	MaxTokens           *int           `json:"max_tokens"`
	MaxCompletionTokens *int           `json:"max_completion_tokens"`
	Temperature         *float64       `json:"temperature"`
	TopP                *float64       `json:"top_p"`
	TopK                *int           `json:"top_k"`
	Seed                *int64         `json:"seed"`
	N                   *int           `json:"n"`
	Stream              bool           `json:"stream"`
	StreamOptions       *streamOptions `json:"stream_options"`
	RepetitionPenalty   *float64       `json:"repetition_penalty"`
	IgnoreEOS           bool           `json:"ignore_eos"`
	Stop                stopStrings    `json:"stop"`
	NPTI                *nptiOptions   `json:"npti"`
	// Fields the server cannot honour: refused when they ask for
	// something (a 400 naming the field), not silently dropped.
	Logprobs         json.RawMessage `json:"logprobs"` // chat: a bool; completions: a count
	TopLogprobs      *int            `json:"top_logprobs"`
	Tools            json.RawMessage `json:"tools"`
	ToolChoice       json.RawMessage `json:"tool_choice"`
	ResponseFormat   json.RawMessage `json:"response_format"`
	PresencePenalty  *float64        `json:"presence_penalty"`
	FrequencyPenalty *float64        `json:"frequency_penalty"`
	LogitBias        json.RawMessage `json:"logit_bias"`

	// The legacy completions endpoint (/v1/completions) takes a prompt
	// instead of messages.
	legacy bool
	Prompt json.RawMessage `json:"prompt"` // a string or a list of one string
	Echo   *bool           `json:"echo"`
	Suffix *string         `json:"suffix"`
	BestOf *int            `json:"best_of"`
}

// asks reports whether a raw field is set to something other than null or
// the given values that ask for nothing.
func asks(raw json.RawMessage, nothing ...string) bool {
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "null" {
		return false
	}
	for _, n := range nothing {
		if v == n {
			return false
		}
	}
	return true
}

// promptText is a completions request's prompt: a string, or a list of
// exactly one string (the server returns one choice).
func (q *chatRequest) promptText() (string, error) {
	var one string
	if json.Unmarshal(q.Prompt, &one) == nil {
		return one, nil
	}
	var list []string
	if err := json.Unmarshal(q.Prompt, &list); err != nil {
		return "", badRequest("prompt must be a string or an array of one string (token-id prompts are not supported)")
	}
	if len(list) != 1 {
		return "", badRequest("prompt holds %d strings: this server answers one prompt a request", len(list))
	}
	return list[0], nil
}

// stopStrings is "stop": a string or a list of up to 4 strings.
type stopStrings []string

func (s *stopStrings) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = nil
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = stopStrings{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("stop must be a string or an array of strings")
	}
	*s = list
	return nil
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// nptiOptions is the per-request induction: Induce lists "trait:pole[:γ]"
// items (or "none" to switch the server's plan off; empty keeps the
// server's items); the other fields default to the server's flags.
// Unknown keys are refused: a misspelt setting must not pass unnoticed.
type nptiOptions struct {
	Induce       string   `json:"induce"`
	Gamma        *float64 `json:"gamma"`
	MaskFraction *float64 `json:"mask_fraction"`
	Scope        string   `json:"scope"`
	Policy       string   `json:"policy"`
}

func (o *nptiOptions) UnmarshalJSON(b []byte) error {
	type plain nptiOptions
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("npti: %w", err)
	}
	*o = nptiOptions(p)
	return nil
}

// chatMessage is one turn; content is a string or an array of text parts.
type chatMessage struct {
	Role    string      `json:"role"`
	Content textContent `json:"content"`
}

// textContent accepts "text" or [{"type":"text","text":"..."}, ...].
type textContent string

func (c *textContent) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = textContent(s)
		return nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return errors.New("message content must be a string or an array of text parts")
	}
	var sb strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return fmt.Errorf("message content part of type %q: only text is supported", p.Type)
		}
		sb.WriteString(p.Text)
	}
	*c = textContent(sb.String())
	return nil
}

// apiError is an error reply: HTTP status, OpenAI error type, message,
// and the request field at fault ("" = none) or, for a few errors, the
// OpenAI error code.
type apiError struct {
	status int
	typ    string
	msg    string
	param  string
	code   string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", msg: fmt.Sprintf(format, args...)}
}

// decodeChatRequest reads and checks one request body (at most limit
// bytes; the caller also caps the reader); legacy: a /v1/completions one.
func decodeChatRequest(r io.Reader, limit int64, legacy bool) (chatRequest, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return chatRequest{}, &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", msg: fmt.Sprintf("request body larger than %d bytes", limit)}
		}
		return chatRequest{}, badRequest("reading request body: %v", err)
	}
	if int64(len(data)) > limit {
		return chatRequest{}, &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", msg: fmt.Sprintf("request body larger than %d bytes", limit)}
	}
	req := chatRequest{legacy: legacy}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&req); err != nil {
		return chatRequest{}, badRequest("request body is not a valid chat request: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return chatRequest{}, badRequest("request body holds data after the JSON object")
	}
	return req, req.validate()
}

// validate checks ranges the way the OpenAI API does.
func (q *chatRequest) validate() error {
	switch {
	case q.legacy && len(q.Messages) > 0:
		return badRequest("/v1/completions takes a prompt, not messages (use /v1/chat/completions)")
	case q.legacy:
		if _, err := q.promptText(); err != nil {
			return err
		}
	case len(q.Messages) == 0:
		return badRequest("messages must hold at least one message")
	}
	for i, m := range q.Messages {
		switch m.Role {
		case "system", "user", "assistant", "developer":
		default:
			return badRequest("messages[%d]: unknown role %q", i, m.Role)
		}
	}
	switch {
	case q.MaxTokens != nil && *q.MaxTokens < 1:
		return badRequest("max_tokens must be at least 1")
	case q.MaxCompletionTokens != nil && *q.MaxCompletionTokens < 1:
		return badRequest("max_completion_tokens must be at least 1")
	case q.Temperature != nil && !(*q.Temperature >= 0 && *q.Temperature <= 2):
		return badRequest("temperature must lie in [0, 2]")
	case q.TopP != nil && !(*q.TopP > 0 && *q.TopP <= 1):
		return badRequest("top_p must lie in (0, 1]")
	case q.TopK != nil && *q.TopK < 0:
		return badRequest("top_k must be >= 0")
	case q.N != nil && *q.N != 1:
		return badRequest("n must be 1: the server returns one choice")
	case q.RepetitionPenalty != nil && !(*q.RepetitionPenalty > 0 && *q.RepetitionPenalty <= 10):
		return badRequest("repetition_penalty must lie in (0, 10]")
	case len(q.Stop) > 4:
		return badRequest("stop holds %d strings: at most 4", len(q.Stop))
	case q.StreamOptions != nil && !q.Stream:
		return badRequest("stream_options is only allowed when stream is true")
	}
	for _, st := range q.Stop {
		if st == "" {
			return badRequest("stop strings must not be empty")
		}
	}
	for _, u := range []struct {
		name string
		set  bool
	}{
		{"logprobs", asks(q.Logprobs, "false", "0")},
		{"echo", q.legacy && q.Echo != nil && *q.Echo}, // completions fields: chat requests never had them checked
		{"suffix", q.legacy && q.Suffix != nil && *q.Suffix != ""},
		{"best_of", q.legacy && q.BestOf != nil && *q.BestOf != 1},
		{"top_logprobs", q.TopLogprobs != nil && *q.TopLogprobs > 0},
		{"tools", asks(q.Tools, "[]")},
		{"tool_choice", asks(q.ToolChoice, `"none"`)},
		{"response_format", asks(q.ResponseFormat) && !isTextFormat(q.ResponseFormat)},
		{"presence_penalty", q.PresencePenalty != nil && *q.PresencePenalty != 0},
		{"frequency_penalty", q.FrequencyPenalty != nil && *q.FrequencyPenalty != 0},
		{"logit_bias", asks(q.LogitBias, "{}")},
	} {
		if u.set {
			return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", msg: fmt.Sprintf("%s is not supported by this server", u.name), param: u.name}
		}
	}
	if o := q.NPTI; o != nil {
		if o.Gamma != nil && !gammaOK(*o.Gamma) {
			return badRequest("npti.gamma must lie in [0, %g]", float64(maxGamma))
		}
		if o.MaskFraction != nil && !(*o.MaskFraction >= 0 && *o.MaskFraction <= 1) {
			return badRequest("npti.mask_fraction must lie in [0, 1]")
		}
	}
	return nil
}

// isTextFormat reports whether a response_format asks for plain text.
func isTextFormat(raw json.RawMessage) bool {
	var f struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(raw, &f) == nil && f.Type == "text"
}

// maxTokens is the requested generation length (0 = not given).
func (q *chatRequest) maxTokens() int {
	if q.MaxCompletionTokens != nil {
		return *q.MaxCompletionTokens
	}
	if q.MaxTokens != nil {
		return *q.MaxTokens
	}
	return 0
}

// messages converts the turns for the chat template.
func (q *chatRequest) messages() []chat.Message {
	out := make([]chat.Message, len(q.Messages))
	for i, m := range q.Messages {
		out[i] = chat.Message{Role: m.Role, Content: string(m.Content)}
	}
	return out
}

// maxGamma bounds γ (far beyond any useful intensity; a huge γ overflows
// the added activations).
const maxGamma = 100

func gammaOK(g float64) bool { return g >= 0 && g <= maxGamma }

// checkGammas reports an item whose γ is outside [0, maxGamma].
func checkGammas(items []analysis.Induction) error {
	for _, it := range items {
		if !gammaOK(it.Gamma) {
			return fmt.Errorf("γ %v of %s must lie in [0, %g]", it.Gamma, it.Trait, float64(maxGamma))
		}
	}
	return nil
}

// servePlan is the server's induction setup: its neuron sets and the
// defaults that per-request plans start from.
type servePlan struct {
	sets         analysis.Sets // nil without --neurons
	items        []analysis.Induction
	gamma        float64
	maskFraction float64
	scope        hook.Scope
	policy       analysis.Policy
	seed         uint64
}

// build returns the override for a request's npti options (o nil or
// Induce "" keep the server's items; "none" means no edits).
func (p *servePlan) build(o *nptiOptions, seed uint64, layers, neurons int) (*hook.Override, error) {
	items := p.items
	if o != nil && strings.TrimSpace(o.Induce) != "" {
		if strings.EqualFold(strings.TrimSpace(o.Induce), "none") {
			return nil, nil
		}
		g := p.gamma
		if o.Gamma != nil {
			g = *o.Gamma
		}
		var err error
		if items, err = analysis.ParseInductions(o.Induce, g); err != nil {
			return nil, badRequest("npti.induce: %v", err)
		}
		if err := checkGammas(items); err != nil {
			return nil, badRequest("npti.induce: %v", err)
		}
	} else if o != nil && o.Gamma != nil {
		items = append([]analysis.Induction(nil), items...)
		for i := range items {
			items[i].Gamma = *o.Gamma
		}
	}
	if len(items) == 0 {
		if o != nil {
			return nil, badRequest("npti: give induce (\"trait:pole\"): the server has no plan of its own")
		}
		return nil, nil
	}
	if p.sets == nil {
		return nil, badRequest("npti: the server was started without --neurons")
	}
	plan := analysis.Plan{Items: items, MaskFraction: p.maskFraction, Seed: seed, Scope: p.scope,
		ClampOpposite: true, Policy: p.policy}
	if o != nil {
		if o.MaskFraction != nil {
			plan.MaskFraction = *o.MaskFraction
		}
		var err error
		if o.Scope != "" {
			if plan.Scope, err = hook.ParseScope(o.Scope); err != nil || plan.Scope == hook.Prompt {
				return nil, badRequest("npti.scope %q: want generated or all", o.Scope)
			}
		}
		if o.Policy != "" {
			if plan.Policy, err = analysis.ParsePolicy(o.Policy); err != nil {
				return nil, badRequest("npti.policy: %v", err)
			}
		}
	}
	ov, _, err := plan.Build(p.sets, layers, neurons)
	if err != nil {
		return nil, badRequest("npti: %v", err)
	}
	return ov, nil
}
