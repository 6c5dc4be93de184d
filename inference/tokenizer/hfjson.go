package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// hfFile is the part of tokenizer.json this package reads.
type hfFile struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         hfModel         `json:"model"`
}

// hfModel is tokenizer.json's "model" object.
type hfModel struct {
	Type                    string            `json:"type"`
	Vocab                   map[string]int    `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
	UnkToken                *string           `json:"unk_token"`
	FuseUnk                 bool              `json:"fuse_unk"`
	ByteFallback            bool              `json:"byte_fallback"`
	IgnoreMerges            bool              `json:"ignore_merges"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
}

// component is any normalizer, pre-tokenizer, decoder or post-processor
// object; each reader uses the fields of its type.
type component struct {
	Type           string            `json:"type"`
	Normalizers    []json.RawMessage `json:"normalizers"`
	PreTokenizers  []json.RawMessage `json:"pretokenizers"`
	Decoders       []json.RawMessage `json:"decoders"`
	Processors     []json.RawMessage `json:"processors"`
	Prepend        string            `json:"prepend"`
	Pattern        *pattern          `json:"pattern"`
	Content        string            `json:"content"`
	AddPrefixSpace *bool             `json:"add_prefix_space"`
	UseRegex       *bool             `json:"use_regex"`
	Behavior       string            `json:"behavior"`
	Invert         bool              `json:"invert"`
	Individual     bool              `json:"individual_digits"`
	Replacement    string            `json:"replacement"`
	PrependScheme  string            `json:"prepend_scheme"`
	Split          *bool             `json:"split"`
	StripLeft      bool              `json:"strip_left"`
	StripRight     bool              `json:"strip_right"`
	Start          int               `json:"start"`
	Stop           int               `json:"stop"`
	Single         []templatePiece   `json:"single"`
	SpecialTokens  map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
	Cls []json.RawMessage `json:"cls"`
	Sep []json.RawMessage `json:"sep"`
}

// pattern is {"String": "..."} or {"Regex": "..."}.
type pattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// templatePiece is one element of TemplateProcessing's "single".
type templatePiece struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

// parseComponent decodes raw into c; ok is false for null or absent.
func parseComponent(raw json.RawMessage) (c component, ok bool, err error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return c, false, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, false, err
	}
	return c, true, nil
}

// parseHF builds a Tokenizer from the bytes of a tokenizer.json file.
func parseHF(data []byte) (*Tokenizer, error) {
	// The model type first: a Unigram or WordPiece vocabulary does not
	// decode as BPE's, and its decoding error would not say why.
	var head struct {
		Model struct {
			Type string `json:"type"`
		} `json:"model"`
	}
	if json.Unmarshal(data, &head) == nil && head.Model.Type != "BPE" && head.Model.Type != "" {
		return nil, fmt.Errorf("tokenizer.json: unsupported model type %q (only BPE tokenizers are supported)", head.Model.Type)
	}
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse tokenizer.json: %w", err)
	}
	t := &Tokenizer{bos: -1}
	var err error
	if t.normalizer, err = buildNormalizer(f.Normalizer); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	fix := identity
	if replacesSpace(t.normalizer) {
		fix = repairNBSP(f.Model.Vocab)
	}
	if err := t.setTokens(f.Model.Vocab, f.AddedTokens); err != nil {
		return nil, fmt.Errorf("vocabulary: %w", err)
	}
	m, err := buildBPE(&f.Model, fix)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	t.model = m
	if t.pre, err = buildPreTokenizer(f.PreTokenizer); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	if t.decoder, err = buildDecoder(f.Decoder); err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	if t.before, t.after, err = t.buildPost(f.PostProcessor); err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	t.buildMatchers(f.AddedTokens)
	return t, nil
}

