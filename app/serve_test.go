package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/chat"
	"github.com/npti-studio/npti/inference/hook"
)

// loadPersonaTiny loads ../shared/models/persona-tiny once for all tests
// (its compiled graphs are shared; a Model is safe for concurrent use).
func loadPersonaTiny(t *testing.T) *loaded {
	t.Helper()
	dir := neuronsShared(t, "models", "persona-tiny")
	personaOnce.Do(func() { personaLoaded, personaErr = loadModel(dir, inference.Options{}) })
	if personaErr != nil {
		t.Fatal(personaErr)
	}
	return personaLoaded
}

var (
	personaOnce   sync.Once
	personaLoaded *loaded
	personaErr    error
)

// startServer serves persona-tiny on 127.0.0.1:0 until the test ends, and
// checks that it then shuts down cleanly.
func startServer(t *testing.T, cfg serveConfig) (string, *server) {
	t.Helper()
	return startServerModel(t, loadPersonaTiny(t), cfg)
}

func startServerModel(t *testing.T, l *loaded, cfg serveConfig) (string, *server) {
	t.Helper()
	if cfg.name == "" {
		cfg.name = "persona-tiny"
	}
	s, err := newServer(l, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.down = ctx
	done := make(chan error, 1)
	go func() { done <- serveHTTP(ctx, ln, s.handler()) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("shutdown: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not shut down")
		}
	})
	return "http://" + ln.Addr().String(), s
}

// post sends a JSON body and decodes the JSON reply.
func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("reply to %s: %v", body, err)
	}
	return resp.StatusCode, m
}

// content returns choices[0].message.content of a completion.
func content(t *testing.T, m map[string]any) string {
	t.Helper()
	ch, _ := m["choices"].([]any)
	if len(ch) != 1 {
		t.Fatalf("choices in %v", m)
	}
	msg, _ := ch[0].(map[string]any)["message"].(map[string]any)
	s, ok := msg["content"].(string)
	if !ok {
		t.Fatalf("no content in %v", m)
	}
	return s
}

// direct generates with the engine itself, for parity with the server.
func direct(t *testing.T, l *loaded, prompt string, maxTok int, o *hook.Override) string {
	t.Helper()
	ids, err := l.encodePrompt(prompt, false)
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.model.Generate(context.Background(), [][]int{ids}, inference.GenerateOptions{MaxTokens: maxTok, Override: o, Context: 4096})
	if err != nil {
		t.Fatal(err)
	}
	return l.tok.Decode(stripStop(out[0], l.model.Config.EOSTokenIDs))
}

// sse reads a stream of server-sent events: the JSON of each data line,
// and whether the stream ended with [DONE].
func sse(t *testing.T, resp *http.Response) (events []map[string]any, done bool) {
	t.Helper()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || done {
			t.Fatalf("unexpected line %q (after [DONE]: %v)", line, done)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		events = append(events, ev)
	}
	return events, done
}

