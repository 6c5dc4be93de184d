package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokenizer_config.json")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSpecialTokensAndNamedTemplates(t *testing.T) {
	msgs := []Message{{Role: "user", Content: "hi"}}
	cases := []struct {
		name, config, want string
	}{
		{"string tokens", `{"chat_template": "{{ bos_token }}|{{ eos_token }}|{{ unk_token }}|{{ pad_token }}", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}`, "<s>|</s>|<unk>|<pad>"},
		{"AddedToken objects", `{"chat_template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}", "bos_token": {"__type": "AddedToken", "content": "<|begin|>", "lstrip": false}, "eos_token": {"content": "<|end|>"}}`, "<|begin|>hi<|end|>"},
		{"null token is undefined", `{"chat_template": "{% if bos_token is defined %}B{% else %}none{% endif %}", "bos_token": null}`, "none"},
		{"named list takes default", `{"chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "default {{ messages | length }}"}]}`, "default 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := Load(writeConfig(t, c.config))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tpl.Render(msgs, false)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	cases := []struct {
		name, config string
		noTemplate   bool
	}{
		{"bad json", `{"chat_template": `, false},
		{"no template", `{"bos_token": "<s>"}`, true},
		{"empty template", `{"chat_template": ""}`, true},
		{"no default in list", `{"chat_template": [{"name": "rag", "template": "x"}]}`, true},
		{"template of wrong type", `{"chat_template": 3}`, false},
		{"bad token", `{"chat_template": "x", "eos_token": 5}`, false},
		{"unparsable template", `{"chat_template": "{% for m in messages %}"}`, false},
		{"huge literal", `{"chat_template": "{{ 'x' * 100000000000 }}"}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeConfig(t, c.config)
			_, err := Load(path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if errors.Is(err, ErrNoTemplate) != c.noTemplate {
				t.Errorf("errors.Is(ErrNoTemplate) = %v for %v", !c.noTemplate, err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadForModel(t *testing.T) {
	if _, ok, err := LoadForModel(t.TempDir()); ok || err != nil {
		t.Errorf("dir without config: ok=%v err=%v", ok, err)
	}
	base := filepath.Dir(writeConfig(t, `{"bos_token": "<s>"}`))
	if _, ok, err := LoadForModel(base); ok || err != nil {
		t.Errorf("config without template: ok=%v err=%v", ok, err)
	}
	broken := filepath.Dir(writeConfig(t, `{"chat_template": "{% if %}"}`))
	if _, ok, err := LoadForModel(broken); ok || err == nil {
		t.Errorf("broken template: ok=%v err=%v", ok, err)
	}
	tpl, ok, err := LoadForModel(filepath.Join("testdata", "smollm2-instruct"))
	if !ok || err != nil {
		t.Fatalf("smollm2: ok=%v err=%v", ok, err)
	}
	got, err := tpl.Render([]Message{{Role: "system", Content: "S"}}, true)
	if want := "<|im_start|>system\nS<|im_end|>\n<|im_start|>assistant\n"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}
