package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/npti-studio/npti/inference/hfhub"
	"github.com/npti-studio/npti/inference/safetensors"
)

// Formats of a Checkpoint.
const (
	FormatHF      = "hf"
	FormatLlama2c = "llama2c"
)

// Checkpoint is an opened model: its configuration and its tensors under
// the Hugging Face names, all validated against the configuration.
type Checkpoint struct {
	Path    string // directory, llama2.c file, or resolved snapshot
	Format  string // "hf" or "llama2c"
	Config  Config
	Tensors map[string]*safetensors.Tensor

	configBytes []byte   // config.json, or the llama2.c header
	files       []string // files the tensors come from
	closers     []*safetensors.File
}

// Close releases the memory-mapped files; the tensors' data must not be
// used afterwards.
func (c *Checkpoint) Close() error {
	var errs []error
	for _, f := range c.closers {
		errs = append(errs, f.Close())
	}
	c.closers = nil
	return errors.Join(errs...)
}

// Open opens a checkpoint: a Hugging Face model directory (config.json
// with model.safetensors or a sharded model.safetensors.index.json), a
// llama2.c checkpoint file, or a repo id "org/name" found in the local
// Hugging Face cache (Open never downloads). Every tensor the model needs
// is checked for presence, shape and dtype.
func Open(path string) (*Checkpoint, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && hfhub.ValidRepoID(path) {
		dir, rerr := hfhub.Resolve(path)
		if rerr != nil {
			return nil, fmt.Errorf("checkpoint: %s is neither a path nor a cached model: %w", path, rerr)
		}
		return openHF(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if info.IsDir() {
		return openHF(path)
	}
	return openLlama2c(path)
}

// openHF opens a Hugging Face model directory.
func openHF(dir string) (*Checkpoint, error) {
	cfgPath := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", dir, err)
	}
	cfg, err := parseConfig(cfgPath, raw)
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{Path: dir, Format: FormatHF, Config: cfg, configBytes: raw,
		Tensors: map[string]*safetensors.Tensor{}}
	if err := ck.loadSafetensors(dir); err != nil {
		ck.Close()
		return nil, err
	}
	if cfg.TieWordEmbeddings {
		delete(ck.Tensors, "lm_head.weight") // transformers ties it to embed_tokens
	}
	if err := ck.validate(); err != nil {
		ck.Close()
		return nil, err
	}
	return ck, nil
}

var shardName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// loadSafetensors opens model.safetensors, or the shards listed by
// model.safetensors.index.json, and gathers their tensors.
func (ck *Checkpoint) loadSafetensors(dir string) error {
	indexPath := filepath.Join(dir, "model.safetensors.index.json")
	raw, err := os.ReadFile(indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		return ck.addFile(filepath.Join(dir, "model.safetensors"), nil)
	}
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", indexPath, err)
	}
	byShard := map[string][]string{}
	for name, shard := range idx.WeightMap {
		if !shardName.MatchString(shard) {
			return fmt.Errorf("checkpoint: %s: tensor %q: invalid shard name %q", indexPath, name, shard)
		}
		byShard[shard] = append(byShard[shard], name)
	}
	if len(byShard) == 0 {
		return fmt.Errorf("checkpoint: %s: empty weight_map", indexPath)
	}
	shards := make([]string, 0, len(byShard))
	for s := range byShard {
		shards = append(shards, s)
	}
	sort.Strings(shards)
	for _, s := range shards {
		if err := ck.addFile(filepath.Join(dir, s), byShard[s]); err != nil {
			return err
		}
	}
	return nil
}

// addFile opens one safetensors file and adds its tensors; want, when
// not nil, lists tensors the index says the file holds.
func (ck *Checkpoint) addFile(path string, want []string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	ck.closers = append(ck.closers, f)
	ck.files = append(ck.files, path)
	for name, t := range f.Tensors() {
		if _, dup := ck.Tensors[name]; dup {
			return fmt.Errorf("checkpoint: %s: tensor %q also in another shard", path, name)
		}
		ck.Tensors[name] = t
	}
	for _, name := range want {
		if _, ok := f.Tensors()[name]; !ok {
			return fmt.Errorf("checkpoint: %s: tensor %q listed in the index is missing", path, name)
		}
	}
	return nil
}
