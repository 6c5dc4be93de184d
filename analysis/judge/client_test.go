package judge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

const secretKey = "sk-test-5ecret-d0-not-leak"

// fakeJudge is an OpenAI-compatible endpoint with canned replies: the
// trait rubric gets "Rating: [[n]]" with n the answer's length in words
// (capped at 5), the fluency rubric 5, and answers containing "garble" a
// reply without a rating.
type fakeJudge struct {
	t        *testing.T
	calls    atomic.Int32
	inFlight atomic.Int32
	maxIn    atomic.Int32
	fail     func(call int32, w http.ResponseWriter) bool // writes an error reply when true
}

func (f *fakeJudge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	in := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for m := f.maxIn.Load(); in > m && !f.maxIn.CompareAndSwap(m, in); m = f.maxIn.Load() {
	}
	if f.fail != nil && f.fail(n, w) {
		return
	}
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+secretKey {
		http.Error(w, `{"error":{"message":"bad path or key"}}`, http.StatusUnauthorized)
		return
	}
	var req chatReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "judge-x" || req.Temperature != 0 || len(req.Messages) != 1 {
		f.t.Errorf("bad request %+v (%v)", req, err)
	}
	time.Sleep(2 * time.Millisecond) // let workers overlap
	prompt := req.Messages[0].Content
	answer := prompt[strings.Index(prompt, "[Answer]\n")+9 : strings.Index(prompt, "\n[End of answer]")]
	reply := "Fluent enough. Rating: [[5]]"
	switch {
	case strings.Contains(answer, "garble"):
		reply = "I cannot rate this."
	case strings.Contains(prompt, "Target: low neuroticism"):
		reply = "Calm throughout. Rating: [[1]]"
	case strings.Contains(prompt, "psychologist"):
		reply = fmt.Sprintf("Shows it. Rating: [[%d]]", min(len(strings.Fields(answer)), 5))
	}
	json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": reply}}}})
}

