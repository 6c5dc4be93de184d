package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/hook"
)

// serveConfig is the fixed setup of an OpenAI-compatible server.
type serveConfig struct {
	name      string    // the model id served
	plan      servePlan // neuron sets and induction defaults
	maxTokens int       // cap on generated tokens per request
	context   int       // prompt + generation limit (0 = the model's positions)
	maxBody   int64     // request body limit in bytes
	maxQueue  int       // requests waiting for the model at most
	repPen    float64   // default repetition penalty
}

// bodyReadTimeout bounds the upload of one request body.
const bodyReadTimeout = 30 * time.Second

// server serves one loaded model; generations run one at a time.
type server struct {
	l     *loaded
	cfg   serveConfig
	stops []int
	base  *hook.Override // the server's own plan (nil = none)
	gen   chan struct{}  // holds a token while a generation runs
	wait  atomic.Int32   // requests waiting for gen
	next  atomic.Uint64  // completion ids
	start int64
	// generated counts tokens produced (tests watch cancellation with it).
	generated atomic.Int64
	// down is the context the server runs under (nil in tests that serve
	// without serveHTTP's).
	down context.Context
}

// newServer checks the model and builds the server-wide plan.
func newServer(l *loaded, cfg serveConfig) (*server, error) {
	if l.tok == nil {
		return nil, errNoTokenizer(l.dir)
	}
	if cfg.maxTokens <= 0 {
		cfg.maxTokens = 1024
	}
	if cfg.maxBody <= 0 {
		cfg.maxBody = 1 << 20
	}
	if cfg.maxQueue <= 0 {
		cfg.maxQueue = 16
	}
	if cfg.context <= 0 {
		cfg.context = l.model.Config.MaxPositions
	}
	if cfg.context <= 0 {
		return nil, fmt.Errorf("%s: unknown context length: pass --context", l.dir)
	}
	s := &server{l: l, cfg: cfg, stops: newRunner(l).EOS(), gen: make(chan struct{}, 1), start: time.Now().Unix()}
	if cfg.plan.sets != nil {
		if err := cfg.plan.sets.Validate(l.model.Layers(), l.model.Neurons()); err != nil {
			return nil, err
		}
	}
	base, err := cfg.plan.build(nil, cfg.plan.seed, l.model.Layers(), l.model.Neurons())
	if err != nil {
		return nil, fmt.Errorf("--induce: %s", strings.TrimPrefix(err.Error(), "npti: "))
	}
	s.base = base
	return s, nil
}

// handler routes the OpenAI endpoints.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/models", s.onModels)
	mux.HandleFunc("/v1/models/{id...}", s.onModels)
	mux.HandleFunc("/v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { s.onCompletion(w, r, false) })
	mux.HandleFunc("/v1/completions", func(w http.ResponseWriter, r *http.Request) { s.onCompletion(w, r, true) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "invalid_request_error", msg: "unknown path " + r.URL.Path})
	})
	return mux
}

// serveHTTP serves h on ln until ctx ends, then shuts down gracefully:
// request contexts derive from ctx, so running generations stop too.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

func (s *server) onModels(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error", msg: "use GET for /v1/models"})
		return
	}
	model := map[string]any{"id": s.cfg.name, "object": "model", "created": s.start, "owned_by": "npti"}
	if id := r.PathValue("id"); id != "" { // GET /v1/models/{id}
		if id != s.cfg.name {
			writeError(w, &apiError{status: http.StatusNotFound, typ: "invalid_request_error", param: "model", code: "model_not_found",
				msg: fmt.Sprintf("model %q is not served here (this server serves %q)", id, s.cfg.name)})
			return
		}
		writeJSON(w, http.StatusOK, model)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{model}})
}

// genJob is one prepared generation.
type genJob struct {
	prompt []int
	stop   []string // stop strings: the text ends before the first
	legacy bool     // a /v1/completions request
	opts   inference.GenerateOptions
}

// onCompletion answers POST /v1/chat/completions, or with legacy
// /v1/completions (a prompt, no chat template).
func (s *server) onCompletion(w http.ResponseWriter, r *http.Request, legacy bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error", msg: "use POST for " + r.URL.Path})
		return
	}
	// A time limit on reading the body only: a server-wide ReadTimeout
	// would also cancel long generations.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
	req, err := decodeChatRequest(http.MaxBytesReader(w, r.Body, s.cfg.maxBody), s.cfg.maxBody, legacy)
	rc.SetReadDeadline(time.Time{})
	if err != nil {
		writeError(w, err)
		return
	}
	job, err := s.prepare(&req)
	if err != nil {
		writeError(w, err)
		return
	}
	if n := s.wait.Add(1); int(n) > s.cfg.maxQueue {
		s.wait.Add(-1)
		w.Header().Set("Retry-After", "1")
		writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "server_error", msg: "server busy: too many queued requests"})
		return
	}
	select {
	case s.gen <- struct{}{}:
		s.wait.Add(-1)
		defer func() { <-s.gen }()
	case <-r.Context().Done():
		s.wait.Add(-1)
		if s.shuttingDown() {
			writeError(w, errShutdown)
		}
		return
	}
	if req.Stream {
		s.stream(w, r, &req, job)
		return
	}
	s.complete(w, r, job)
}

