package hfhub

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// makeSnapshot lays out repo files as the hub cache does: content in
// blobs/, relative symlinks in snapshots/<commit>/.
func makeSnapshot(t *testing.T, cache, repoID, commit string, files map[string]string) string {
	t.Helper()
	repo := repoDir(cache, repoID)
	snap := filepath.Join(repo, "snapshots", commit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		blob := filepath.Join(repo, "blobs", commit+"-"+name)
		os.MkdirAll(filepath.Dir(blob), 0o755)
		if err := os.WriteFile(blob, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..", "..", "blobs", commit+"-"+name), filepath.Join(snap, name)); err != nil {
			t.Fatal(err)
		}
	}
	return snap
}

func TestCacheDir(t *testing.T) {
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", "/x/hf")
	if got := CacheDir(); got != "/x/hf/hub" {
		t.Errorf("CacheDir with HF_HOME = %q", got)
	}
	t.Setenv("HF_HUB_CACHE", "/y/cache")
	if got := CacheDir(); got != "/y/cache" {
		t.Errorf("CacheDir with HF_HUB_CACHE = %q", got)
	}
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if got := CacheDir(); got != "/home/u/.cache/huggingface/hub" {
		t.Errorf("default CacheDir = %q", got)
	}
}

func TestResolve(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", home)
	cache := filepath.Join(home, "hub")
	old := makeSnapshot(t, cache, "org/model", "aaaa", map[string]string{"config.json": "{}"})
	newer := makeSnapshot(t, cache, "org/model", "bbbb", map[string]string{"config.json": "{}", "model.safetensors": "12345678"})
	makeSnapshot(t, cache, "org/model", "cccc", map[string]string{"tokenizer.json": "{}"}) // no config
	past := time.Now().Add(-time.Hour)
	os.Chtimes(old, past, past)

	got, err := Resolve("org/model")
	if err != nil || got != newer {
		t.Fatalf("Resolve without ref = %q, %v; want newest %q", got, err, newer)
	}
	ref := filepath.Join(repoDir(cache, "org/model"), "refs", "main")
	os.MkdirAll(filepath.Dir(ref), 0o755)
	if err := os.WriteFile(ref, []byte("aaaa\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Resolve("org/model"); err != nil || got != old {
		t.Errorf("Resolve with refs/main = %q, %v; want %q", got, err, old)
	}
	if _, err := Resolve("org/absent"); !errors.Is(err, ErrNotCached) {
		t.Errorf("Resolve of absent model: err = %v, want ErrNotCached", err)
	}
	for _, bad := range []string{"noslash", "a/b/c", "../x", "org/..", "/abs"} {
		if _, err := Resolve(bad); err == nil {
			t.Errorf("Resolve(%q) succeeded", bad)
		}
	}

	makeSnapshot(t, cache, "other/tiny", "dddd", map[string]string{"config.json": "{\"a\":1}"})
	makeSnapshot(t, cache, "skip/noconfig", "eeee", map[string]string{"x.json": "{}"})
	list, err := ListCached()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].RepoID != "org/model" || list[1].RepoID != "other/tiny" {
		t.Fatalf("ListCached = %+v", list)
	}
	if list[0].Dir != old || list[0].Size != 2 || list[1].Size != 7 {
		t.Errorf("ListCached = %+v, want org/model at %s of 2 bytes, other/tiny of 7", list, old)
	}
}
