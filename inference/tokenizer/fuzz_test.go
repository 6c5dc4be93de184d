package tokenizer

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// metaspaceJSON is a tiny tokenizer.json with the Metaspace pipeline
// (prepend_scheme "first", as in Llama 2 with legacy false) and merges in
// the pair format.
const metaspaceJSON = `{
 "added_tokens": [{"id": 0, "content": "<s>", "special": true}],
 "normalizer": null,
 "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}],
   "special_tokens": {"<s>": {"id": "<s>", "ids": [0]}}},
 "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
 "model": {"type": "BPE", "vocab": {"<s>": 0, "▁": 1, "h": 2, "i": 3, "▁h": 4, "▁hi": 5, "hi": 6},
   "merges": [["▁", "h"], ["▁h", "i"], ["h", "i"]]}
}`

// TestMetaspace checks the Metaspace pre-tokenizer and decoder: spaces
// become ▁, each word keeps its ▁, and "first" prepends only at the very
// start of the input, not after a special token.
func TestMetaspace(t *testing.T) {
	tok, err := parseHF([]byte(metaspaceJSON))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text    string
		special bool
		want    []int
	}{
		{"hi hi", false, []int{5, 5}},
		{"hi hi", true, []int{0, 5, 5}},
		{"<s>hi", false, []int{0, 6}},
		{"hi  h", false, []int{5, 1, 4}},
	}
	for _, c := range cases {
		got, _ := tok.Encode(c.text, c.special)
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %v) = %v, want %v", c.text, c.special, got, c.want)
		}
	}
	if got := tok.Decode([]int{5, 1, 4}); got != "hi  h" {
		t.Errorf("Decode = %q, want %q", got, "hi  h")
	}
}

// FuzzLoadJSON: any tokenizer.json bytes give a tokenizer or an error,
// never a panic; a loaded tokenizer encodes and decodes without panic.
func FuzzLoadJSON(f *testing.F) {
	f.Add([]byte(metaspaceJSON))
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 2000000000}}}`))
	f.Add([]byte(`{"model": {"vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}`))
	f.Add([]byte(`{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?!x)"}}, "model": {}}`))
	data, err := os.ReadFile(filepath.Join(sharedDir(f), "models/persona-tiny/tokenizer.json"))
	if err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := parseHF(data)
		if err != nil {
			return
		}
		ids, _ := tok.Encode("Hello <s> wörld 🤖\n", true)
		tok.Decode(append(ids, -1, 1<<30))
	})
}

// FuzzLoadBin: any tokenizer.bin bytes give a tokenizer or an error.
func FuzzLoadBin(f *testing.F) {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, int32(8))
	for _, p := range []string{"<unk>", "\n<s>\n", "\n</s>\n", " ", "a", " a"} {
		binary.Write(&b, binary.LittleEndian, float32(-1))
		binary.Write(&b, binary.LittleEndian, int32(len(p)))
		b.WriteString(p)
	}
	f.Add(b.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := parseLlama2c(data)
		if err != nil {
			return
		}
		ids, _ := tok.Encode("a a ɐ", true)
		tok.Decode(ids)
	})
}

// TestLoadErrors checks that bad files are reported with their name.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"bad.json":  `{"model": {"type": "Unigram", "vocab": []}}`,
		"huge.json": `{"model": {"type": "BPE", "vocab": {"a": 2000000000}}}`,
		"trunc.bin": "\x10\x00\x00\x00\x00\x00\x80\xbf\x40\x00\x00\x00ab",
	}
	for name, body := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(name)) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	// A Unigram tokenizer (its vocab a list of [piece, score] pairs) is
	// refused for what it is, not for its vocabulary's JSON.
	p := filepath.Join(dir, "unigram.json")
	os.WriteFile(p, []byte(`{"model": {"type": "Unigram", "vocab": [["<unk>", 0], ["a", -1.5]]}}`), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), `unsupported model type "Unigram"`) {
		t.Errorf("Unigram tokenizer: error %v", err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("empty directory loaded")
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, name := range []string{"gpt-2", "llama-spm"} {
		tok := mustLoad(b, "tokenizers/"+name)
		data, err := os.ReadFile(filepath.Join(sharedDir(b), "tokenizers", name, "cases.inp"))
		if err != nil {
			b.Fatal(err)
		}
		text := string(data)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.Encode(text, false)
			}
		})
	}
}
