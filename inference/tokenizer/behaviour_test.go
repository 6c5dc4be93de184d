package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPersonaTiny checks the byte-level tokenizer of persona-tiny: <s> is
// matched in the text, no BOS is added, every description round-trips
// without <unk>, and the output is a BPE fixed point (no adjacent pair
// still has a merge).
func TestPersonaTiny(t *testing.T) {
	tok := mustLoad(t, "models/persona-tiny")
	ids, _ := tok.Encode("<s>You are", false)
	if len(ids) < 2 || ids[0] != 1 || slices.Contains(ids[1:], 1) {
		t.Fatalf("<s>You are = %v, want 1 then text ids", ids)
	}
	if withSpecial, _ := tok.Encode("<s>You are", true); !slices.Equal(withSpecial, ids) {
		t.Errorf("addSpecial added tokens without a post-processor: %v", withSpecial)
	}
	if tok.BOS() != 1 || !slices.Equal(tok.EOS(), []int{2}) || tok.VocabSize() != 1024 {
		t.Errorf("BOS %d EOS %v vocab %d, want 1 [2] 1024", tok.BOS(), tok.EOS(), tok.VocabSize())
	}
	data, err := os.ReadFile(filepath.Join(sharedDir(t), "data/personalitybench/description.json"))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for dec := json.NewDecoder(strings.NewReader(string(data))); dec.More(); {
		var line map[string]string
		if err := dec.Decode(&line); err != nil {
			t.Fatal(err)
		}
		for _, text := range line {
			texts = append(texts, text)
		}
	}
	if len(texts) < 100 {
		t.Fatalf("read only %d descriptions", len(texts))
	}
	m := tok.model.(*bpe)
	for trait, text := range texts {
		ids, _ := tok.Encode(text, false)
		if slices.Contains(ids, 0) {
			t.Errorf("%d: <unk> in %v", trait, ids)
		}
		if got := tok.Decode(ids); got != text {
			t.Errorf("%d: decode = %q", trait, got)
		}
		for i := 1; i < len(ids); i++ {
			// Pairs across pre-token boundaries may merge; only check
			// pairs inside one word (no leading Ġ on the right token).
			right := tok.Token(ids[i])
			if _, ok := m.merges[pairKey{int32(ids[i-1]), int32(ids[i])}]; ok && !strings.HasPrefix(right, "Ġ") && isLetters(right) && isLetters(tok.Token(ids[i-1])) {
				t.Errorf("%d: tokens %q %q should have merged", trait, tok.Token(ids[i-1]), right)
			}
		}
	}
}

func isLetters(s string) bool {
	s = strings.TrimPrefix(s, "Ġ")
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// TestSpecialTokens checks lookups and added-token matching flags.
func TestSpecialTokens(t *testing.T) {
	phi := mustLoad(t, "tokenizers/phi-3")
	for s, want := range map[string]int{"<s>": 1, "</s>": 2, "<|end|>": 32007, "<|user|>": 32010, "▁the": 278, "<0x0A>": 13} {
		if id, ok := phi.TokenID(s); !ok || id != want {
			t.Errorf("TokenID(%q) = %d, %v; want %d", s, id, ok, want)
		}
		if phi.Token(want) != s {
			t.Errorf("Token(%d) = %q, want %q", want, phi.Token(want), s)
		}
	}
	if phi.VocabSize() != 32011 || phi.BOS() != 1 || !slices.Equal(phi.EOS(), []int{32000}) {
		t.Errorf("vocab %d BOS %d EOS %v", phi.VocabSize(), phi.BOS(), phi.EOS())
	}
	// <|user|> has rstrip: the "\n" after it is swallowed; the text after
	// a special token gets SentencePiece's dummy prefix again.
	ids, _ := phi.Encode("<|user|>\nHi<|end|>", false)
	if want := []int{32010, 6324, 32007}; !slices.Equal(ids, want) {
		t.Errorf("chat encode = %v, want %v", ids, want)
	}
	if got := phi.Decode(ids); got != "<|user|>Hi<|end|>" && got != "<|user|> Hi<|end|>" {
		t.Errorf("decode = %q", got)
	}
	gpt := mustLoad(t, "tokenizers/gpt-2")
	ids, _ = gpt.Encode("Hello<|endoftext|> the", true)
	if want := []int{15496, 50256, 262}; !slices.Equal(ids, want) {
		t.Errorf("gpt-2 = %v, want %v", ids, want)
	}
	if gpt.BOS() != 50256 || !slices.Equal(gpt.EOS(), []int{50256}) {
		t.Errorf("gpt-2 BOS %d EOS %v", gpt.BOS(), gpt.EOS())
	}
}
