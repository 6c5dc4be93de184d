package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/npti-studio/npti/analysis/judge"
)

// TestJudgeThroughServeLoopback points the judge at `npti serve` over
// loopback: persona-tiny "answers" the rubrics with persona text, which
// holds no "Rating: [[n]]", so every rating is counted as unparsable (and
// none is cached).
func TestJudgeThroughServeLoopback(t *testing.T) {
	url, s := startServer(t, serveConfig{context: 4096, maxTokens: 64})
	answers := []judge.Answer{
		{Question: "How do you spend a free evening?", Condition: "induced", Trait: "Extraversion", Pole: "high", Answer: "I call all my friends and we go dancing."},
		{Question: "How do you spend a free evening?", Condition: "unsteered", Trait: "Extraversion", Pole: "high", Answer: "I read a book."},
	}
	cachePath := filepath.Join(t.TempDir(), "cache.jsonl")
	cache, err := judge.OpenCache(cachePath)
	if err != nil {
		t.Fatal(err)
	}
	c := &judge.Client{BaseURL: url + "/v1", Model: "persona-tiny", APIKey: "sk-loopback-secret", MaxTokens: 12, Retries: 1, Cache: cache}
	js, sum, err := c.JudgeAnswers(context.Background(), answers, judge.Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range js {
		for _, r := range []judge.Rating{*j.Trait, j.Fluency} {
			if r.OK || r.Reply == "" || r.Cached {
				t.Errorf("answer %d: rating %+v", i, r)
			}
		}
	}
	t.Logf("persona-tiny as judge: %q", js[0].Trait.Reply)
	// The reply is what the engine itself writes for the rubric (greedy).
	p, _ := judge.TraitPrompt("Extraversion", 0, answers[0].Question, answers[0].Answer)
	if want := direct(t, s.l, p, 12, nil); js[0].Trait.Reply != want {
		t.Errorf("judge reply %q\nengine says %q", js[0].Trait.Reply, want)
	}
	if len(sum) != 2 || sum[0].Condition != "induced" || sum[0].Aspect != "extraversion:high" ||
		sum[0].Trait.Unparsable != 1 || sum[0].Fluency.Unparsable != 1 || sum[0].Trait.N != 0 || sum[1].Answers != 1 {
		t.Errorf("summary %+v", sum)
	}
	// Unparsable replies are not cached: a second run asks the model
	// again, and greedy decoding repeats them.
	before := s.generated.Load()
	cache2, _ := judge.OpenCache(cachePath)
	c.Cache = cache2
	js2, _, err := c.JudgeAnswers(context.Background(), answers, judge.Options{})
	if err != nil || cache2.Len() != 0 || s.generated.Load() == before || js2[1].Fluency.Cached || js2[1].Fluency.Reply != js[1].Fluency.Reply {
		t.Errorf("second run: err %v, %d cached, generated %d -> %d, %+v", err, cache2.Len(), before, s.generated.Load(), js2[1].Fluency)
	}
	if data, _ := os.ReadFile(cachePath); bytes.Contains(data, []byte("sk-loopback-secret")) {
		t.Error("cache holds the API key")
	}
}

func TestRunJudgeCLI(t *testing.T) {
	const key = "sk-cli-secret-1234"
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct{ Content string }
		}
		json.NewDecoder(r.Body).Decode(&req)
		reply := "Rating: [[3]]"
		if strings.Contains(req.Messages[0].Content, "mumble") {
			reply = "no idea"
		}
		if r.Header.Get("Authorization") != "Bearer "+key {
			reply = "Rating: [[1]]"
		}
		fmt.Fprintf(w, `{"choices":[{"message":{"role":"assistant","content":%q}}]}`, reply)
	}))
	defer fake.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "answers.jsonl")
	os.WriteFile(in, []byte(`{"question":"q","condition":"induced","trait":"Openness","pole":"low","answer":"I like routine.","seed":9}
{"question":"q","condition":"unsteered","trait":"Openness","pole":"low","answer":"mumble"}
`), 0o644)
	t.Setenv(judge.EnvAPIKey, key)
	t.Setenv(judge.EnvBaseURL, fake.URL+"/v1")
	out := filepath.Join(dir, "judged.jsonl")
	var stdout, stderr bytes.Buffer
	err := runJudge(context.Background(), []string{"--answers", in, "--model", "j", "--out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	table := stdout.String()
	if !regexp.MustCompile(`induced\s+openness:low\s+1\s+3\.00\s+-\s+1\s+0\s+3\.00`).MatchString(table) ||
		!regexp.MustCompile(`unsteered\s+openness:low\s+1\s+-\s+-\s+0\s+1\s+-\s+-\s+0\s+1`).MatchString(table) {
		t.Errorf("table:\n%s", table)
	}
	data, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(data, []byte(`"seed":9`)) || !bytes.Contains(data, []byte(`"trait_rating":{"score":3,"ok":true`)) {
		t.Errorf("judged file %s (%v)", data, err)
	}
	cache, _ := os.ReadFile(filepath.Join(dir, "answers.judge-cache.jsonl"))
	if len(cache) == 0 || bytes.Contains(cache, []byte(key)) || bytes.Contains(data, []byte(key)) {
		t.Errorf("cache %d bytes, or the key leaked", len(cache))
	}
	stdout.Reset()
	if err := runJudge(context.Background(), []string{"--answers", in, "--model", "j", "--json"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var sum []judge.Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || len(sum) != 2 || sum[1].Trait.Unparsable != 1 {
		t.Errorf("json summary %s (%v)", stdout.String(), err)
	}
	if err := runJudge(context.Background(), []string{"--model", "j"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "--answers") {
		t.Errorf("missing --answers: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServeCLIShutsDown(t *testing.T) {
	model := neuronsShared(t, "models", "persona-tiny")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--model", model, "--addr", "127.0.0.1:0",
			"--neurons", model + "/reference-neurons", "--induce", "neuroticism:low"}, &stdout, &stderr)
	}()
	re := regexp.MustCompile(`serving persona-tiny on (http://127\.0\.0\.1:\d+/v1)`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no serving line: %q %q", stdout.String(), stderr.String())
	}
	resp, err := http.Get(base + "/models")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("models: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	err = runServe(context.Background(), []string{"--model", model, "--induce", "openness:high"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--induce needs --neurons") {
		t.Errorf("induce without neurons: %v", err)
	}
}
