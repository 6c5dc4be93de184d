package app

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// A repo id given as --model is downloaded from the hub (a local server in
// the hub's URL layout) into the HF cache, then loaded from the cache.
func TestCLIModelRepoIDDownload(t *testing.T) {
	src := shared(t, "models", "persona-tiny")
	var gets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /{org}/{name}/resolve/{rev}/{file}
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
		if len(parts) != 5 || parts[0] != "test-org" || parts[1] != "persona-tiny" || parts[2] != "resolve" {
			http.NotFound(w, r)
			return
		}
		data, err := os.ReadFile(filepath.Join(src, filepath.Base(parts[4])))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(data)
		w.Header().Set("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if r.Method == http.MethodGet {
			gets.Add(1)
			w.Write(data)
		}
	}))
	defer srv.Close()
	t.Setenv("HF_HOME", t.TempDir())
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_ENDPOINT", srv.URL)

	var local, fetched struct {
		IDs []int `json:"ids"`
	}
	npti(t, &local, "generate", "--model", src, "--prompt", "<s>You are", "--max-tokens", "12", "--json")
	npti(t, &fetched, "generate", "--model", "test-org/persona-tiny", "--prompt", "<s>You are", "--max-tokens", "12", "--json")
	if idList(local.IDs) != idList(fetched.IDs) || len(local.IDs) == 0 {
		t.Fatalf("downloaded model generates %v, local copy %v", fetched.IDs, local.IDs)
	}
	n := gets.Load()
	if n < 2 {
		t.Fatalf("only %d files downloaded", n)
	}
	npti(t, &fetched, "generate", "--model", "test-org/persona-tiny", "--prompt", "<s>You are", "--max-tokens", "12", "--json")
	if gets.Load() != n {
		t.Fatalf("a cached repo id was downloaded again (%d → %d GETs)", n, gets.Load())
	}
	// tokenize and bench take the repo id as generate does.
	var tokLocal, tokCached struct {
		IDs []int `json:"ids"`
	}
	npti(t, &tokLocal, "tokenize", "--model", src, "--text", "You are kind", "--json")
	npti(t, &tokCached, "tokenize", "--model", "test-org/persona-tiny", "--text", "You are kind", "--json")
	if idList(tokLocal.IDs) != idList(tokCached.IDs) || len(tokLocal.IDs) == 0 {
		t.Fatalf("tokenize of the repo id: %v, of the local copy %v", tokCached.IDs, tokLocal.IDs)
	}
	var bench struct {
		DecodeTokS float64 `json:"decode_tok_s"`
	}
	npti(t, &bench, "bench", "--model", "test-org/persona-tiny", "--runs", "1", "--batch", "1", "--length", "8", "--decode-tokens", "2", "--json")
	if !(bench.DecodeTokS > 0) || gets.Load() != n {
		t.Fatalf("bench of the cached repo id: %+v, %d → %d GETs", bench, n, gets.Load())
	}
}
