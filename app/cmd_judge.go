package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/npti-studio/npti/analysis/judge"
)

// runJudge implements `npti judge`: rate answers with an LLM judge.
func runJudge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("judge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	answers := fs.String("answers", "", "answers in JSON Lines ({\"question\",\"condition\",\"trait\",\"pole\",\"answer\",...})")
	baseURL := fs.String("base-url", "", "OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1 (default $"+judge.EnvBaseURL+")")
	model := fs.String("model", "", "judge model name (default $"+judge.EnvModel+")")
	out := fs.String("out", "", "write per-answer ratings to this JSON Lines file")
	cachePath := fs.String("cache", "", "reply cache file (default: <answers>.judge-cache.jsonl)")
	noCache := fs.Bool("no-cache", false, "neither read nor write the reply cache")
	concurrency := fs.Int("concurrency", judge.DefaultConcurrency, "judge requests in flight at once")
	timeout := fs.Duration("timeout", judge.DefaultTimeout, "time limit of one request")
	retries := fs.Int("retries", 3, "extra attempts after a 429, 5xx, network error or timeout")
	maxTokens := fs.Int("max-tokens", judge.DefaultMaxTokens, "cap on the judge's reply in tokens")
	keyFile := fs.String("api-key-file", "", "read the API key from this file (default $"+judge.EnvAPIKey+" or $"+judge.EnvOpenAI+")")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *answers == "" {
		return errors.New("need --answers")
	}
	// The key comes from a file or the environment, never a flag value, so
	// it does not show in process listings or shell history.
	key := ""
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("api key: %w", err)
		}
		key = strings.TrimSpace(string(b))
	}
	c, err := judge.NewClient(*baseURL, *model, key)
	if err != nil {
		return err
	}
	c.Timeout, c.Retries, c.MaxTokens = *timeout, *retries, *maxTokens
	as, err := judge.ReadAnswers(*answers)
	if err != nil {
		return err
	}
	if !*noCache {
		p := *cachePath
		if p == "" {
			p = strings.TrimSuffix(*answers, filepath.Ext(*answers)) + ".judge-cache.jsonl"
		}
		if c.Cache, err = judge.OpenCache(p); err != nil {
			return err
		}
	}
	js, sum, err := c.JudgeAnswers(ctx, as, judge.Options{Concurrency: *concurrency, Progress: judgeProgress(stderr)})
	if err != nil {
		return err
	}
	if *out != "" {
		if err := writeJudgedFile(*out, js); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(sum)
	}
	return judge.WriteTable(stdout, sum)
}

// judgeProgress reports progress on stderr at most twice a second.
func judgeProgress(w io.Writer) func(done, total int) {
	var last time.Time
	return func(done, total int) {
		if done == total || time.Since(last) > 500*time.Millisecond {
			last = time.Now()
			fmt.Fprintf(w, "\rjudged %d/%d", done, total)
			if done == total {
				fmt.Fprintln(w)
			}
		}
	}
}

// writeJudgedFile writes the ratings atomically (temp file, rename).
func writeJudgedFile(path string, js []judge.Judged) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".judged-*")
	if err != nil {
		return fmt.Errorf("judged %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := judge.WriteJudged(tmp, js); err != nil {
		tmp.Close()
		return fmt.Errorf("judged %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("judged %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("judged %s: %w", path, err)
	}
	return nil
}
