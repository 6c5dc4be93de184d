package app

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/refdata"
)

// shared returns a path in the reference data (../shared).
func shared(t testing.TB, parts ...string) string { return refdata.Path(t, parts...) }

// npti runs the CLI in-process and decodes its --json output into v.
func npti(t *testing.T, v any, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(args, &out, &errb); code != 0 {
		t.Fatalf("npti %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		t.Fatalf("npti %s: output is not one JSON object: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}

type expectedCases struct {
	Cases []struct {
		PromptIDs  []int `json:"prompt_ids"`
		Greedy     []int `json:"greedy"`
		RepPen     []int `json:"repetition_penalty_1_15"`
		InduceHigh []int `json:"induce_high_gamma_1_scope_generated"`
		InduceLow  []int `json:"induce_low_gamma_1_5_scope_all"`
	} `json:"cases"`
	StatsIDs []int `json:"stats_ids"`
	Stats    struct {
		PActive [][]float64 `json:"p_active"`
		Q95     [][]float64 `json:"q95"`
	} `json:"stats"`
}

func idList(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = itoa(id)
	}
	return strings.Join(s, ",")
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// The generate and probe contracts reproduce the reference outputs through
// the real CLI, including induction from the official dict files.
func TestCLIGenerateAndProbe(t *testing.T) {
	penaltyShows := 0
	defer func() {
		if penaltyShows == 0 {
			t.Error("no reference case where the repetition penalty changes the ids")
		}
	}()
	for _, name := range []string{"tiny-random-llama", "tiny-random-qwen2"} {
		dir := shared(t, "models", name)
		var exp expectedCases
		b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &exp); err != nil {
			t.Fatal(err)
		}
		c := exp.Cases[0]
		checkCase := func(prompt []int, what string, want []int, extra ...string) {
			var got struct {
				IDs  []int  `json:"ids"`
				Text string `json:"text"`
			}
			args := append([]string{"generate", "--model", dir, "--prompt-ids", idList(prompt), "--max-tokens", itoa(len(want)), "--json"}, extra...)
			npti(t, &got, args...)
			if idList(got.IDs) != idList(want) {
				t.Errorf("%s %s: ids %v, want %v", name, what, got.IDs, want)
			}
		}
		check := func(what string, want []int, extra ...string) { checkCase(c.PromptIDs, what, want, extra...) }
		neurons := filepath.Join(dir, "neurons")
		check("greedy", c.Greedy)
		check("repetition penalty", c.RepPen, "--repetition-penalty", "1.15")
		// A case whose penalized ids differ from its greedy ones, where
		// ignoring the flag would show.
		for _, rc := range exp.Cases {
			if idList(rc.RepPen) != idList(rc.Greedy) {
				checkCase(rc.PromptIDs, "repetition penalty (ids unlike greedy)", rc.RepPen, "--repetition-penalty", "1.15")
				penaltyShows++
				break
			}
		}
		check("induce high", c.InduceHigh, "--neurons", neurons, "--trait", "EXTRAVERSION", "--pole", "high",
			"--gamma", "1", "--mask-fraction", "1", "--scope", "generated")
		check("induce low", c.InduceLow, "--neurons", neurons, "--trait", "extraversion", "--pole", "low",
			"--gamma", "1.5", "--mask-fraction", "1", "--scope", "all")

		var probe struct {
			Tokens  int         `json:"tokens"`
			PActive [][]float64 `json:"p_active"`
			Q95     [][]float64 `json:"q95"`
		}
		npti(t, &probe, "probe", "--model", dir, "--prompt-ids", idList(exp.StatsIDs), "--json")
		if probe.Tokens != len(exp.StatsIDs) {
			t.Errorf("%s probe: %d tokens, want %d", name, probe.Tokens, len(exp.StatsIDs))
		}
		for l := range exp.Stats.PActive {
			for i := range exp.Stats.PActive[l] {
				if math.Abs(probe.PActive[l][i]-exp.Stats.PActive[l][i]) > 1e-5 || math.Abs(probe.Q95[l][i]-exp.Stats.Q95[l][i]) > 1e-5 {
					t.Fatalf("%s probe: layer %d neuron %d differs", name, l, i)
				}
			}
		}
	}
}

func TestCLITokenizeAndTemplate(t *testing.T) {
	inp, err := os.ReadFile(shared(t, "tokenizers/gpt-2/cases.inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(shared(t, "tokenizers/gpt-2/cases.out"))
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	wants := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	for i := 0; i < len(wants) && i < 12; i++ {
		f := filepath.Join(t.TempDir(), "in.txt")
		os.WriteFile(f, []byte(texts[i]), 0o644)
		var got struct {
			IDs []int `json:"ids"`
		}
		npti(t, &got, "tokenize", "--tokenizer", shared(t, "tokenizers/gpt-2/tokenizer.json"), "--file", f, "--json")
		want := strings.Fields(wants[i])
		if len(got.IDs) != len(want) {
			t.Fatalf("case %d: ids %v, want %v", i, got.IDs, want)
		}
		for j := range want {
			if itoa(got.IDs[j]) != want[j] {
				t.Fatalf("case %d: ids %v, want %v", i, got.IDs, want)
			}
		}
	}

	var cases struct {
		Cases []struct {
			Messages json.RawMessage `json:"messages"`
			AddGen   bool            `json:"add_generation_prompt"`
			Rendered string          `json:"rendered"`
		} `json:"cases"`
	}
	b, _ := os.ReadFile(shared(t, "tokenizers/phi-3/chat_cases.json"))
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases.Cases {
		f := filepath.Join(t.TempDir(), "messages.json")
		os.WriteFile(f, c.Messages, 0o644)
		args := []string{"template", "--config", shared(t, "tokenizers/phi-3/tokenizer_config.json"), "--messages", f, "--json"}
		if c.AddGen {
			args = append(args, "--add-generation-prompt")
		}
		var got struct {
			Text string `json:"text"`
		}
		npti(t, &got, args...)
		if got.Text != c.Rendered {
			t.Errorf("chat case %d: %q, want %q", i, got.Text, c.Rendered)
		}
	}
}

func TestCLIBenchContract(t *testing.T) {
	var r map[string]any
	npti(t, &r, "bench", "--shape", "persona-tiny", "--batch", "2", "--length", "16", "--decode-tokens", "4", "--json")
	for _, k := range []string{"prefill_tok_s", "decode_tok_s", "peak_rss_mb", "weights_mb", "decode_peak_rss_mb"} {
		if v, ok := r[k].(float64); !ok || !(v > 0) {
			t.Errorf("bench %s = %v, want a positive number", k, r[k])
		}
	}
	if s, _ := r["backend"].(string); s == "" {
		t.Errorf("bench backend = %v", r["backend"])
	}
	if r["weights"] != "f32" {
		t.Errorf("bench weights %v, want f32 (auto, for a float32 model)", r["weights"])
	}
	// Both read the process's high-water mark, the decode's first.
	if !(r["decode_peak_rss_mb"].(float64) <= r["peak_rss_mb"].(float64)) {
		t.Errorf("bench decode peak RSS %v above the whole run's %v", r["decode_peak_rss_mb"], r["peak_rss_mb"])
	}
	// The same synthetic model held as bfloat16: half the bytes of its
	// matrices (the norms stay float32).
	var h map[string]any
	npti(t, &h, "bench", "--shape", "persona-tiny", "--weights", "bf16", "--batch", "1", "--length", "8", "--decode-tokens", "2", "--runs", "1", "--json")
	if f, b := r["weights_mb"].(float64), h["weights_mb"].(float64); h["weights"] != "bf16" || !(b > 0.5*f*0.99 && b < 0.5*f*1.02) {
		t.Errorf("bf16 bench: weights %v, %v MiB (f32: %v MiB)", h["weights"], b, f)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"bench", "--shape", "persona-tiny", "--weights", "fp8"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), `weights "fp8"`) {
		t.Errorf("--weights fp8: exit %d, message %q", code, errb.String())
	}
}

func TestCLIErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"no-such-command"}, &out, &errb); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	errb.Reset()
	if code := Main([]string{"generate", "--model", filepath.Join(shared(t, "models"), "no-such"), "--prompt-ids", "1"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no-such") {
		t.Errorf("missing model: exit %d, message %q", code, errb.String())
	}
	errb.Reset()
	code := Main([]string{"generate", "--model", shared(t, "models/tiny-random-llama"), "--prompt-ids", "1",
		"--neurons", shared(t, "models/persona-tiny/reference-neurons"), "--trait", "openness"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "Openness") {
		t.Errorf("neurons of another model: exit %d, message %q", code, errb.String())
	}
	// Flags that cannot apply are said, not silently dropped: --chat with
	// --prompt-ids warns and generates; --top-p 0 is still accepted when
	// greedy (it changes nothing there).
	errb.Reset()
	out.Reset()
	if code := Main([]string{"generate", "--model", shared(t, "models/tiny-random-llama"), "--prompt-ids", "1,2", "--max-tokens", "2",
		"--chat", "--top-p", "0", "--json"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "--chat applies to --prompt") {
		t.Errorf("--chat with --prompt-ids: exit %d, stderr %q", code, errb.String())
	}
	// A llama2.c checkpoint without a tokenizer beside it: a clear error
	// (the checkpoint itself used to be read as tokenizer.bin).
	errb.Reset()
	bin := shared(t, "models/stories260K/stories260K.bin")
	if code := Main([]string{"tokenize", "--model", bin, "--text", "hi"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "has no tokenizer") {
		t.Errorf("tokenize --model FILE.bin: exit %d, message %q", code, errb.String())
	}
	// Settings no sampler can use fail before the model loads, naming
	// the setting.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--temperature", "NaN"}, "temperature"},
		{[]string{"--temperature", "-1"}, "temperature"},
		{[]string{"--temperature", "1", "--top-p", "0"}, "top-p"},
		{[]string{"--top-p", "1.5"}, "top-p"},
		{[]string{"--top-k", "-5"}, "top-k"},
		{[]string{"--repetition-penalty", "NaN"}, "repetition penalty"},
		{[]string{"--prompt-ids", "1,,2"}, "empty"},
	} {
		errb.Reset()
		args := append([]string{"generate", "--model", shared(t, "models/tiny-random-llama"), "--prompt-ids", "1,2"}, c.args...)
		if code := Main(args, &out, &errb); code != 1 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("generate %v: exit %d, message %q (want one naming %q)", c.args, code, errb.String(), c.want)
		}
	}
}

// generate stops at generation_config.json's eos_token_id, as
// transformers' generate does, and a malformed one is an error naming it.
func TestCLIGenerationConfigEOS(t *testing.T) {
	src := shared(t, "models", "tiny-random-llama")
	var exp expectedCases
	b, err := os.ReadFile(filepath.Join(src, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	c := exp.Cases[0]
	stop := -1 // the first greedy id not seen before it, past the first two
	for i := 2; i < len(c.Greedy) && stop < 0; i++ {
		if !slices.Contains(c.Greedy[:i], c.Greedy[i]) {
			stop = i
		}
	}
	if stop < 0 {
		t.Fatal("no usable stop id in the reference ids")
	}
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		if err := os.Symlink(filepath.Join(src, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	gen := filepath.Join(dir, "generation_config.json")
	os.WriteFile(gen, []byte(`{"eos_token_id": [2, `+itoa(c.Greedy[stop])+`]}`), 0o644)
	var got struct {
		IDs []int `json:"ids"`
	}
	npti(t, &got, "generate", "--model", dir, "--prompt-ids", idList(c.PromptIDs), "--max-tokens", itoa(len(c.Greedy)), "--json")
	if want := c.Greedy[:stop+1]; idList(got.IDs) != idList(want) {
		t.Errorf("with eos %d in generation_config.json: ids %v, want %v", c.Greedy[stop], got.IDs, want)
	}
	os.WriteFile(gen, []byte(`{"eos_token_id": "end"}`), 0o644)
	var out, errb bytes.Buffer
	if code := Main([]string{"generate", "--model", dir, "--prompt-ids", "1"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "generation_config.json") {
		t.Errorf("malformed generation_config.json: exit %d, message %q", code, errb.String())
	}
}
