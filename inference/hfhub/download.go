package hfhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// DefaultEndpoint is the hub used when $HF_ENDPOINT is unset.
const DefaultEndpoint = "https://huggingface.co"

// ErrNotFound is wrapped when the hub answers 404 for a required file.
var ErrNotFound = errors.New("not found on the hub")

// optionalFiles are fetched when the repository has them.
var optionalFiles = []string{
	"generation_config.json", "tokenizer.json", "tokenizer_config.json",
	"special_tokens_map.json", "tokenizer.model",
}

var (
	safeName  = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)
	commitRe  = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// downloader holds the state of one Download call.
type downloader struct {
	endpoint string
	token    string
	repoID   string
	repo     string // cache folder of the repository
	revision string
	commit   string // resolved from the first file
	progress func(file string, done, total int64)
	client   *http.Client
}

// Download fetches config.json, the tokenizer and generation files that
// exist, and the safetensors weights (single file, or the shards of
// model.safetensors.index.json) of repoID at revision ("" means "main")
// into the hub cache, and returns the snapshot directory. Files already in
// the cache are not fetched again; interrupted downloads resume from their
// .incomplete blob. The endpoint is $HF_ENDPOINT (default
// https://huggingface.co); $HF_TOKEN, when set, is sent as a bearer token.
// progress, when not nil, is called as bytes arrive (total is -1 when
// unknown).
func Download(ctx context.Context, repoID, revision string, progress func(file string, done, total int64)) (string, error) {
	if !ValidRepoID(repoID) {
		return "", fmt.Errorf("hfhub: invalid repo id %q (want org/name)", repoID)
	}
	if revision == "" {
		revision = "main"
	}
	if strings.Contains(revision, "..") || strings.HasPrefix(revision, "/") {
		return "", fmt.Errorf("hfhub: invalid revision %q", revision)
	}
	endpoint := os.Getenv("HF_ENDPOINT")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	d := &downloader{
		endpoint: strings.TrimRight(endpoint, "/"), token: os.Getenv("HF_TOKEN"),
		repoID: repoID, repo: repoDir(CacheDir(), repoID), revision: revision,
		progress: progress, client: &http.Client{},
	}
	if commitRe.MatchString(revision) {
		d.commit = revision
	}
	if err := d.run(ctx); err != nil {
		return "", fmt.Errorf("hfhub: download %s@%s: %w", repoID, revision, err)
	}
	return d.snapshot(), nil
}

// run fetches the files in order: config first (it fixes the commit).
func (d *downloader) run(ctx context.Context) error {
	if _, err := d.fetch(ctx, "config.json", true); err != nil {
		return err
	}
	for _, f := range optionalFiles {
		if _, err := d.fetch(ctx, f, false); err != nil {
			return err
		}
	}
	sharded, err := d.fetch(ctx, "model.safetensors.index.json", false)
	if err != nil {
		return err
	}
	if !sharded {
		if _, err := d.fetch(ctx, "model.safetensors", true); err != nil {
			return err
		}
	} else {
		shards, err := readIndexShards(filepath.Join(d.snapshot(), "model.safetensors.index.json"))
		if err != nil {
			return err
		}
		for _, s := range shards {
			if _, err := d.fetch(ctx, s, true); err != nil {
				return err
			}
		}
	}
	if d.revision != d.commit {
		ref := filepath.Join(d.repo, "refs", filepath.FromSlash(d.revision))
		if err := writeFileAtomic(ref, []byte(d.commit)); err != nil {
			return err
		}
	}
	return nil
}

func (d *downloader) snapshot() string {
	return filepath.Join(d.repo, "snapshots", d.commit)
}

// readIndexShards returns the distinct shard files of a safetensors
// index, sorted by name.
func readIndexShards(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	seen := map[string]bool{}
	var shards []string
	for _, s := range idx.WeightMap {
		if !safeName.MatchString(s) {
			return nil, fmt.Errorf("%s: invalid shard name %q", filepath.Base(path), s)
		}
		if !seen[s] {
			seen[s] = true
			shards = append(shards, s)
		}
	}
	if len(shards) == 0 {
		return nil, fmt.Errorf("%s: empty weight_map", filepath.Base(path))
	}
	sort.Strings(shards)
	return shards, nil
}

// fileURL returns the resolve URL of file at rev.
func (d *downloader) fileURL(rev, file string) string {
	return d.endpoint + "/" + d.repoID + "/resolve/" + url.PathEscape(rev) + "/" + url.PathEscape(file)
}

// newRequest builds a request with the user agent and token.
func (d *downloader) newRequest(ctx context.Context, method, u string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "npti-studio/hfhub")
	req.Header.Set("Accept-Encoding", "identity")
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	return req, nil
}

// statusError turns a non-success response into an error.
func statusError(file string, resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%s: %w", file, ErrNotFound)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%s: access denied (%s): gated or private repository? set HF_TOKEN", file, resp.Status)
	}
	return fmt.Errorf("%s: unexpected response %s", file, resp.Status)
}