// prepare renders the prompt and fills the generation options.
func (s *server) prepare(req *chatRequest) (*genJob, error) {
	if req.Model != "" && req.Model != s.cfg.name {
		return nil, &apiError{status: http.StatusNotFound, typ: "invalid_request_error", param: "model", code: "model_not_found",
			msg: fmt.Sprintf("model %q is not served here (this server serves %q)", req.Model, s.cfg.name)}
	}
	prompt, err := s.promptIDs(req)
	if err != nil {
		return nil, err
	}
	if len(prompt) == 0 {
		if req.legacy {
			return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: "prompt", msg: "the prompt is empty"}
		}
		return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: "messages", msg: "the prompt is empty: give the message some content"}
	}
	room := s.cfg.context - len(prompt)
	if room < 1 {
		return nil, badRequest("prompt of %d tokens leaves no room in the context of %d tokens", len(prompt), s.cfg.context)
	}
	maxTok := min(s.cfg.maxTokens, room)
	if n := req.maxTokens(); n > 0 {
		maxTok = min(n, maxTok)
	} else if req.legacy {
		maxTok = min(16, maxTok) // the completions API's default max_tokens (OpenAI, vLLM)
	}
	sm := inference.Sampling{Temperature: 1, TopP: 1, RepetitionPenalty: s.cfg.repPen}
	if req.Temperature != nil {
		sm.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		sm.TopP = *req.TopP
	}
	if req.TopK != nil {
		sm.TopK = *req.TopK
	}
	if req.RepetitionPenalty != nil {
		sm.RepetitionPenalty = *req.RepetitionPenalty
	}
	sm.Seed = uint64(time.Now().UnixNano())
	if req.Seed != nil {
		sm.Seed = uint64(*req.Seed)
	}
	o := s.base
	if req.NPTI != nil {
		// The add mask's draws: the request's seed, else the server's
		// (--seed), as for the server's own plan: reproducible.
		planSeed := s.cfg.plan.seed
		if req.Seed != nil {
			planSeed = uint64(*req.Seed)
		}
		if o, err = s.cfg.plan.build(req.NPTI, planSeed, s.l.model.Layers(), s.l.model.Neurons()); err != nil {
			return nil, err
		}
	}
	return &genJob{prompt: prompt, stop: req.Stop, legacy: req.legacy, opts: inference.GenerateOptions{MaxTokens: maxTok, Context: s.cfg.context, Sampling: sm,
		StopIDs: s.stops, IgnoreEOS: req.IgnoreEOS, Override: o}}, nil
}

// promptIDs renders the messages through the chat template; a model
// without one takes a single user message as plain text.
func (s *server) promptIDs(req *chatRequest) ([]int, error) {
	if req.legacy { // the text as given, with the tokenizer's own BOS
		text, err := req.promptText()
		if err != nil {
			return nil, err
		}
		ids, err := s.l.encodePrompt(text, false)
		if err != nil {
			return nil, badRequest("tokenize: %v", err)
		}
		return ids, nil
	}
	if s.l.template == nil {
		if len(req.Messages) != 1 || req.Messages[0].Role != "user" {
			return nil, badRequest("model %s has no chat template: send exactly one user message (used as plain text)", s.cfg.name)
		}
		ids, err := s.l.encodePrompt(string(req.Messages[0].Content), false)
		if err != nil {
			return nil, badRequest("tokenize: %v", err)
		}
		return ids, nil
	}
	text, err := s.l.template.Render(req.messages(), true)
	if err != nil {
		return nil, badRequest("chat template: %v", err)
	}
	ids, err := s.l.tok.Encode(text, false)
	if err != nil {
		return nil, badRequest("tokenize: %v", err)
	}
	return ids, nil
}

// finishReason is "stop" when the row ended on a stop token.
func (s *server) finishReason(gen []int, ignoreEOS bool) string {
	if n := len(gen); n > 0 && !ignoreEOS {
		for _, id := range s.stops {
			if gen[n-1] == id {
				return "stop"
			}
		}
	}
	return "length"
}

func (s *server) completionID(legacy bool) string {
	prefix := "chatcmpl"
	if legacy {
		prefix = "cmpl"
	}
	return fmt.Sprintf("%s-%d-%d", prefix, s.start, s.next.Add(1))
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// body is the OpenAI error object: message, type, param and code (null
// when not set).
func (e *apiError) body() map[string]any {
	b := map[string]any{"message": e.msg, "type": e.typ, "param": nil, "code": nil}
	if e.param != "" {
		b["param"] = e.param
	}
	if e.code != "" {
		b["code"] = e.code
	}
	return b
}

// errShutdown answers the requests a stopping server drops.
var errShutdown = &apiError{status: http.StatusServiceUnavailable, typ: "server_error", msg: "the server is shutting down"}

// shuttingDown reports whether the server's context has ended (Ctrl-C or
// SIGTERM): request contexts end with it, and a request that ends then
// was not left by its client.
func (s *server) shuttingDown() bool {
	return s.down != nil && s.down.Err() != nil
}

// writeError writes an OpenAI-style error object.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, typ: "server_error", msg: err.Error()}
	}
	writeJSON(w, ae.status, map[string]any{"error": ae.body()})
}
