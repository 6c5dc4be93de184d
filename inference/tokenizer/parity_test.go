package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/refdata"
)

// sharedDir returns a path in the reference data (../shared).
func sharedDir(t testing.TB) string { return refdata.Path(t) }

func mustLoad(t testing.TB, rel string) *Tokenizer {
	t.Helper()
	tok, err := Load(filepath.Join(sharedDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// readCases parses llama.cpp's cases.inp / cases.out pair.
func readCases(t *testing.T, dir string) ([]string, [][]int) {
	t.Helper()
	inp, err := os.ReadFile(filepath.Join(dir, "cases.inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join(dir, "cases.out"))
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	if texts[len(texts)-1] == "" {
		texts = texts[:len(texts)-1]
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%d texts but %d id lines", len(texts), len(lines))
	}
	want := make([][]int, len(lines))
	for i, l := range lines {
		want[i] = []int{}
		for _, f := range strings.Fields(l) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = append(want[i], id)
		}
	}
	return texts, want
}

// TestHFCases checks the llama.cpp / HF tokenizers vectors exactly, and
// that decoding gives the text back.
func TestHFCases(t *testing.T) {
	for _, name := range []string{"gpt-2", "llama-spm", "phi-3"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(sharedDir(t), "tokenizers", name)
			tok, err := Load(filepath.Join(dir, "tokenizer.json"))
			if err != nil {
				t.Fatal(err)
			}
			texts, want := readCases(t, dir)
			for i, text := range texts {
				got, err := tok.Encode(text, false)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want[i]) {
					t.Errorf("case %d %q:\n got %v\nwant %v", i, text, got, want[i])
					continue
				}
				if dec := tok.Decode(got); dec != text && !(name != "gpt-2" && strings.HasPrefix(text, " ") && dec == text[1:]) {
					t.Errorf("case %d: decode = %q, want %q", i, dec, text)
				}
			}
		})
	}
}

type spCase struct {
	Text       string `json:"text"`
	IDs        []int  `json:"ids"`
	IDsWithBOS []int  `json:"ids_with_bos"`
	Decoded    string `json:"decoded"`
}

// TestSentencePieceParity checks tokenizer.bin and the Llama-2
// tokenizer.json against SentencePiece's own encodings.
func TestSentencePieceParity(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sharedDir(t), "tokenizers/llama2c-bin/sentencepiece_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []spCase }
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"tokenizers/llama2c-bin/tokenizer.bin", "tokenizers/llama-spm/tokenizer.json"} {
		t.Run(filepath.Base(filepath.Dir(rel)), func(t *testing.T) {
			tok := mustLoad(t, rel)
			for i, c := range f.Cases {
				got, _ := tok.Encode(c.Text, false)
				if !slices.Equal(got, c.IDs) && !(len(got) == 0 && len(c.IDs) == 0) {
					t.Errorf("case %d %q:\n got %v\nwant %v", i, c.Text, got, c.IDs)
				}
				got, _ = tok.Encode(c.Text, true)
				if !slices.Equal(got, c.IDsWithBOS) {
					t.Errorf("case %d with BOS:\n got %v\nwant %v", i, got, c.IDsWithBOS)
				}
				if dec := tok.Decode(c.IDs); dec != c.Decoded {
					t.Errorf("case %d: decode = %q, want %q", i, dec, c.Decoded)
				}
			}
		})
	}
}