func newFake(t *testing.T) (*fakeJudge, *httptest.Server) {
	f := &fakeJudge{t: t}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func testClient(srv *httptest.Server, cache *Cache) *Client {
	return &Client{BaseURL: srv.URL + "/v1/", Model: "judge-x", APIKey: secretKey, Retries: 0, Backoff: time.Millisecond, Cache: cache}
}

func sampleAnswers() []Answer {
	return []Answer{
		{Question: "q1", Condition: "steered", Trait: "extraversion", Pole: "high", Answer: "I love big parties"},
		{Question: "q2", Condition: "steered", Trait: "Extraversion", Pole: "high", Answer: "Yes indeed"},
		{Question: "q1", Condition: "baseline", Trait: "extraversion", Pole: "high", Answer: "garble garble"},
		{Question: "q3", Condition: "plain", Answer: "No trait here"},
	}
}

func TestJudgeAnswersFakeJudgeAndCache(t *testing.T) {
	f, srv := newFake(t)
	cachePath := filepath.Join(t.TempDir(), "cache.jsonl")
	cache, err := OpenCache(cachePath)
	if err != nil {
		t.Fatal(err)
	}
	var progress atomic.Int32
	js, sum, err := testClient(srv, cache).JudgeAnswers(context.Background(), sampleAnswers(),
		Options{Concurrency: 2, Progress: func(done, total int) { progress.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls.Load() != 7 || progress.Load() != 7 || f.maxIn.Load() > 2 {
		t.Errorf("calls %d, progress %d, max in flight %d; want 7, 7, <= 2", f.calls.Load(), progress.Load(), f.maxIn.Load())
	}
	if js[0].Trait.Score != 4 || js[1].Trait.Score != 2 || js[3].Trait != nil || js[2].Trait.OK || js[2].Fluency.OK {
		t.Errorf("ratings %+v", js)
	}
	want := []Summary{
		{Condition: "steered", Aspect: "extraversion:high", Answers: 2,
			Trait: Stat{N: 2, Mean: 3, SD: math.Sqrt2}, Fluency: Stat{N: 2, Mean: 5}},
		{Condition: "baseline", Aspect: "extraversion:high", Answers: 1,
			Trait: Stat{Unparsable: 1}, Fluency: Stat{Unparsable: 1}},
		{Condition: "plain", Answers: 1, Fluency: Stat{N: 1, Mean: 5}},
	}
	if fmt.Sprint(sum) != fmt.Sprint(want) {
		t.Errorf("summary\n%+v\nwant\n%+v", sum, want)
	}
	// A second run from the reopened file asks again only for the two
	// unparsable replies, which were not cached (and still counts them).
	cache2, err := OpenCache(cachePath)
	if err != nil || cache2.Len() != 5 {
		t.Fatalf("reopened cache: %v entries, %v; want the 5 rated replies", cache2.Len(), err)
	}
	js2, sum2, err := testClient(srv, cache2).JudgeAnswers(context.Background(), sampleAnswers(), Options{})
	if err != nil || f.calls.Load() != 9 || !js2[0].Trait.Cached || js2[2].Trait.Cached || fmt.Sprint(sum2) != fmt.Sprint(sum) {
		t.Errorf("cached run: err %v, calls %d, cached %v/%v, summary %+v", err, f.calls.Load(), js2[0].Trait.Cached, js2[2].Trait.Cached, sum2)
	}
	data, _ := os.ReadFile(cachePath)
	if strings.Contains(string(data), secretKey) || strings.Contains(string(data), srv.URL) {
		t.Error("cache file holds the key or the endpoint")
	}
}

func TestRetriesOn503And429(t *testing.T) {
	f, srv := newFake(t)
	f.fail = func(n int32, w http.ResponseWriter) bool {
		switch n {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		}
		return n <= 2
	}
	c := testClient(srv, nil)
	c.Retries = 2
	reply, _, err := c.Complete(context.Background(), FluencyPrompt("q", "a"))
	if err != nil || reply != "Fluent enough. Rating: [[5]]" || f.calls.Load() != 3 {
		t.Fatalf("reply %q, err %v, calls %d", reply, err, f.calls.Load())
	}
	// One retry is not enough for two failures.
	f.calls.Store(0)
	c.Retries = 1
	_, _, err = c.Complete(context.Background(), FluencyPrompt("q", "a"))
	if err == nil || !strings.Contains(err.Error(), "HTTP 429") || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Errorf("error %v", err)
	}
	// 408 and 409 are retried too, as the OpenAI SDKs do.
	f.calls.Store(0)
	f.fail = func(n int32, w http.ResponseWriter) bool {
		if n > 2 {
			return false
		}
		w.WriteHeader(map[int32]int{1: http.StatusRequestTimeout, 2: http.StatusConflict}[n])
		return true
	}
	c.Retries = 2
	if _, _, err = c.Complete(context.Background(), FluencyPrompt("q", "b")); err != nil || f.calls.Load() != 3 {
		t.Errorf("408, 409: err %v after %d calls", err, f.calls.Load())
	}
	// A long error message is cut between characters, not inside one.
	f.calls.Store(0)
	f.fail = func(n int32, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "x"+strings.Repeat("é", 400)) // byte 300 falls inside an é
		return true
	}
	if _, _, err = c.Complete(context.Background(), "y"); err == nil || !utf8.ValidString(err.Error()) {
		t.Errorf("long error: %v (valid UTF-8: %v)", err, err != nil && utf8.ValidString(err.Error()))
	}
	// A 400 is not retried.
	f.calls.Store(0)
	f.fail = func(n int32, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusBadRequest)
		return true
	}
	c.Retries = 3
	if _, _, err = c.Complete(context.Background(), "x"); err == nil || f.calls.Load() != 1 {
		t.Errorf("400: err %v after %d calls", err, f.calls.Load())
	}
}

func TestTimeoutIsRetriedThenFails(t *testing.T) {
	f, srv := newFake(t)
	f.fail = func(_ int32, w http.ResponseWriter) bool { time.Sleep(300 * time.Millisecond); return true }
	c := testClient(srv, nil)
	c.Timeout, c.Retries = 30*time.Millisecond, 1
	start := time.Now()
	_, _, err := c.Complete(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "no answer within 30ms") || f.calls.Load() != 2 {
		t.Errorf("err %v after %d calls", err, f.calls.Load())
	}
	if el := time.Since(start); el > 250*time.Millisecond {
		t.Errorf("timeouts took %v", el)
	}
	// A cancelled run stops at once, with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := testClient(srv, nil).JudgeAnswers(ctx, sampleAnswers(), Options{}); err == nil {
		t.Error("cancelled run succeeded")
	}
}

