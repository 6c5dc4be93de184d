package judge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Environment variables read by NewClient for settings not given.
const (
	EnvBaseURL = "NPTI_JUDGE_BASE_URL"
	EnvModel   = "NPTI_JUDGE_MODEL"
	EnvAPIKey  = "NPTI_JUDGE_API_KEY"
	EnvOpenAI  = "OPENAI_API_KEY" // fallback for the key
)

// Defaults of a zero Client field.
const (
	DefaultTimeout   = 120 * time.Second
	DefaultBackoff   = 500 * time.Millisecond
	DefaultMaxTokens = 512
	maxBackoff       = 30 * time.Second
	maxReplyBytes    = 8 << 20
)

// Client asks an OpenAI-compatible chat-completions endpoint for ratings.
// The API key is sent as a bearer token and never appears in errors, logs
// or the cache.
type Client struct {
	// BaseURL is the API root, e.g. "https://api.openai.com/v1"; requests
	// go to BaseURL + "/chat/completions".
	BaseURL, Model, APIKey string
	// HTTP is the transport (nil = a default client).
	HTTP *http.Client
	// Timeout bounds each attempt (0 = DefaultTimeout).
	Timeout time.Duration
	// Retries is the number of extra attempts after a 429, a 5xx, a
	// network error or a timed-out attempt.
	Retries int
	// Backoff is the wait before the first retry, doubled at each retry
	// (0 = DefaultBackoff); a Retry-After header in seconds lengthens it.
	Backoff time.Duration
	// MaxTokens caps the judge's reply (0 = DefaultMaxTokens).
	MaxTokens int
	// Cache stores replies across runs (nil = none).
	Cache *Cache
}

// NewClient returns a client for the given settings, filling blanks from
// NPTI_JUDGE_BASE_URL, NPTI_JUDGE_MODEL and NPTI_JUDGE_API_KEY (then
// OPENAI_API_KEY). A key is optional (local servers need none); the base
// URL and model are required.
func NewClient(baseURL, model, apiKey string) (*Client, error) {
	c := &Client{BaseURL: firstSet(baseURL, os.Getenv(EnvBaseURL)), Model: firstSet(model, os.Getenv(EnvModel)),
		APIKey: firstSet(apiKey, os.Getenv(EnvAPIKey), os.Getenv(EnvOpenAI)), Retries: 3}
	if c.BaseURL == "" {
		return nil, fmt.Errorf("judge: no endpoint: give a base URL or set %s", EnvBaseURL)
	}
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return nil, fmt.Errorf("judge: base URL %q must start with http:// or https://", c.BaseURL)
	}
	if c.Model == "" {
		return nil, fmt.Errorf("judge: no model: give a model name or set %s", EnvModel)
	}
	return c, nil
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// Endpoint returns the chat-completions URL.
func (c *Client) Endpoint() string {
	return strings.TrimRight(c.BaseURL, "/") + "/chat/completions"
}

// Complete sends a rubric prompt as one user message at temperature 0 and
// returns the reply text; cached is true when it came from the cache. The
// cache is keyed by the endpoint and the whole request (model, prompt,
// temperature, max_tokens), and holds only replies with a valid rating
// (ParseRating): an unparsable reply (cut short by max_tokens, or a
// refusal) is returned, to be counted, but asked again next time.
func (c *Client) Complete(ctx context.Context, prompt string) (reply string, cached bool, err error) {
	key := CacheKey(c.Endpoint(), c.requestBody(prompt))
	if c.Cache != nil {
		if r, ok := c.Cache.Get(key); ok {
			if _, rated := ParseRating(r); rated {
				return r, true, nil
			}
		}
	}
	reply, err = c.completeRetrying(ctx, prompt)
	if err != nil {
		return "", false, c.scrub(err)
	}
	if _, rated := ParseRating(reply); rated && c.Cache != nil {
		if err := c.Cache.Put(key, reply); err != nil {
			return reply, false, c.scrub(err)
		}
	}
	return reply, false, nil
}

// requestBody returns the JSON request for prompt: everything the endpoint
// is sent besides the key, so everything that can change its reply.
func (c *Client) requestBody(prompt string) []byte {
	maxTok := c.MaxTokens
	if maxTok <= 0 {
		maxTok = DefaultMaxTokens
	}
	body, _ := json.Marshal(chatReq{Model: c.Model, Messages: []chatMsg{{"user", prompt}}, MaxTokens: maxTok})
	return body
}

