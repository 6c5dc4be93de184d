package tokenizer

import (
	"slices"
	"testing"
	"unicode/utf8"
)

const (
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwen2Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// TestSplitRegex checks the lookahead rewrite against splits worked out
// by hand from the backtracking semantics of the original patterns.
func TestSplitRegex(t *testing.T) {
	cases := []struct {
		pattern, text string
		want          []string
	}{
		{gpt2Pattern, "Hello   world", []string{"Hello", "  ", " world"}},
		{gpt2Pattern, "a\t\tb", []string{"a", "\t", "\t", "b"}},
		{gpt2Pattern, "x  ", []string{"x", "  "}},
		{gpt2Pattern, "I'm 3.14", []string{"I", "'m", " 3", ".", "14"}},
		{gpt2Pattern, "a\u00a0\u00a0b", []string{"a", "\u00a0", "\u00a0", "b"}},
		{llama3Pattern, "Hello\n\n  world", []string{"Hello", "\n\n", " ", " world"}},
		{llama3Pattern, "12345 DON'T", []string{"123", "45", " DON", "'T"}},
		{llama3Pattern, "(x) !!\n", []string{"(x", ")", " !!\n"}},
		{qwen2Pattern, "12345", []string{"1", "2", "3", "4", "5"}},
		{`[0-9][0-9][0-9]`, "a12345", []string{"a", "123", "45"}},
	}
	for _, c := range cases {
		re, err := compileSplitRegex(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		got := applyBehavior(c.text, re.find(c.text), behaviorIsolated, false)
		if !slices.Equal(got, c.want) {
			t.Errorf("%.20s… on %q = %q, want %q", c.pattern, c.text, got, c.want)
		}
	}
	if _, err := compileSplitRegex(`a(?=b)`); err == nil {
		t.Error("unsupported lookahead compiled without error")
	}
}

// TestBehaviors checks HF's SplitDelimiterBehavior on "a-b--c".
func TestBehaviors(t *testing.T) {
	cases := []struct {
		b    behavior
		want []string
	}{
		{behaviorRemoved, []string{"a", "b", "c"}},
		{behaviorIsolated, []string{"a", "-", "b", "-", "-", "c"}},
		{behaviorMergedWithPrevious, []string{"a-", "b-", "-", "c"}},
		{behaviorMergedWithNext, []string{"a", "-b", "-", "-c"}},
		{behaviorContiguous, []string{"a", "-", "b", "--", "c"}},
	}
	for _, c := range cases {
		s := "a-b--c"
		got := applyBehavior(s, findString(s, "-"), c.b, false)
		if !slices.Equal(got, c.want) {
			t.Errorf("behavior %d = %q, want %q", c.b, got, c.want)
		}
	}
}

// TestStream feeds every reference case id by id: the deltas are valid
// UTF-8 and add up to Decode of all ids.
func TestStream(t *testing.T) {
	for _, name := range []string{"gpt-2", "llama-spm"} {
		tok := mustLoad(t, "tokenizers/"+name)
		texts, _ := readCases(t, sharedDir(t)+"/tokenizers/"+name)
		for _, text := range append(texts, "🤖🦙 ok ɐ") {
			ids, _ := tok.Encode(text, false)
			st := tok.NewStream()
			var all string
			for _, id := range ids {
				d := st.Add(id)
				if !utf8.ValidString(d) {
					t.Errorf("%s: invalid delta %q", name, d)
				}
				all += d
			}
			all += st.Flush()
			if want := tok.Decode(ids); all != want {
				t.Errorf("%s: stream %q, decode %q", name, all, want)
			}
		}
	}
}

// TestStreamHoldsPartialUTF8 checks that half a character is held back.
func TestStreamHoldsPartialUTF8(t *testing.T) {
	tok := mustLoad(t, "tokenizers/llama-spm")
	st := tok.NewStream()
	// "€" = E2 82 AC, as byte-fallback tokens <0xE2><0x82><0xAC> (id = byte+3).
	for _, id := range []int{0xE2 + 3, 0x82 + 3} {
		if d := st.Add(id); d != "" {
			t.Fatalf("emitted %q before the character was complete", d)
		}
	}
	if d := st.Add(0xAC + 3); d != "€" {
		t.Fatalf("got %q, want €", d)
	}
}