func TestKeyNeverInErrors(t *testing.T) {
	f, srv := newFake(t)
	// A server that echoes the credentials back in its error message.
	f.fail = func(_ int32, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"key %s is invalid", "type":"auth"}}`, strings.Repeat(secretKey, 40))
		return true
	}
	c := testClient(srv, nil)
	_, _, err := c.Complete(context.Background(), "x")
	if err == nil || strings.Contains(err.Error(), secretKey) || strings.Contains(err.Error(), secretKey[:12]) ||
		!strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error %v", err)
	}
	// The key also stays out of transport errors.
	c = &Client{BaseURL: "http://127.0.0.1:1/" + secretKey, Model: "m", APIKey: secretKey, Timeout: time.Second}
	if _, _, err := c.Complete(context.Background(), "x"); err == nil || strings.Contains(err.Error(), secretKey) {
		t.Errorf("transport error %v", err)
	}
}

func TestNewClientFromEnv(t *testing.T) {
	t.Setenv(EnvBaseURL, "http://localhost:9/v1")
	t.Setenv(EnvModel, "gpt-judge")
	t.Setenv(EnvAPIKey, "")
	t.Setenv(EnvOpenAI, "sk-openai")
	c, err := NewClient("", "", "")
	if err != nil || c.BaseURL != "http://localhost:9/v1" || c.Model != "gpt-judge" || c.APIKey != "sk-openai" {
		t.Fatalf("%+v %v", c, err)
	}
	if c.Endpoint() != "http://localhost:9/v1/chat/completions" {
		t.Errorf("endpoint %s", c.Endpoint())
	}
	t.Setenv(EnvAPIKey, "sk-npti")
	if c, _ := NewClient("https://x/v1", "m", ""); c.APIKey != "sk-npti" || c.BaseURL != "https://x/v1" || c.Model != "m" {
		t.Errorf("flags over env: %+v", c)
	}
	t.Setenv(EnvBaseURL, "")
	if _, err := NewClient("", "m", ""); err == nil || !strings.Contains(err.Error(), EnvBaseURL) {
		t.Errorf("no base URL: %v", err)
	}
	if _, err := NewClient("ftp://x", "m", ""); err == nil {
		t.Error("ftp base URL accepted")
	}
}

func TestCacheSurvivesTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.jsonl")
	k1, k2 := CacheKey("e", []byte("p1")), CacheKey("e", []byte("p2"))
	os.WriteFile(path, []byte(`{"key":"`+k1+`","reply":"one"}`+"\n"+`{"key":"`+k2+`","rep`), 0o600)
	c, err := OpenCache(path)
	if err != nil || c.Len() != 1 {
		t.Fatalf("len %d, err %v", c.Len(), err)
	}
	if err := c.Put(k2, "two"); err != nil {
		t.Fatal(err)
	}
	c, err = OpenCache(path)
	if r, ok := c.Get(k2); err != nil || !ok || r != "two" || c.Len() != 2 {
		t.Errorf("reopened: %q %v %v len %d", r, ok, err, c.Len())
	}
	if CacheKey("e", []byte("p")) == CacheKey("ep", nil) || CacheKey("e", []byte("p")) == CacheKey("f", []byte("p")) {
		t.Error("cache keys collide")
	}
}

