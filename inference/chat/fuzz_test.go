package chat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzTemplate feeds arbitrary template sources and messages: FromString
// and Render must return an error or a string, never panic.
func FuzzTemplate(f *testing.F) {
	for _, model := range []string{"llama-3-instruct", "qwen2.5-instruct", "smollm2-instruct", "mistral-instruct"} {
		data, err := os.ReadFile(filepath.Join("testdata", model, "tokenizer_config.json"))
		if err != nil {
			f.Fatal(err)
		}
		var cfg struct {
			ChatTemplate string `json:"chat_template"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			f.Fatal(err)
		}
		f.Add(cfg.ChatTemplate, "user", "Hello!", true)
	}
	f.Add("{% for m in messages %}{{ m.content[-1] }}{% endfor %}", "user", "", false)
	f.Add("{{ messages[0].content.center(-5) }}{{ 'x' * -1 }}", "assistant", "x", true)
	f.Add("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "user", "x", true)
	f.Add("{{ raise_exception(messages) }}{% break %}", "", "\xff", false)
	f.Fuzz(func(t *testing.T, src, role, content string, gen bool) {
		tpl, err := FromString(src, map[string]string{"bos_token": "<s>", "eos_token": "</s>"})
		if err != nil {
			return
		}
		msgs := []Message{{Role: role, Content: content}, {Role: "assistant", Content: content}}
		_, _ = tpl.Render(msgs, gen)
	})
}
