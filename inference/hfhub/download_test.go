package hfhub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testCommit = "0123456789abcdef0123456789abcdef01234567"

// fakeHub serves one repository in the hub's URL layout: small files
// directly with a git ETag, safetensors shards as LFS files redirected to
// a CDN path that honours Range requests.
type fakeHub struct {
	repo  string
	files map[string][]byte
	lfs   map[string]bool

	mu      sync.Mutex
	stall   string   // LFS file whose body stops a third of the way until the client goes away
	corrupt string   // LFS file served with one byte flipped
	ranges  []string // Range headers seen by the CDN
	gets    []string // files fetched from the CDN
	auth    []string // Authorization headers seen by resolve requests
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/cdn/"); ok {
		h.serveCDN(w, r, name)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+h.repo+"/resolve/")
	rev, file, _ := strings.Cut(rest, "/")
	content, exists := h.files[file]
	if !ok || (rev != "main" && rev != testCommit) || !exists {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	h.auth = append(h.auth, r.Header.Get("Authorization"))
	h.mu.Unlock()
	w.Header().Set("X-Repo-Commit", testCommit)
	if h.lfs[file] {
		w.Header().Set("X-Linked-Etag", `"`+sha(content)+`"`)
		w.Header().Set("X-Linked-Size", itoa(len(content)))
		http.Redirect(w, r, "/cdn/"+file, http.StatusFound)
		return
	}
	git := sha1.Sum(content)
	w.Header().Set("ETag", `"`+hex.EncodeToString(git[:])+`"`)
	http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(content))
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request, name string) {
	h.mu.Lock()
	h.ranges = append(h.ranges, r.Header.Get("Range"))
	h.gets = append(h.gets, name)
	stall := h.stall == name
	h.mu.Unlock()
	content := h.files[name]
	if h.corrupt == name {
		content = append([]byte(nil), content...)
		content[0] ^= 1
	}
	if !stall {
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(content))
		return
	}
	w.Header().Set("Content-Length", itoa(len(content)))
	w.WriteHeader(http.StatusOK)
	w.Write(content[:len(content)/3])
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

func itoa(n int) string { return strconv.Itoa(n) }

func newFakeHub(t *testing.T) (*fakeHub, *httptest.Server) {
	rng := rand.New(rand.NewSource(1))
	shard := func(n int) []byte { b := make([]byte, n); rng.Read(b); return b }
	h := &fakeHub{
		repo: "org/tiny",
		files: map[string][]byte{
			"config.json":    []byte(`{"architectures":["LlamaForCausalLM"]}`),
			"tokenizer.json": []byte(`{"model":{}}`),
			"model.safetensors.index.json": []byte(`{"metadata":{},"weight_map":{
				"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors",
				"c":"model-00001-of-00002.safetensors"}}`),
			"model-00001-of-00002.safetensors": shard(300_000),
			"model-00002-of-00002.safetensors": shard(700_000),
		},
		lfs: map[string]bool{"model-00001-of-00002.safetensors": true, "model-00002-of-00002.safetensors": true},
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	home := t.TempDir()
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", home)
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_TOKEN", "secret")
	return h, srv
}

func TestDownload(t *testing.T) {
	h, _ := newFakeHub(t)
	var last sync.Map
	dir, err := Download(context.Background(), "org/tiny", "", func(file string, done, total int64) {
		last.Store(file, [2]int64{done, total})
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range h.files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v; want %d bytes", name, len(got), err, len(want))
		}
		if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is not a symlink into blobs/", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "generation_config.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent optional file: %v", err)
	}
	if p, _ := last.Load("model-00002-of-00002.safetensors"); p != [2]int64{700_000, 700_000} {
		t.Errorf("last progress of shard 2 = %v", p)
	}
	if filepath.Base(dir) != testCommit {
		t.Errorf("snapshot dir %s not named after the commit", dir)
	}
	if ref, err := os.ReadFile(filepath.Join(dir, "..", "..", "refs", "main")); string(ref) != testCommit {
		t.Errorf("refs/main = %q, %v", ref, err)
	}
	if got, err := Resolve("org/tiny"); err != nil || got != dir {
		t.Errorf("Resolve = %q, %v; want %q", got, err, dir)
	}
	for _, a := range h.auth {
		if a != "Bearer secret" {
			t.Fatalf("Authorization header %q, want the HF_TOKEN bearer", a)
		}
	}
	// A second download finds everything cached.
	h.gets = nil
	if _, err := Download(context.Background(), "org/tiny", "main", nil); err != nil {
		t.Fatal(err)
	}
	if len(h.gets) != 0 {
		t.Errorf("second download fetched %v again", h.gets)
	}
}

func TestDownloadCancelResume(t *testing.T) {
	h, _ := newFakeHub(t)
	const shard = "model-00002-of-00002.safetensors"
	h.stall = shard
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Download(ctx, "org/tiny", "main", func(file string, done, total int64) {
		if file == shard && done > 0 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	repo := repoDir(CacheDir(), "org/tiny")
	if _, err := os.Lstat(filepath.Join(repo, "snapshots", testCommit, shard)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cancelled shard is in the snapshot: %v", err)
	}
	if _, err := os.Stat(filepath.Join(repo, "refs", "main")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refs/main written by a cancelled download")
	}
	part := filepath.Join(repo, "blobs", sha(h.files[shard])+".incomplete")
	fi, err := os.Stat(part)
	if err != nil || fi.Size() == 0 || fi.Size() >= 700_000 {
		t.Fatalf("partial blob %v, %v; want some bytes kept for resuming", fi, err)
	}
	h.stall, h.ranges = "", nil
	dir, err := Download(context.Background(), "org/tiny", "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "bytes=" + itoa(int(fi.Size())) + "-"; len(h.ranges) != 1 || h.ranges[0] != want {
		t.Errorf("resume ranges %v, want [%s]", h.ranges, want)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, shard)); !bytes.Equal(got, h.files[shard]) {
		t.Errorf("resumed shard differs")
	}
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".incomplete left after success")
	}
}

func TestDownloadErrors(t *testing.T) {
	h, _ := newFakeHub(t)
	if _, err := Download(context.Background(), "org/absent", "main", nil); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("absent repo: err = %v", err)
	}
	// A corrupted LFS file fails its sha256 check and leaves no blob.
	const shard = "model-00001-of-00002.safetensors"
	h.corrupt = shard
	_, err := Download(context.Background(), "org/tiny", "main", nil)
	if err == nil || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), shard) {
		t.Errorf("corrupted shard: err = %v", err)
	}
	blobs, _ := filepath.Glob(filepath.Join(repoDir(CacheDir(), "org/tiny"), "blobs", sha(h.files[shard])+"*"))
	if len(blobs) != 0 {
		t.Errorf("corrupted blob kept: %v", blobs)
	}
	if _, err := Download(context.Background(), "bad id", "main", nil); err == nil {
		t.Errorf("invalid repo id accepted")
	}
}