// TestCacheKeyHoldsRequestSettings: a reply cached under one max_tokens is
// not served to a client with another (a shorter cap can cut the rating
// off); the model and the endpoint are in the key too.
func TestCacheKeyHoldsRequestSettings(t *testing.T) {
	f, srv := newFake(t)
	cache, err := OpenCache(filepath.Join(t.TempDir(), "c.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	c := testClient(srv, cache)
	prompt := FluencyPrompt("q", "a")
	ask := func(maxTokens int) bool {
		t.Helper()
		c.MaxTokens = maxTokens
		_, cached, err := c.Complete(context.Background(), prompt)
		if err != nil {
			t.Fatal(err)
		}
		return cached
	}
	if ask(64) || !ask(64) || ask(128) || !ask(128) || !ask(64) || f.calls.Load() != 2 {
		t.Errorf("%d calls; want one per max_tokens value", f.calls.Load())
	}
	if ask(0) || !ask(DefaultMaxTokens) {
		t.Error("max_tokens 0 (the default) and DefaultMaxTokens are not the same request")
	}
	body := func(c *Client) []byte { return c.requestBody(prompt) }
	other := *c
	other.Model = "judge-y"
	if CacheKey(c.Endpoint(), body(c)) == CacheKey(other.Endpoint(), body(&other)) {
		t.Error("another model shares the cache key")
	}
}

// TestUnparsableReplyNotCached: a reply without a rating is returned but
// not cached, so the next run asks again; a rated reply is cached.
func TestUnparsableReplyNotCached(t *testing.T) {
	f, srv := newFake(t)
	cache, err := OpenCache(filepath.Join(t.TempDir(), "c.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	c := testClient(srv, cache)
	garbled := FluencyPrompt("q", "garble")
	for range 2 {
		reply, cached, err := c.Complete(context.Background(), garbled)
		if err != nil || cached || reply != "I cannot rate this." {
			t.Fatalf("reply %q, cached %v, err %v", reply, cached, err)
		}
	}
	if f.calls.Load() != 2 || cache.Len() != 0 {
		t.Errorf("%d calls, %d cached; want 2 calls and nothing cached", f.calls.Load(), cache.Len())
	}
	// An unparsable reply under the key (a cache written by an older
	// version) is not served either.
	cache.Put(CacheKey(c.Endpoint(), c.requestBody(garbled)), "no rating")
	if reply, cached, _ := c.Complete(context.Background(), garbled); cached || reply == "no rating" || f.calls.Load() != 3 {
		t.Errorf("stale unparsable entry served: %q cached %v", reply, cached)
	}
	// ... and a rated reply replaces it, in the file too.
	rated := FluencyPrompt("q", "a")
	key := CacheKey(c.Endpoint(), c.requestBody(rated))
	cache.Put(key, "no rating")
	if _, cached, _ := c.Complete(context.Background(), rated); cached || f.calls.Load() != 4 {
		t.Errorf("stale entry served (cached %v, %d calls)", cached, f.calls.Load())
	}
	reopened, err := OpenCache(cache.Path())
	if r, ok := reopened.Get(key); err != nil || !ok || r != "Fluent enough. Rating: [[5]]" {
		t.Errorf("reopened cache holds %q (%v, %v)", r, ok, err)
	}
}

// TestJudgeMultiTraitAndRuns: an answer of a two-trait plan is rated on
// both traits' rubrics (with each item's pole) and counted per trait in the
// summary; induced answers of the same plan with another scope, and with
// another γ, are summarised apart.
func TestJudgeMultiTraitAndRuns(t *testing.T) {
	f, srv := newFake(t)
	in := `{"question":"q1","condition":"induced","trait":"Extraversion","pole":"high","gamma":1,"items":[{"trait":"Extraversion","pole":"high","gamma":1},{"trait":"Neuroticism","pole":"low","gamma":1.5}],"plan":{"items":[],"mask_fraction":0.9,"scope":"generated","clamp_opposite":true,"policy":"skip","edits_hash":"aaaa"},"answer":"one two three"}
{"question":"q2","condition":"induced","trait":"Extraversion","pole":"high","gamma":1,"items":[{"trait":"Extraversion","pole":"high","gamma":1},{"trait":"Neuroticism","pole":"low","gamma":1.5}],"plan":{"items":[],"mask_fraction":0.9,"scope":"all","clamp_opposite":true,"policy":"skip","edits_hash":"aaaa"},"answer":"one two"}
{"question":"q3","condition":"induced","trait":"Extraversion","pole":"high","gamma":2,"answer":"one"}
{"question":"q4","condition":"induced","trait":"Extraversion","pole":"high","gamma":1,"answer":"one two three four"}
{"question":"q1","condition":"unsteered","trait":"Extraversion","pole":"high","items":[{"trait":"Extraversion","pole":"high","gamma":1},{"trait":"Neuroticism","pole":"low","gamma":1.5}],"answer":"one"}
`
	as, err := DecodeAnswers(strings.NewReader(in), "multi.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	js, sum, err := testClient(srv, nil).JudgeAnswers(context.Background(), as, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls.Load() != 3*2+2*1+5 {
		t.Errorf("%d judge calls, want 8 trait and 5 fluency", f.calls.Load())
	}
	j := js[0]
	if len(j.Traits) != 2 || j.Traits[0].Trait != "extraversion" || j.Traits[0].Score != 3 ||
		j.Traits[1].Trait != "neuroticism" || j.Traits[1].Pole != "low" || j.Traits[1].Score != 1 || j.Trait.Score != 3 {
		t.Fatalf("ratings of the two-trait answer: %+v / %+v", j.Traits, j.Trait)
	}
	type key struct {
		cond, asp, scope string
		gamma            float64
	}
	got := map[key]Summary{}
	for _, s := range sum {
		got[key{s.Condition, s.Aspect, s.Scope, s.Gamma}] = s
	}
	if len(got) != len(sum) || len(sum) != 8 {
		t.Errorf("%d summary rows (%d distinct), want 8: %+v", len(sum), len(got), sum)
	}
	n := got[key{"induced", "neuroticism:low", "generated", 1.5}]
	if n.Answers != 1 || n.Trait.Mean != 1 || n.Plan != "extraversion:high:1,neuroticism:low:1.5" || n.MaskFraction != 0.9 || n.Clamp != "on" {
		t.Errorf("neuroticism row %+v", n)
	}
	if a := got[key{"induced", "neuroticism:low", "all", 1.5}]; a.Answers != 1 || a.Trait.N != 1 {
		t.Errorf("the scope-all run is not its own row: %+v", a)
	}
	if a, b := got[key{"induced", "extraversion:high", "", 2}], got[key{"induced", "extraversion:high", "", 1}]; a.Answers != 1 || b.Answers != 1 || b.Trait.Mean != 4 {
		t.Errorf("single-trait runs at γ 2 and 1 pooled: %+v / %+v", a, b)
	}
	if u := got[key{"unsteered", "neuroticism:low", "", 0}]; u.Answers != 1 || u.Plan != "" {
		t.Errorf("unsteered neuroticism row %+v", u)
	}
	var buf strings.Builder
	if err := WriteJudged(&buf, js[:1]); err != nil || !strings.Contains(buf.String(), `"trait_ratings":[{"trait":"extraversion","pole":"high","score":3`) ||
		!strings.Contains(buf.String(), `{"trait":"neuroticism","pole":"low","score":1`) {
		t.Errorf("judged record %s (%v)", buf.String(), err)
	}
	var tab strings.Builder
	if err := WriteTable(&tab, sum); err != nil || !strings.Contains(tab.String(), "extraversion:high:1,neuroticism:low:1.5 scope=all mask=0.9 clamp=on policy=skip edits=aaaa") {
		t.Errorf("table:\n%s", tab.String())
	}
	if _, err := DecodeAnswers(strings.NewReader(`{"answer":"a","items":[{"trait":"humour","pole":"high"}]}`), "bad.jsonl"); err == nil ||
		!strings.Contains(err.Error(), "bad.jsonl:1: item 1") {
		t.Errorf("bad item: %v", err)
	}
}
