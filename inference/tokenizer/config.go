package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// hfConfig is the part of tokenizer_config.json this package reads.
type hfConfig struct {
	AddBOS *bool           `json:"add_bos_token"`
	AddEOS *bool           `json:"add_eos_token"`
	BOS    json.RawMessage `json:"bos_token"`
	EOS    json.RawMessage `json:"eos_token"`
}

// genConfig is the part of generation_config.json this package reads.
type genConfig struct {
	BOS json.RawMessage `json:"bos_token_id"`
	EOS json.RawMessage `json:"eos_token_id"`
}

// readOptionalJSON decodes dir/name into v; a missing file is not an error.
func readOptionalJSON(dir, name string, v any) (bool, error) {
	p := filepath.Join(dir, name)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("parse %s: %w", p, err)
	}
	return true, nil
}

// applyConfigs sets BOS, EOS and the add_bos/add_eos behaviour from the
// config files beside the tokenizer, falling back to the post-processor
// and well-known token names.
func (t *Tokenizer) applyConfigs(dir string) error {
	var tc hfConfig
	haveTC, err := readOptionalJSON(dir, "tokenizer_config.json", &tc)
	if err != nil {
		return err
	}
	var gc genConfig
	if _, err := readOptionalJSON(dir, "generation_config.json", &gc); err != nil {
		return err
	}
	t.bos = -1
	if id, ok := t.tokenRef(tc.BOS); ok {
		t.bos = id
	} else if ids := intList(gc.BOS); len(ids) > 0 {
		t.bos = ids[0]
	} else if len(t.before) > 0 {
		t.bos = t.before[0]
	} else if !haveTC {
		t.bos = t.firstKnown("<s>", "<|begin_of_text|>", "<|endoftext|>")
	}
	if id, ok := t.tokenRef(tc.EOS); ok {
		t.eos = append(t.eos, id)
	}
	for _, id := range intList(gc.EOS) {
		if !containsInt(t.eos, id) {
			t.eos = append(t.eos, id)
		}
	}
	if id := t.firstKnown("</s>", "<|endoftext|>", "<|end_of_text|>"); len(t.eos) == 0 && id >= 0 {
		t.eos = []int{id}
	}
	// transformers rebuilds the template from add_bos/add_eos_token.
	if tc.AddBOS != nil || tc.AddEOS != nil {
		t.before, t.after = nil, nil
		if tc.AddBOS != nil && *tc.AddBOS && t.bos >= 0 {
			t.before = []int{t.bos}
		}
		if tc.AddEOS != nil && *tc.AddEOS && len(t.eos) > 0 {
			t.after = []int{t.eos[0]}
		}
	}
	return nil
}

// firstKnown is the id of the first of names in the vocabulary, or -1.
func (t *Tokenizer) firstKnown(names ...string) int {
	for _, name := range names {
		if id, ok := t.lookup[name]; ok {
			return id
		}
	}
	return -1
}

// tokenRef resolves "<s>" or {"content": "<s>", ...} to an id.
func (t *Tokenizer) tokenRef(raw json.RawMessage) (int, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var obj struct {
			Content string `json:"content"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return 0, false
		}
		s = obj.Content
	}
	id, ok := t.lookup[s]
	return id, ok && s != ""
}

// intList reads an int or a list of ints.
func intList(raw json.RawMessage) []int {
	var one int
	if json.Unmarshal(raw, &one) == nil && len(raw) > 0 && string(raw) != "null" {
		return []int{one}
	}
	var many []int
	_ = json.Unmarshal(raw, &many)
	return many
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