func TestServeStreamMatchesCompletionAndReference(t *testing.T) {
	url, _ := startServer(t, serveConfig{})
	const body = `{"model":"persona-tiny","messages":[{"role":"user","content":"<s>You are"}],"max_tokens":24,"temperature":0%s}`
	code, m := post(t, url, strings.Replace(body, "%s", "", 1))
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, m)
	}
	text := content(t, m)
	// persona-tiny's README: greedy from "<s>You are" continues with this.
	if !strings.HasPrefix(text, " a highly conscientious person who values efficiency and organization.") {
		t.Errorf("greedy text %q", text)
	}
	if u, _ := m["usage"].(map[string]any); u["completion_tokens"] != 24.0 || u["total_tokens"].(float64) <= 24 {
		t.Errorf("usage %v", m["usage"])
	}
	resp, err := http.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(strings.Replace(body, "%s", `,"stream":true,"stream_options":{"include_usage":true}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	events, done := sse(t, resp)
	if !done || len(events) < 4 {
		t.Fatalf("%d events, done %v", len(events), done)
	}
	// With include_usage, as OpenAI: "usage": null on every chunk, then
	// a last chunk with no choices and the usage.
	usage := events[len(events)-1]
	if ch, _ := usage["choices"].([]any); ch == nil || len(ch) != 0 {
		t.Errorf("usage chunk %v: want empty choices", usage)
	}
	if u, _ := usage["usage"].(map[string]any); u["completion_tokens"] != 24.0 {
		t.Errorf("usage chunk %v", usage)
	}
	events = events[:len(events)-1]
	var got strings.Builder
	for i, ev := range events {
		if u, ok := ev["usage"]; !ok || u != nil {
			t.Errorf("event %d: usage %v, want null", i, u)
		}
		ch := ev["choices"].([]any)[0].(map[string]any)
		delta := ch["delta"].(map[string]any)
		if i == 0 && delta["role"] != "assistant" {
			t.Errorf("first delta %v", delta)
		}
		if fin := ch["finish_reason"]; (fin != nil) != (i == len(events)-1) {
			t.Errorf("event %d finish_reason %v", i, fin)
		}
		s, _ := delta["content"].(string)
		got.WriteString(s)
	}
	last := events[len(events)-1]
	if last["choices"].([]any)[0].(map[string]any)["finish_reason"] != "length" {
		t.Errorf("last event %v", last)
	}
	if got.String() != text {
		t.Errorf("streamed %q\nwant     %q", got.String(), text)
	}
}

// Stop strings end the text before them, with finish_reason "stop", in
// both modes; the streamed text equals the completion's.
func TestServeStopStrings(t *testing.T) {
	url, _ := startServer(t, serveConfig{})
	const body = `{"messages":[{"role":"user","content":"<s>You are"}],"max_tokens":24,"temperature":0%s}`
	_, full := post(t, url, strings.Replace(body, "%s", "", 1))
	whole := content(t, full) // " a highly conscientious person who values efficiency and organization."
	for _, stop := range []string{`" person"`, `["zzz", "cien"]`, `"."`} {
		code, m := post(t, url, strings.Replace(body, "%s", `,"stop":`+stop, 1))
		if code != http.StatusOK {
			t.Fatalf("stop %s: status %d %v", stop, code, m)
		}
		var first string
		var list []string
		if json.Unmarshal([]byte(stop), &first) == nil {
			list = []string{first}
		} else {
			json.Unmarshal([]byte(stop), &list)
		}
		cut := len(whole)
		for _, st := range list {
			if i := strings.Index(whole, st); i >= 0 && i < cut {
				cut = i
			}
		}
		text := content(t, m)
		fin := m["choices"].([]any)[0].(map[string]any)["finish_reason"]
		if text != whole[:cut] || fin != "stop" {
			t.Errorf("stop %s: %q (%v), want %q (stop)", stop, text, fin, whole[:cut])
		}
		if u, _ := m["usage"].(map[string]any); u["completion_tokens"].(float64) >= 24 {
			t.Errorf("stop %s: generation went on to %v tokens", stop, u["completion_tokens"])
		}
		resp, err := http.Post(url+"/v1/chat/completions", "application/json",
			strings.NewReader(strings.Replace(body, "%s", `,"stream":true,"stop":`+stop, 1)))
		if err != nil {
			t.Fatal(err)
		}
		events, done := sse(t, resp)
		resp.Body.Close()
		var streamed strings.Builder
		var last any
		for _, ev := range events {
			ch := ev["choices"].([]any)[0].(map[string]any)
			s, _ := ch["delta"].(map[string]any)["content"].(string)
			streamed.WriteString(s)
			last = ch["finish_reason"]
		}
		if !done || streamed.String() != text || last != "stop" {
			t.Errorf("stop %s streamed %q (%v, done %v), want %q", stop, streamed.String(), last, done, text)
		}
	}
	for _, bad := range []struct{ field, want string }{
		{`,"stop":123`, "stop must be"}, {`,"stop":["a","b","c","d","e"]`, "at most 4"}, {`,"stop":[""]`, "must not be empty"},
		{`,"logprobs":true`, "logprobs is not supported"}, {`,"tools":[{"type":"function"}]`, "tools is not supported"},
		{`,"frequency_penalty":0.5`, "frequency_penalty is not supported"},
		{`,"response_format":{"type":"json_object"}`, "response_format is not supported"},
		{`,"npti":{"gamma_typo":1}`, "gamma_typo"}, {`,"npti":{"induce":"openness:high:1e300"}`, "must lie in [0, 100]"},
		{`,"stream_options":{"include_usage":true}`, "only allowed when stream is true"},
	} {
		code, m := post(t, url, strings.Replace(body, "%s", bad.field, 1))
		e, _ := m["error"].(map[string]any)
		if msg, _ := e["message"].(string); code != http.StatusBadRequest || !strings.Contains(msg, bad.want) {
			t.Errorf("%s: status %d %v, want 400 saying %q", bad.field, code, m, bad.want)
		}
	}
	// Fields that ask for nothing are accepted, as OpenAI clients send
	// them by default.
	code, m := post(t, url, strings.Replace(body, "%s", `,"presence_penalty":0,"frequency_penalty":0,"logprobs":false,"stop":null,"response_format":{"type":"text"}`, 1))
	if code != http.StatusOK {
		t.Errorf("default fields: status %d %v", code, m)
	}
	// An empty message: a 400 naming messages (it used to be a 500).
	code, m = post(t, url, `{"messages":[{"role":"user","content":""}],"max_tokens":3}`)
	if e, _ := m["error"].(map[string]any); code != http.StatusBadRequest || e["param"] != "messages" {
		t.Errorf("empty message: status %d %v", code, m)
	}
}

// GET /v1/models/{id}, an unknown model's error code, and 405's Allow.
func TestServeModelRetrieve(t *testing.T) {
	url, _ := startServer(t, serveConfig{name: "persona-tiny"})
	resp, err := http.Get(url + "/v1/models/persona-tiny")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || m["id"] != "persona-tiny" || m["object"] != "model" {
		t.Errorf("retrieve: %d %v", resp.StatusCode, m)
	}
	resp, err = http.Get(url + "/v1/models/other")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if e, _ := m["error"].(map[string]any); resp.StatusCode != http.StatusNotFound || e["code"] != "model_not_found" {
		t.Errorf("unknown model: %d %v", resp.StatusCode, m)
	}
	resp, err = http.Get(url + "/v1/chat/completions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("GET chat: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestServeNPTIPlanPerRequestAndServerWide(t *testing.T) {
	neurons := neuronsShared(t, "models", "persona-tiny", "reference-neurons")
	plan, err := servePlanFromFlags(neurons, "", 1.4, 0.9, "generated", "skip", 0)
	if err != nil {
		t.Fatal(err)
	}
	url, s := startServer(t, serveConfig{plan: plan})
	const req = `{"messages":[{"role":"user","content":"<s>You are"}],"max_tokens":40,"temperature":0%s}`
	_, m := post(t, url, strings.Replace(req, "%s", "", 1))
	plain := content(t, m)
	code, m := post(t, url, strings.Replace(req, "%s", `,"npti":{"induce":"extraversion:high","gamma":1,"mask_fraction":1}`, 1))
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, m)
	}
	steered := content(t, m)
	if steered == plain {
		t.Fatalf("steering changed nothing: %q", plain)
	}
	o, err := inductionOverride(s.l.model, neurons, "extraversion", "high", 1, 1, "generated", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := direct(t, s.l, "<s>You are", 40, o); steered != want {
		t.Errorf("server steered %q\nengine steered %q", steered, want)
	}
	if want := direct(t, s.l, "<s>You are", 40, nil); plain != want {
		t.Errorf("server plain %q\nengine plain %q", plain, want)
	}
	// The same plan as the server's own: requests get it by default and
	// can switch it off with "none".
	plan, err = servePlanFromFlags(neurons, "extraversion:high", 1, 1, "generated", "skip", 0)
	if err != nil {
		t.Fatal(err)
	}
	url2, _ := startServer(t, serveConfig{plan: plan})
	if _, m := post(t, url2, strings.Replace(req, "%s", "", 1)); content(t, m) != steered {
		t.Errorf("server-wide plan gave %q", content(t, m))
	}
	if _, m := post(t, url2, strings.Replace(req, "%s", `,"npti":{"induce":"none"}`, 1)); content(t, m) != plain {
		t.Errorf("npti none gave %q", content(t, m))
	}
}

func TestServeErrors(t *testing.T) {
	url, _ := startServer(t, serveConfig{maxBody: 4096})
	user := `"messages":[{"role":"user","content":"<s>You are"}]`
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{` + user + `,}`, 400, "not a valid chat request"},
		{`{` + user + `} {}`, 400, "after the JSON object"},
		{`{"messages":[]}`, 400, "at least one message"},
		{`{"messages":[{"role":"system","content":"be nice"},{"role":"user","content":"hi"}]}`, 400, "has no chat template"},
		{`{"messages":[{"role":"wizard","content":"hi"}]}`, 400, "unknown role"},
		{`{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, 400, "only text"},
		{`{"model":"gpt-4o",` + user + `}`, 404, `model "gpt-4o" is not served here`},
		{`{` + user + `,"temperature":3}`, 400, "temperature"},
		{`{` + user + `,"n":2}`, 400, "n must be 1"},
		{`{` + user + `,"npti":{"induce":"extraversion:high"}}`, 400, "without --neurons"},
		{`{"messages":[{"role":"user","content":"` + strings.Repeat("x", 5000) + `"}]}`, 413, "larger than 4096 bytes"},
		{`{"messages":[{"role":"user","content":"` + strings.Repeat("zq ", 400) + `"}]}`, 400, "context of 256 tokens"},
	} {
		code, m := post(t, url, tc.body)
		e, _ := m["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if code != tc.status || !strings.Contains(msg, tc.want) || e["type"] == nil {
			t.Errorf("%.60s: %d %v; want %d %q", tc.body, code, m, tc.status, tc.want)
		}
	}
	resp, err := http.Get(url + "/v1/chat/completions")
	if err == nil {
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET chat: %v %v", resp, err)
	}
	resp, err = http.Get(url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var models struct {
		Data []struct{ ID, Object string }
	}
	json.NewDecoder(resp.Body).Decode(&models)
	if len(models.Data) != 1 || models.Data[0].ID != "persona-tiny" || models.Data[0].Object != "model" {
		t.Errorf("models %+v", models)
	}
}

// TestServeDisconnectCancels: a client that goes away mid-stream stops the
// generation and frees the model for the next request.
func TestServeDisconnectCancels(t *testing.T) {
	url, s := startServer(t, serveConfig{context: 4096, maxTokens: 4000})
	ctx, cancel := context.WithCancel(context.Background())
	body := `{"messages":[{"role":"user","content":"<s>You"}],"max_tokens":4000,"ignore_eos":true,"stream":true}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	for range 6 { // a few events: generation is under way
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	resp.Body.Close()
	select {
	case s.gen <- struct{}{}: // the model is free again
		<-s.gen
	case <-time.After(20 * time.Second):
		t.Fatal("generation still holds the model")
	}
	if n := s.generated.Load(); n >= 4000 {
		t.Errorf("generated %d tokens after the client left", n)
	}
	if code, m := post(t, url, `{"messages":[{"role":"user","content":"<s>You are"}],"max_tokens":4,"temperature":0}`); code != 200 {
		t.Errorf("next request: %d %v", code, m)
	}
}

// TestServeShutdownStopsGeneration: cancelling the server's context ends
// a running generation and the server returns promptly.
func TestServeShutdownStopsGeneration(t *testing.T) {
	s, err := newServer(loadPersonaTiny(t), serveConfig{name: "persona-tiny", context: 4096, maxTokens: 4000})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.down = ctx
	done := make(chan error, 1)
	go func() { done <- serveHTTP(ctx, ln, s.handler()) }()
	// A request waiting in the queue behind the stream is answered 503
	// with an error object when the server stops (it used to get an empty
	// 200).
	queued := make(chan *http.Response, 1)
	go func() {
		for s.generated.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		r, err := http.Post("http://"+ln.Addr().String()+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"messages":[{"role":"user","content":"<s>You"}],"max_tokens":10}`))
		if err != nil {
			t.Error(err)
		}
		queued <- r
	}()
	body := `{"messages":[{"role":"user","content":"<s>You"}],"max_tokens":4000,"ignore_eos":true,"stream":true}`
	resp, err := http.Post("http://"+ln.Addr().String()+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for range 6 {
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); s.wait.Load() == 0; time.Sleep(time.Millisecond) { // the second request is queued
		if time.Now().After(deadline) {
			t.Fatal("the second request never queued")
		}
	}
	cancel()
	// The stream ends with an error event and [DONE], not silently.
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "shutting down") || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("stream after shutdown ends with %q", tail(string(rest), 200))
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server still running")
	}
	if n := s.generated.Load(); n >= 4000 {
		t.Errorf("generation ran to the end (%d tokens)", n)
	}
	if r := <-queued; r != nil {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		r.Body.Close()
		if e, _ := m["error"].(map[string]any); r.StatusCode != http.StatusServiceUnavailable || e == nil {
			t.Errorf("queued request at shutdown: %d %v", r.StatusCode, m)
		}
	}
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// TestServeChatTemplate renders multi-turn messages through a chat
// template (a tiny one given to persona-tiny here).
func TestServeChatTemplate(t *testing.T) {
	l := *loadPersonaTiny(t)
	tpl, err := chat.FromString("<s>{% for m in messages %}{% if m.role == 'user' %}{{ m.content }}{% endif %}{% endfor %}"+
		"{% if add_generation_prompt %} You are{% endif %}", nil)
	if err != nil {
		t.Fatal(err)
	}
	l.template = tpl
	url, s := startServerModel(t, &l, serveConfig{})
	code, m := post(t, url, `{"messages":[{"role":"system","content":"ignored"},{"role":"user","content":"Your"},`+
		`{"role":"assistant","content":"ignored too"},{"role":"user","content":" friends say"}],"max_tokens":20,"temperature":0}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, m)
	}
	if want := direct(t, s.l, "<s>Your friends say You are", 20, nil); content(t, m) != want {
		t.Errorf("templated %q\nwant      %q", content(t, m), want)
	}
}

// serve refuses settings every request would fail on before it loads the
// model (a negative repetition penalty used to start a server whose every
// request failed).
func TestServeFlagsChecked(t *testing.T) {
	model := neuronsShared(t, "models", "persona-tiny")
	neurons := neuronsShared(t, "models", "persona-tiny", "reference-neurons")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--repetition-penalty", "-1"}, "--repetition-penalty"},
		{[]string{"--max-tokens", "-5"}, "--max-tokens"},
		{[]string{"--max-body", "-1"}, "--max-body"},
		{[]string{"--context", "-3"}, "--context"},
		{[]string{"--gamma", "1e300"}, "--gamma"},
		{[]string{"--neurons", neurons, "--induce", "openness:high:-2"}, "--induce"},
	} {
		// A check that regressed would start the server: it gets 10 s,
		// then the test fails instead of hanging.
		var out, errb bytes.Buffer
		args := append([]string{"serve", "--model", model, "--addr", "127.0.0.1:0"}, c.args...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := runServe(ctx, args[1:], &out, &errb)
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.HasPrefix(err.Error(), "plan:") {
			t.Errorf("serve %v: error %v", c.args, err)
		}
	}
}

// /v1/completions: a prompt continued as text (the same ids as a chat
// request's plain-text prompt), text_completion objects, streamed or not,
// with stop strings; messages and multiple prompts are refused.
func TestServeLegacyCompletions(t *testing.T) {
	url, _ := startServer(t, serveConfig{})
	_, chatResp := post(t, url, `{"messages":[{"role":"user","content":"You are"}],"max_tokens":12,"temperature":0}`)
	want := content(t, chatResp)
	postTo := func(body string) (int, map[string]any) {
		resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	code, m := postTo(`{"model":"persona-tiny","prompt":"You are","max_tokens":12,"temperature":0}`)
	if code != http.StatusOK || m["object"] != "text_completion" || !strings.HasPrefix(m["id"].(string), "cmpl-") {
		t.Fatalf("completion: %d %v", code, m)
	}
	ch := m["choices"].([]any)[0].(map[string]any)
	if ch["text"] != want || ch["finish_reason"] != "length" {
		t.Errorf("completion text %q (%v), want the chat's %q", ch["text"], ch["finish_reason"], want)
	}
	code, m = postTo(`{"prompt":["You are"],"max_tokens":12,"temperature":0,"stop":" "}`)
	ch = m["choices"].([]any)[0].(map[string]any)
	if code != http.StatusOK || ch["finish_reason"] != "stop" || strings.Contains(ch["text"].(string), " ") {
		t.Errorf("stop at a space: %d %v", code, m)
	}
	resp, err := http.Post(url+"/v1/completions", "application/json",
		strings.NewReader(`{"prompt":"You are","max_tokens":12,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	events, done := sse(t, resp)
	resp.Body.Close()
	var got strings.Builder
	for _, ev := range events[:len(events)-1] {
		c := ev["choices"].([]any)[0].(map[string]any)
		if ev["object"] != "text_completion" {
			t.Fatalf("chunk %v", ev)
		}
		s, _ := c["text"].(string)
		got.WriteString(s)
	}
	if u, _ := events[len(events)-1]["usage"].(map[string]any); !done || got.String() != want || u["completion_tokens"] != 12.0 {
		t.Errorf("streamed %q (done %v, last %v), want %q", got.String(), done, events[len(events)-1], want)
	}
	// Without max_tokens, 16 tokens, as the completions API's default.
	if code, m = postTo(`{"prompt":"You are","temperature":0,"ignore_eos":true}`); code != http.StatusOK ||
		m["usage"].(map[string]any)["completion_tokens"] != 16.0 {
		t.Errorf("default length: %d %v", code, m)
	}
	for _, bad := range []string{`{"messages":[{"role":"user","content":"x"}]}`, `{"prompt":["a","b"]}`, `{"prompt":[1,2,3]}`,
		`{"prompt":"x","echo":true}`, `{"prompt":"x","logprobs":5}`, `{"prompt":"x","best_of":2}`} {
		if code, m := postTo(bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d %v, want 400", bad, code, m)
		}
	}
}