// completeRetrying makes up to 1+Retries attempts with exponential backoff.
func (c *Client) completeRetrying(ctx context.Context, prompt string) (string, error) {
	wait := c.Backoff
	if wait <= 0 {
		wait = DefaultBackoff
	}
	for attempt := 0; ; attempt++ {
		reply, retryAfter, err := c.attempt(ctx, prompt)
		if err == nil {
			return reply, nil
		}
		var re *retryable
		if !errors.As(err, &re) || attempt >= c.Retries || ctx.Err() != nil {
			if attempt > 0 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return "", err
		}
		d := min(max(wait, retryAfter), maxBackoff)
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("judge: %w", ctx.Err())
		case <-time.After(d):
		}
		wait *= 2
	}
}

// retryable marks an error worth another attempt.
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

type chatReq struct {
	Model       string    `json:"model"`
	Messages    []chatMsg `json:"messages"`
	Temperature float64   `json:"temperature"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
}

type chatMsg struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatResp struct {
	Choices []struct {
		Message chatMsg `json:"message"`
	} `json:"choices"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// attempt makes one HTTP request; retryAfter is the server's hint.
func (c *Client) attempt(ctx context.Context, prompt string) (reply string, retryAfter time.Duration, err error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.Endpoint(), bytes.NewReader(c.requestBody(prompt)))
	if err != nil {
		return "", 0, fmt.Errorf("judge: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, fmt.Errorf("judge: %w", ctx.Err())
		}
		if actx.Err() != nil {
			return "", 0, &retryable{fmt.Errorf("judge: %s: no answer within %v", c.Endpoint(), timeout)}
		}
		return "", 0, &retryable{fmt.Errorf("judge: %w", err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		if ctx.Err() == nil {
			return "", 0, &retryable{fmt.Errorf("judge: %s: reading reply: %w", c.Endpoint(), err)}
		}
		return "", 0, fmt.Errorf("judge: %w", ctx.Err())
	}
	if len(data) > maxReplyBytes {
		return "", 0, fmt.Errorf("judge: %s: reply larger than %d bytes", c.Endpoint(), maxReplyBytes)
	}
	return c.decode(resp, data)
}

// decode turns an HTTP reply into the message text or a (retryable) error.
func (c *Client) decode(resp *http.Response, data []byte) (string, time.Duration, error) {
	var r chatResp
	jerr := json.Unmarshal(data, &r)
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(data))
		if jerr == nil && r.Error != nil {
			msg = r.Error.Message
		}
		msg = c.redact(msg) // before cutting, so no part of the key survives
		if len(msg) > 300 {
			cut := 300
			for cut > 0 && !utf8.RuneStart(msg[cut]) { // whole characters only
				cut--
			}
			msg = msg[:cut] + "…"
		}
		err := fmt.Errorf("judge: %s: HTTP %d: %s", c.Endpoint(), resp.StatusCode, msg)
		// Retried as the OpenAI SDKs do: timeouts, conflicts, rate limits
		// and server errors.
		switch code := resp.StatusCode; {
		case code == http.StatusRequestTimeout, code == http.StatusConflict, code == http.StatusTooManyRequests, code >= 500:
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			return "", time.Duration(max(secs, 0)) * time.Second, &retryable{err}
		}
		return "", 0, err
	}
	if jerr != nil {
		return "", 0, fmt.Errorf("judge: %s: bad reply JSON: %w", c.Endpoint(), jerr)
	}
	if len(r.Choices) == 0 {
		return "", 0, fmt.Errorf("judge: %s: reply has no choices", c.Endpoint())
	}
	return r.Choices[0].Message.Content, 0, nil
}

func (c *Client) redact(s string) string {
	if c.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.APIKey, "[redacted]")
}

// scrub removes the API key from an error's text. The result still answers
// errors.Is for the original chain (context.DeadlineExceeded, ...) but
// does not unwrap to the unscrubbed text.
func (c *Client) scrub(err error) error {
	if err == nil || c.APIKey == "" || !strings.Contains(err.Error(), c.APIKey) {
		return err
	}
	return &scrubbed{msg: c.redact(err.Error()), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string        { return s.msg }
func (s *scrubbed) Is(target error) bool { return errors.Is(s.err, target) }
