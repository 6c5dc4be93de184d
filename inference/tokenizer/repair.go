package tokenizer

import "strings"

func identity(s string) string { return s }

// replacesSpace reports whether the normalizer maps every ' ' to
// something else (SentencePiece-style Replace(" ", "▁")), so that no
// vocabulary token containing ' ' can ever be produced by the model.
func replacesSpace(n normalizer) bool {
	switch n := n.(type) {
	case replaceNorm:
		return n.re == nil && n.lit == " " && !strings.Contains(n.content, " ")
	case sequenceNorm:
		for _, x := range n {
			if replacesSpace(x) {
				return true
			}
		}
	}
	return false
}

// repairNBSP restores U+00A0 in vocabulary tokens of a SentencePiece-style
// tokenizer.json that some re-serialisation wrote as U+0020 (found in the
// Llama-2 tokenizer.json of onnxruntime-extensions, where "\u00a0" became
// " "). Under a normalizer that replaces every space such tokens are
// unreachable, so restoring them changes nothing for intact files. It
// edits vocab in place and returns the same mapping for merge strings.
func repairNBSP(vocab map[string]int) func(string) string {
	fix := func(s string) string { return strings.ReplaceAll(s, " ", "\u00a0") }
	for k, id := range vocab {
		if !strings.Contains(k, " ") {
			continue
		}
		if _, taken := vocab[fix(k)]; taken {
			continue
		}
		delete(vocab, k)
		vocab[fix(k)] = id
	}
	return fix
}
