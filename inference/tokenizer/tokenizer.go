// Package tokenizer encodes text to token ids and decodes ids to text for
// the models NPTI Studio runs: Hugging Face tokenizer.json files (BPE,
// byte-level or SentencePiece-style with byte fallback) and llama2.c's
// tokenizer.bin. It reproduces HF tokenizers' ids exactly for the
// supported pipelines and needs no cgo.
package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Tokenizer is an immutable, loaded tokenizer; it is safe for concurrent
// use.
type Tokenizer struct {
	tokens  []string // id -> token string; "" with present[id] false is a hole
	present []bool
	lookup  map[string]int // token string -> id (added tokens win)

	added     map[int]*addedToken
	rawMatch  *addedMatcher // added tokens matched in the raw text
	normMatch *addedMatcher // added tokens matched after normalization

	normalizer normalizer   // nil: identity
	pre        preTokenizer // nil: the whole piece is one word
	model      model
	decoder    decoder // nil: tokens joined with spaces

	before, after []int // ids the post-processor puts around the text
	bos           int   // -1 when unknown
	eos           []int
}

// Load reads a tokenizer from a tokenizer.json file, a llama2.c
// tokenizer.bin file, or a model directory containing one of them.
// Settings in tokenizer_config.json and generation_config.json beside a
// tokenizer.json (add_bos_token, bos/eos tokens) are honoured.
func Load(path string) (*Tokenizer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	if fi.IsDir() {
		for _, name := range []string{"tokenizer.json", "tokenizer.bin"} {
			p := filepath.Join(path, name)
			if _, err := os.Stat(p); err == nil {
				return Load(p)
			}
		}
		return nil, fmt.Errorf("load tokenizer: %s: no tokenizer.json or tokenizer.bin", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	if isJSON(data) {
		t, err := parseHF(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := t.applyConfigs(filepath.Dir(path)); err != nil {
			return nil, err
		}
		return t, nil
	}
	t, err := parseLlama2c(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func isJSON(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// Encode tokenizes text. With addSpecial the post-processor's special
// tokens (e.g. BOS) are added; without it, none are, though special tokens
// written in the text are still recognised.
func (t *Tokenizer) Encode(text string, addSpecial bool) ([]int, error) {
	var ids []int
	if addSpecial {
		ids = append(ids, t.before...)
	}
	for _, seg := range t.rawMatch.split(text, true) {
		if seg.tok != nil {
			ids = append(ids, seg.tok.ID)
			continue
		}
		norm := seg.text
		if t.normalizer != nil {
			norm = t.normalizer.normalize(norm)
		}
		for _, sub := range t.normMatch.split(norm, seg.atStart) {
			if sub.tok != nil {
				ids = append(ids, sub.tok.ID)
				continue
			}
			if t.pre == nil {
				ids = t.model.tokenize(sub.text, ids)
				continue
			}
			for _, w := range t.pre.split(sub.text, sub.atStart) {
				ids = t.model.tokenize(w, ids)
			}
		}
	}
	if addSpecial {
		ids = append(ids, t.after...)
	}
	if ids == nil {
		ids = []int{}
	}
	return ids, nil
}

// tokenString is the string of id, and whether id exists.
func (t *Tokenizer) tokenString(id int) (string, bool) {
	if id < 0 || id >= len(t.tokens) || !t.present[id] {
		return "", false
	}
	return t.tokens[id], true
}

// Token returns the string of a token id ("" when out of range).
func (t *Tokenizer) Token(id int) string {
	s, _ := t.tokenString(id)
	return s
}

// TokenID returns the id of a token string, e.g. "<s>" or "<|eot_id|>".
func (t *Tokenizer) TokenID(s string) (int, bool) {
	id, ok := t.lookup[s]
	return id, ok
}

// VocabSize is one more than the largest token id.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// BOS is the beginning-of-sequence id, or -1 when the tokenizer has none.
func (t *Tokenizer) BOS() int { return t.bos }

// EOS lists the ids that end generation (may be empty).
func (t *Tokenizer) EOS() []int { return append([]int(nil), t.eos...) }

// IsSpecial reports whether id is a special added token.
func (t *Tokenizer) IsSpecial(id int) bool {
	a, ok := t.added[id]
	return ok && a.Special
}

// maxTokens bounds vocabulary sizes so that bad files cannot make Load
// allocate without limit.
const maxTokens = 1 << 22

// setTokens builds the id tables from the model vocabulary and the added
// tokens.
func (t *Tokenizer) setTokens(vocab map[string]int, added []addedToken) error {
	maxID := -1
	for s, id := range vocab {
		if id < 0 || id >= maxTokens {
			return fmt.Errorf("token %q has id %d out of range", s, id)
		}
		maxID = max(maxID, id)
	}
	for _, a := range added {
		if a.ID < 0 || a.ID >= maxTokens {
			return fmt.Errorf("added token %q has id %d out of range", a.Content, a.ID)
		}
		maxID = max(maxID, a.ID)
	}
	if n := len(vocab) + len(added); maxID >= 2*n+1024 {
		return errors.New("token ids are too sparse")
	}
	t.tokens = make([]string, maxID+1)
	t.present = make([]bool, maxID+1)
	t.lookup = make(map[string]int, len(vocab)+len(added))
	for s, id := range vocab {
		t.tokens[id], t.present[id] = s, true
		t.lookup[s] = id
	}
	t.added = make(map[int]*addedToken, len(added))
	for i := range added {
		a := &added[i]
		t.tokens[a.ID], t.present[a.ID] = a.Content, true
		t.lookup[a.Content] = a.ID
		t.added[a.ID] = a
	}
	return nil
}