// buildMatchers prepares added-token matching: tokens with normalized
// false are found in the raw text, the others in the normalized text
// (their content normalized the same way).
func (t *Tokenizer) buildMatchers(added []addedToken) {
	var raw, norm []matchEntry
	for i := range added {
		a := t.added[added[i].ID]
		if a == nil || a.Content != added[i].Content {
			continue
		}
		if !a.Normalized || t.normalizer == nil {
			raw = append(raw, matchEntry{a.Content, a})
			continue
		}
		norm = append(norm, matchEntry{t.normalizer.normalize(a.Content), a})
	}
	t.rawMatch, t.normMatch = newAddedMatcher(raw), newAddedMatcher(norm)
}

// buildBPE builds the BPE model and its merge table.
func buildBPE(hm *hfModel, fix func(string) string) (*bpe, error) {
	if hm.Type != "BPE" && hm.Type != "" {
		return nil, fmt.Errorf("unsupported model type %q", hm.Type)
	}
	m := &bpe{vocab: hm.Vocab, unk: -1, fuseUnk: hm.FuseUnk, byteFallback: hm.ByteFallback, ignoreMerges: hm.IgnoreMerges}
	if hm.UnkToken != nil {
		id, ok := hm.Vocab[*hm.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk token %q is not in the vocabulary", *hm.UnkToken)
		}
		m.unk = id
	}
	if hm.ContinuingSubwordPrefix != nil {
		m.prefix = *hm.ContinuingSubwordPrefix
	}
	if hm.EndOfWordSuffix != nil {
		m.suffix = *hm.EndOfWordSuffix
	}
	m.initBytes()
	m.merges = make(map[pairKey]mergeInfo, len(hm.Merges))
	for rank, raw := range hm.Merges {
		pairs, err := parseMerge(raw, hm.Vocab, fix)
		if err != nil {
			return nil, fmt.Errorf("merge %d: %w", rank, err)
		}
		for _, p := range pairs {
			if err := m.addMerge(p[0], p[1], rank); err != nil {
				return nil, fmt.Errorf("merge %d: %w", rank, err)
			}
		}
	}
	return m, nil
}

// addMerge records that a and b merge with the given rank.
func (m *bpe) addMerge(a, b string, rank int) error {
	if len(b) < len(m.prefix) {
		return fmt.Errorf("%q %q: shorter than the subword prefix", a, b)
	}
	ia, oka := m.vocab[a]
	ib, okb := m.vocab[b]
	id, okm := m.vocab[a+b[len(m.prefix):]]
	if !oka || !okb || !okm {
		return fmt.Errorf("%q %q: token not in the vocabulary", a, b)
	}
	k := pairKey{int32(ia), int32(ib)}
	if _, dup := m.merges[k]; !dup {
		m.merges[k] = mergeInfo{id: int32(id), prio: float64(rank)}
	}
	return nil
}

// parseMerge reads a merge as "a b" or ["a", "b"]. A string with several
// spaces (tokens that contain spaces) is ambiguous: every split at a space
// whose halves (after fix) are tokens is returned.
func parseMerge(raw json.RawMessage, vocab map[string]int, fix func(string) string) ([][2]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var pair []string
		if err := json.Unmarshal(raw, &pair); err != nil {
			return nil, err
		}
		if len(pair) != 2 {
			return nil, fmt.Errorf("merge has %d parts, want 2", len(pair))
		}
		return [][2]string{{pair[0], pair[1]}}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if strings.Count(s, " ") == 1 {
		a, b, _ := strings.Cut(s, " ")
		return [][2]string{{a, b}}, nil
	}
	var out [][2]string
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			continue
		}
		a, b := fix(s[:i]), fix(s[i+1:])
		_, oka := vocab[a]
		_, okb := vocab[b]
		if oka && okb {
			out = append(out, [2]string{a, b})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("merge %q is not two tokens separated by a space", s)
	}
	return out, nil
}

// buildPatternRegex compiles a Split/Replace pattern; a String pattern
// gives a nil regex and the literal.
func buildPattern(p *pattern) (string, *splitRegex, error) {
	switch {
	case p == nil:
		return "", nil, errors.New("missing pattern")
	case p.String != nil:
		return *p.String, nil, nil
	case p.Regex != nil:
		re, err := compileSplitRegex(*p.Regex)
		return "", re, err
	}
	return "", nil, errors.New("pattern has neither String nor Regex")
}
