// Package hfhub finds models in the local Hugging Face hub cache and
// downloads them into it, in the layout the huggingface_hub library uses:
//
//	<cache>/models--<org>--<name>/blobs/<etag>
//	<cache>/models--<org>--<name>/snapshots/<commit>/<file> -> ../../blobs/<etag>
//	<cache>/models--<org>--<name>/refs/<revision>   (holds the commit)
package hfhub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ErrNotCached is wrapped by Resolve when the model is not in the cache.
var ErrNotCached = errors.New("model not in the local Hugging Face cache")

var repoPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CacheDir returns the hub cache directory: $HF_HUB_CACHE, else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub.
func CacheDir() string {
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "huggingface", "hub")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

// ValidRepoID reports whether id has the form "org/name" with safe
// characters (no path traversal).
func ValidRepoID(id string) bool {
	org, name, ok := strings.Cut(id, "/")
	if !ok || strings.Contains(name, "/") || strings.Contains(id, "..") {
		return false
	}
	return repoPart.MatchString(org) && repoPart.MatchString(name)
}

// repoDir returns the cache folder of a repository.
func repoDir(cache, repoID string) string {
	return filepath.Join(cache, "models--"+strings.ReplaceAll(repoID, "/", "--"))
}

// Resolve returns the snapshot directory of repoID in the cache: the
// commit named by refs/main when it has a config.json, else the most
// recently modified snapshot that has one. It never downloads.
func Resolve(repoID string) (string, error) {
	if !ValidRepoID(repoID) {
		return "", fmt.Errorf("hfhub: invalid repo id %q (want org/name)", repoID)
	}
	cache := CacheDir()
	dir, err := snapshotDir(repoDir(cache, repoID))
	if err != nil {
		return "", fmt.Errorf("hfhub: %s: %w (cache %s)", repoID, err, cache)
	}
	return dir, nil
}

// snapshotDir picks the snapshot of a repo folder as Resolve describes.
func snapshotDir(repo string) (string, error) {
	snaps := filepath.Join(repo, "snapshots")
	if ref, err := os.ReadFile(filepath.Join(repo, "refs", "main")); err == nil {
		commit := strings.TrimSpace(string(ref))
		if repoPart.MatchString(commit) {
			dir := filepath.Join(snaps, commit)
			if hasConfig(dir) {
				return dir, nil
			}
		}
	}
	entries, err := os.ReadDir(snaps)
	if err != nil {
		return "", ErrNotCached
	}
	var best string
	var bestTime int64
	for _, e := range entries {
		dir := filepath.Join(snaps, e.Name())
		info, err := os.Stat(dir)
		if err != nil || !info.IsDir() || !hasConfig(dir) {
			continue
		}
		if t := info.ModTime().UnixNano(); best == "" || t > bestTime {
			best, bestTime = dir, t
		}
	}
	if best == "" {
		return "", fmt.Errorf("no snapshot with config.json: %w", ErrNotCached)
	}
	return best, nil
}

// hasConfig reports whether dir/config.json exists (following links).
func hasConfig(dir string) bool {
	info, err := os.Stat(filepath.Join(dir, "config.json"))
	return err == nil && info.Mode().IsRegular()
}

// CachedModel is a model found in the cache.
type CachedModel struct {
	RepoID string // "org/name"
	Dir    string // snapshot directory, as Resolve returns it
	Size   int64  // bytes of the snapshot's files
}

// ListCached lists the models in the cache that have a snapshot with a
// config.json, sorted by repo id. A missing cache gives an empty list.
func ListCached() ([]CachedModel, error) {
	cache := CacheDir()
	entries, err := os.ReadDir(cache)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hfhub: list cache: %w", err)
	}
	var out []CachedModel
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "models--")
		if !ok || !e.IsDir() {
			continue
		}
		org, name, ok := strings.Cut(rest, "--")
		id := org + "/" + name
		if !ok || !ValidRepoID(id) {
			continue
		}
		dir, err := snapshotDir(filepath.Join(cache, e.Name()))
		if err != nil {
			continue
		}
		out = append(out, CachedModel{RepoID: id, Dir: dir, Size: dirSize(dir)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RepoID < out[j].RepoID })
	return out, nil
}

// dirSize sums the sizes of the files under dir, following symlinks.
func dirSize(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total
}
