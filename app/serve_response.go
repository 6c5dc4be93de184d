package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// tokenUsage counts the tokens of one completion.
type tokenUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func newUsage(prompt, gen int) tokenUsage { return tokenUsage{prompt, gen, prompt + gen} }

// run generates for job under the request's context; onText (optional)
// gets each token's text as it is decoded. Generation ends early at a stop
// string: the text is cut before it and stopped reports true.
func (s *server) run(r *http.Request, job *genJob, onText func(string)) (gen []int, text string, stopped bool, err error) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	dec := s.l.tok.NewStream()
	isStop := map[int]bool{}
	for _, id := range s.stops {
		isStop[id] = !job.opts.IgnoreEOS
	}
	keep := 0 // text held back: it may be the start of a stop string
	for _, st := range job.stop {
		keep = max(keep, len(st)-1)
	}
	var all strings.Builder // the text so far
	sent := 0               // how much of it went out
	emit := func(upTo int) {
		if upTo > sent {
			if onText != nil {
				onText(all.String()[sent:upTo])
			}
			sent = upTo
		}
	}
	job.opts.OnToken = func(_, id int) {
		s.generated.Add(1)
		gen = append(gen, id)
		if stopped || isStop[id] {
			return
		}
		all.WriteString(dec.Add(id))
		if i := firstStop(all.String(), job.stop, sent); i >= 0 {
			emit(i)
			stopped = true
			cancel()
			return
		}
		emit(safeCut(all.String(), max(sent, all.Len()-keep)))
	}
	if _, err := s.l.model.Generate(ctx, [][]int{job.prompt}, job.opts); err != nil && !stopped {
		return nil, "", false, err
	}
	if !stopped {
		all.WriteString(dec.Flush())
		if i := firstStop(all.String(), job.stop, sent); i >= 0 {
			emit(i)
			stopped = true
		} else {
			emit(all.Len())
		}
	}
	return gen, all.String()[:sent], stopped, nil
}

// firstStop is where the first stop string starts in text, searching
// from just before from (stop strings never lie in text already sent, as
// the text that could start one is held back), or -1.
func firstStop(text string, stops []string, from int) int {
	best := -1
	for _, st := range stops {
		lo := max(0, from-len(st)+1)
		if i := strings.Index(text[lo:], st); i >= 0 && (best < 0 || lo+i < best) {
			best = lo + i
		}
	}
	return best
}

// safeCut moves i back to the start of a UTF-8 character.
func safeCut(text string, i int) int {
	for i > 0 && i < len(text) && !utf8.RuneStart(text[i]) {
		i--
	}
	return i
}

// finish is the finish_reason of a generation.
func (s *server) finish(gen []int, job *genJob, stopped bool) string {
	if stopped {
		return "stop"
	}
	return s.finishReason(gen, job.opts.IgnoreEOS)
}

// complete answers a non-streaming request.
func (s *server) complete(w http.ResponseWriter, r *http.Request, job *genJob) {
	gen, text, stopped, err := s.run(r, job, nil)
	if err != nil {
		switch {
		case s.shuttingDown():
			writeError(w, errShutdown)
		case r.Context().Err() == nil:
			writeError(w, fmt.Errorf("generation: %w", err))
		}
		return // else the client is gone
	}
	choice := map[string]any{"index": 0, "finish_reason": s.finish(gen, job, stopped)}
	object := "chat.completion"
	if job.legacy {
		object, choice["text"], choice["logprobs"] = "text_completion", text, nil
	} else {
		choice["message"] = map[string]string{"role": "assistant", "content": text}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": s.completionID(job.legacy), "object": object, "created": time.Now().Unix(), "model": s.cfg.name,
		"choices": []any{choice}, "usage": newUsage(len(job.prompt), len(gen)),
	})
}

// sseWriter writes chat.completion.chunk events.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	id      string
	model   string
	created int64
	usage   bool // stream_options.include_usage: "usage": null on each chunk
	legacy  bool // /v1/completions: text_completion chunks with "text"
}

// object is the chunks' object type.
func (e *sseWriter) object() string {
	if e.legacy {
		return "text_completion"
	}
	return "chat.completion.chunk"
}

// chunkWriteTimeout bounds each event's write: a client that stops
// reading without closing the connection would hold the model otherwise.
const chunkWriteTimeout = 30 * time.Second

// chunk writes one event with choices[0] = {delta, finish_reason} (for
// /v1/completions {text, logprobs, finish_reason}, the delta's content as
// text).
func (e *sseWriter) chunk(delta map[string]string, finish any) {
	choice := map[string]any{"index": 0, "delta": delta, "finish_reason": finish}
	if e.legacy {
		choice = map[string]any{"index": 0, "text": delta["content"], "logprobs": nil, "finish_reason": finish}
	}
	ev := map[string]any{"id": e.id, "object": e.object(), "created": e.created, "model": e.model, "choices": []any{choice}}
	if e.usage {
		ev["usage"] = nil
	}
	e.event(ev)
}

func (e *sseWriter) event(v any) {
	b, _ := json.Marshal(v)
	e.write(fmt.Sprintf("data: %s\n\n", b))
}

func (e *sseWriter) write(s string) {
	e.rc.SetWriteDeadline(time.Now().Add(chunkWriteTimeout))
	io.WriteString(e.w, s)
	e.rc.Flush()
}

// stream answers a streaming request with server-sent events: a first
// chunk with the role, one chunk per piece of decoded text, a final chunk
// with finish_reason, with include_usage a chunk with no choices and the
// usage, then "data: [DONE]".
func (s *server) stream(w http.ResponseWriter, r *http.Request, req *chatRequest, job *genJob) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	e := &sseWriter{w: w, rc: http.NewResponseController(w), id: s.completionID(job.legacy), model: s.cfg.name, created: time.Now().Unix(),
		usage: req.StreamOptions != nil && req.StreamOptions.IncludeUsage, legacy: job.legacy}
	if !e.legacy { // chat streams open with the role
		e.chunk(map[string]string{"role": "assistant", "content": ""}, nil)
	}
	gen, _, stopped, err := s.run(r, job, func(t string) {
		e.chunk(map[string]string{"content": t}, nil)
	})
	if err != nil {
		msg := "generation: " + err.Error()
		if s.shuttingDown() {
			msg = errShutdown.msg
		} else if r.Context().Err() != nil {
			return // the client is gone
		}
		e.event(map[string]any{"error": map[string]any{"message": msg, "type": "server_error", "param": nil, "code": nil}})
		e.write("data: [DONE]\n\n")
		return
	}
	e.chunk(map[string]string{}, s.finish(gen, job, stopped))
	if e.usage {
		e.event(map[string]any{"id": e.id, "object": e.object(), "created": e.created, "model": e.model,
			"choices": []any{}, "usage": newUsage(len(job.prompt), len(gen))})
	}
	e.write("data: [DONE]\n\n")
}
