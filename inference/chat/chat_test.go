package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/refdata"
)

// sharedDir returns a path in the reference data (../shared).
func sharedDir(t testing.TB) string { return refdata.Path(t) }

// TestPhi3ChatCases renders every reference case of the shared Phi-3
// tokenizer_config.json (references rendered by Jinja2 3.1.2).
func TestPhi3ChatCases(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "tokenizers", "phi-3")
	tpl, err := Load(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "chat_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Template string `json:"template"`
		Cases    []struct {
			Messages            []Message `json:"messages"`
			AddGenerationPrompt bool      `json:"add_generation_prompt"`
			Rendered            string    `json:"rendered"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("no cases in chat_cases.json")
	}
	if tpl.Source() != ref.Template {
		t.Errorf("loaded template differs from the one chat_cases.json was rendered with")
	}
	for i, c := range ref.Cases {
		got, err := tpl.Render(c.Messages, c.AddGenerationPrompt)
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if got != c.Rendered {
			t.Errorf("case %d (gen=%v):\n got %q\nwant %q", i, c.AddGenerationPrompt, got, c.Rendered)
		}
	}
}

// goldenCase is one rendering by Python Jinja2 (testdata/gen_golden.py).
type goldenCase struct {
	Name                string            `json:"name"`
	Config              string            `json:"config"`
	Template            string            `json:"template"`
	Specials            map[string]string `json:"specials"`
	Messages            []Message         `json:"messages"`
	AddGenerationPrompt bool              `json:"add_generation_prompt"`
	Rendered            *string           `json:"rendered"`
	Error               *string           `json:"error"`
}

// TestGolden compares with Jinja2 renderings of the published Llama-3,
// Qwen2.5, SmolLM2 and Mistral templates and of feature templates.
func TestGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) < 100 {
		t.Fatalf("only %d golden cases", len(golden.Cases))
	}
	loaded := map[string]*Template{}
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			tpl := goldenTemplate(t, c, loaded)
			got, err := tpl.Render(c.Messages, c.AddGenerationPrompt)
			switch {
			case c.Error != nil:
				if !errors.Is(err, ErrTemplateRaised) || !strings.Contains(err.Error(), *c.Error) {
					t.Errorf("got %q, %v; want raised error %q", got, err, *c.Error)
				}
			case err != nil:
				t.Errorf("unexpected error: %v", err)
			case got != *c.Rendered:
				t.Errorf("\n got %q\nwant %q", got, *c.Rendered)
			}
		})
	}
}

func goldenTemplate(t *testing.T, c goldenCase, loaded map[string]*Template) *Template {
	t.Helper()
	if c.Config == "" {
		tpl, err := FromString(c.Template, c.Specials)
		if err != nil {
			t.Fatal(err)
		}
		return tpl
	}
	if tpl, ok := loaded[c.Config]; ok {
		return tpl
	}
	tpl, err := Load(filepath.Join("testdata", c.Config, "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	loaded[c.Config] = tpl
	return tpl
}
