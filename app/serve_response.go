package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// tokenUsage counts the tokens of one completion.
type tokenUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func newUsage(prompt, gen int) tokenUsage { return tokenUsage{prompt, gen, prompt + gen} }

// run generates for job under the request's context.
func (s *server) run(r *http.Request, job *genJob, onToken func(id int)) ([]int, error) {
	job.opts.OnToken = func(_, id int) {
		s.generated.Add(1)
		if onToken != nil {
			onToken(id)
		}
	}
	out, err := s.l.model.Generate(r.Context(), [][]int{job.prompt}, job.opts)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// complete answers a non-streaming request.
func (s *server) complete(w http.ResponseWriter, r *http.Request, job *genJob) {
	gen, err := s.run(r, job, nil)
	if err != nil {
		if r.Context().Err() == nil {
			writeError(w, fmt.Errorf("generation: %w", err))
		}
		return // the client is gone
	}
	text := s.l.tok.Decode(gen)
	if !job.opts.IgnoreEOS {
		text = s.l.tok.Decode(stripStop(gen, s.stops))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": s.completionID(), "object": "chat.completion", "created": time.Now().Unix(), "model": s.cfg.name,
		"choices": []any{map[string]any{"index": 0, "finish_reason": s.finishReason(gen, job.opts.IgnoreEOS),
			"message": map[string]string{"role": "assistant", "content": text}}},
		"usage": newUsage(len(job.prompt), len(gen)),
	})
}

// sseWriter writes chat.completion.chunk events.
type sseWriter struct {
	w       http.ResponseWriter
	flusher http.Flusher
	id      string
	model   string
	created int64
}

// chunk writes one event with choices[0] = {delta, finish_reason}.
func (e *sseWriter) chunk(delta map[string]string, finish any, extra map[string]any) {
	ev := map[string]any{"id": e.id, "object": "chat.completion.chunk", "created": e.created, "model": e.model,
		"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	for k, v := range extra {
		ev[k] = v
	}
	e.event(ev)
}

func (e *sseWriter) event(v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(e.w, "data: %s\n\n", b)
	if e.flusher != nil {
		e.flusher.Flush()
	}
}

// stream answers a streaming request with server-sent events: a first
// chunk with the role, one chunk per piece of decoded text, a final chunk
// with finish_reason (and usage when asked), then "data: [DONE]".
func (s *server) stream(w http.ResponseWriter, r *http.Request, req *chatRequest, job *genJob) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	e := &sseWriter{w: w, flusher: fl, id: s.completionID(), model: s.cfg.name, created: time.Now().Unix()}
	e.chunk(map[string]string{"role": "assistant", "content": ""}, nil, nil)
	dec := s.l.tok.NewStream()
	isStop := map[int]bool{}
	for _, id := range s.stops {
		isStop[id] = !job.opts.IgnoreEOS
	}
	gen, err := s.run(r, job, func(id int) {
		if isStop[id] {
			return
		}
		if d := dec.Add(id); d != "" {
			e.chunk(map[string]string{"content": d}, nil, nil)
		}
	})
	if err != nil {
		if r.Context().Err() == nil {
			e.event(map[string]any{"error": map[string]any{"message": "generation: " + err.Error(), "type": "server_error"}})
			fmt.Fprint(w, "data: [DONE]\n\n")
		}
		return
	}
	if d := dec.Flush(); d != "" {
		e.chunk(map[string]string{"content": d}, nil, nil)
	}
	var extra map[string]any
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		extra = map[string]any{"usage": newUsage(len(job.prompt), len(gen))}
	}
	e.chunk(map[string]string{}, s.finishReason(gen, job.opts.IgnoreEOS), extra)
	fmt.Fprint(w, "data: [DONE]\n\n")
	if fl != nil {
		fl.Flush()
	}
}
