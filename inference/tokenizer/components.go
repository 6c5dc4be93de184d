package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// buildNormalizer reads a normalizer object (nil for null).
func buildNormalizer(raw json.RawMessage) (normalizer, error) {
	c, ok, err := parseComponent(raw)
	if err != nil || !ok {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var seq sequenceNorm
		for _, r := range c.Normalizers {
			n, err := buildNormalizer(r)
			if err != nil {
				return nil, err
			}
			if n != nil {
				seq = append(seq, n)
			}
		}
		return seq, nil
	case "Prepend":
		return prependNorm{c.Prepend}, nil
	case "Replace":
		lit, re, err := buildPattern(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("Replace: %w", err)
		}
		return replaceNorm{lit: lit, re: re, content: c.Content}, nil
	case "NFC":
		return unicodeNorm{norm.NFC}, nil
	case "NFD":
		return unicodeNorm{norm.NFD}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNorm{}, nil
	case "Strip":
		return stripNorm{c.StripLeft, c.StripRight}, nil
	}
	return nil, fmt.Errorf("unsupported normalizer type %q", c.Type)
}

// buildPreTokenizer reads a pre_tokenizer object (nil for null).
func buildPreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	c, ok, err := parseComponent(raw)
	if err != nil || !ok {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var seq sequencePre
		for _, r := range c.PreTokenizers {
			p, err := buildPreTokenizer(r)
			if err != nil {
				return nil, err
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	case "ByteLevel":
		b := &byteLevel{addPrefixSpace: c.AddPrefixSpace == nil || *c.AddPrefixSpace}
		if c.UseRegex == nil || *c.UseRegex {
			if b.re, err = compileSplitRegex(gpt2Pattern); err != nil {
				return nil, err
			}
		}
		return b, nil
	case "Split":
		beh, ok := parseBehavior(c.Behavior)
		if !ok {
			return nil, fmt.Errorf("Split: unknown behavior %q", c.Behavior)
		}
		lit, re, err := buildPattern(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("Split: %w", err)
		}
		return &splitPre{lit: lit, re: re, behavior: beh, invert: c.Invert}, nil
	case "Digits":
		if c.Individual {
			return &funcPre{isDigit, behaviorIsolated}, nil
		}
		return &funcPre{isDigit, behaviorContiguous}, nil
	case "Punctuation":
		beh, ok := parseBehavior(c.Behavior)
		if !ok {
			return nil, fmt.Errorf("Punctuation: unknown behavior %q", c.Behavior)
		}
		return &funcPre{isPunct, beh}, nil
	case "WhitespaceSplit":
		return &funcPre{isRustSpace, behaviorRemoved}, nil
	case "Whitespace":
		re, err := compileSplitRegex(`\w+|[^\w\s]+`)
		if err != nil {
			return nil, err
		}
		return &splitPre{re: re, behavior: behaviorRemoved, invert: true}, nil
	case "Metaspace":
		return buildMetaspace(c)
	}
	return nil, fmt.Errorf("unsupported pre_tokenizer type %q", c.Type)
}

// buildMetaspace reads the Metaspace pre-tokenizer, old and new forms.
func buildMetaspace(c component) (*metaspace, error) {
	m := &metaspace{replacement: c.Replacement, prepend: c.PrependScheme, splitWords: c.Split == nil || *c.Split}
	if utf8.RuneCountInString(m.replacement) != 1 {
		return nil, fmt.Errorf("Metaspace: replacement %q is not one character", m.replacement)
	}
	if m.prepend == "" {
		m.prepend = "always"
		if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
			m.prepend = "never"
		}
	}
	switch m.prepend {
	case "always", "first", "never":
		return m, nil
	}
	return nil, fmt.Errorf("Metaspace: unknown prepend_scheme %q", m.prepend)
}

// buildDecoder reads a decoder object (nil for null).
func buildDecoder(raw json.RawMessage) (decoder, error) {
	c, ok, err := parseComponent(raw)
	if err != nil || !ok {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var seq sequenceDec
		for _, r := range c.Decoders {
			d, err := buildDecoder(r)
			if err != nil {
				return nil, err
			}
			if d != nil {
				seq = append(seq, d)
			}
		}
		return seq, nil
	case "ByteLevel":
		return byteLevelDec{}, nil
	case "ByteFallback":
		return byteFallbackDec{}, nil
	case "Fuse":
		return fuseDec{}, nil
	case "Strip":
		r, n := utf8.DecodeRuneInString(c.Content)
		if n == 0 || n != len(c.Content) || c.Start < 0 || c.Stop < 0 {
			return nil, fmt.Errorf("Strip: bad content %q or counts", c.Content)
		}
		return stripDec{content: r, start: c.Start, stop: c.Stop}, nil
	case "Replace":
		lit, re, err := buildPattern(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("Replace: %w", err)
		}
		return replaceDec{replaceNorm{lit: lit, re: re, content: c.Content}}, nil
	case "Metaspace":
		m, err := buildMetaspace(c)
		if err != nil {
			return nil, err
		}
		return metaspaceDec{replacement: m.replacement, prepend: m.prepend}, nil
	}
	return nil, fmt.Errorf("unsupported decoder type %q", c.Type)
}

// buildPost reads the post_processor into the ids it adds before and
// after a single sequence.
func (t *Tokenizer) buildPost(raw json.RawMessage) (before, after []int, err error) {
	c, ok, err := parseComponent(raw)
	if err != nil || !ok {
		return nil, nil, err
	}
	switch c.Type {
	case "Sequence":
		for _, r := range c.Processors {
			b, a, err := t.buildPost(r)
			if err != nil {
				return nil, nil, err
			}
			before, after = append(b, before...), append(after, a...)
		}
		return before, after, nil
	case "ByteLevel":
		return nil, nil, nil
	case "TemplateProcessing":
		return templateIDs(c)
	case "BertProcessing", "RobertaProcessing":
		cls, err1 := specialPair(c.Cls)
		sep, err2 := specialPair(c.Sep)
		if err := errors.Join(err1, err2); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.Type, err)
		}
		return []int{cls}, []int{sep}, nil
	}
	return nil, nil, fmt.Errorf("unsupported post_processor type %q", c.Type)
}

// templateIDs expands TemplateProcessing's "single" template.
func templateIDs(c component) (before, after []int, err error) {
	seen := false
	for _, p := range c.Single {
		switch {
		case p.Sequence != nil:
			if seen {
				return nil, nil, errors.New("template has two sequences")
			}
			seen = true
		case p.SpecialToken != nil:
			st, ok := c.SpecialTokens[p.SpecialToken.ID]
			if !ok {
				return nil, nil, fmt.Errorf("template special token %q is not defined", p.SpecialToken.ID)
			}
			if seen {
				after = append(after, st.IDs...)
			} else {
				before = append(before, st.IDs...)
			}
		}
	}
	return before, after, nil
}

// specialPair reads ["<s>", 0] as used by Bert/Roberta processors.
func specialPair(raw []json.RawMessage) (int, error) {
	var id int
	if len(raw) != 2 || json.Unmarshal(raw[1], &id) != nil {
		return 0, errors.New("want a [token, id] pair")
	}
	return id, nil
}
