package chat

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStrftime(t *testing.T) {
	at := time.Date(2024, time.July, 5, 15, 4, 9, 0, time.UTC)
	cases := []struct{ format, want string }{
		{"%d %b %Y", "05 Jul 2024"}, // Llama 3.1 "Today Date"
		{"%Y-%m-%d", "2024-07-05"},
		{"%B %e, %y", "July  5, 24"},
		{"%A %a %H:%M:%S %I%p", "Friday Fri 15:04:09 03PM"},
		{"%j %% %Q", "187 % %Q"},
		{"trailing %", "trailing %"},
	}
	for _, c := range cases {
		if got := strftime(at, c.format); got != c.want {
			t.Errorf("strftime(%q) = %q, want %q", c.format, got, c.want)
		}
	}
}

func TestRangeLen(t *testing.T) {
	cases := []struct {
		start, stop, step int
		want              uint64
	}{
		{0, 3, 1, 3}, {0, 0, 1, 0}, {3, 0, 1, 0}, {7, 1, -2, 3}, {0, 10, 3, 4},
		{1, 7, -1, 0}, {-1 << 62, 1 << 62, 1, 1 << 63}, {1 << 62, -1 << 62, -1 << 62, 2},
	}
	for _, c := range cases {
		if got := rangeLen(c.start, c.stop, c.step); got != c.want {
			t.Errorf("rangeLen(%d, %d, %d) = %d, want %d", c.start, c.stop, c.step, got, c.want)
		}
	}
}

func TestRenderLimitsAndErrors(t *testing.T) {
	msgs := []Message{{Role: "user", Content: "hi"}}
	cases := []struct{ name, src, errPart string }{
		{"range budget across nested loops", "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}x", "exceeds the limit"},
		{"huge single range", "{% for i in range(-1000000, 1000000) %}{% endfor %}", "exceeds the limit"},
		{"zero step", "{{ range(1, 2, 0) }}", "step"},
		{"include cannot read files", "{% include '/etc/passwd' %}", ""},
		{"undefined function", "{{ nope() }}", ""},
		{"recursive macro", "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}", "nested more than"},
		{"mutually recursive macros", "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}", "nested more than"},
		{"recursive loop", "{% for m in messages recursive %}{{ loop(messages) }}{% endfor %}", "recursive"},
		{"self import", "{% import '/chat_template' as t %}", ""},
		{"caller", "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}x{% endcall %}", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := FromString(c.src, nil)
			if err == nil {
				_, err = tpl.Render(msgs, false)
			}
			if err == nil || !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("got %v, want an error containing %q", err, c.errPart)
			}
		})
	}
}

func TestMistralRaisesOnBadRoleOrder(t *testing.T) {
	tpl, err := Load("testdata/mistral-instruct/tokenizer_config.json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpl.Render([]Message{{Role: "user", Content: "a"}, {Role: "user", Content: "b"}}, true)
	if !errors.Is(err, ErrTemplateRaised) || !strings.Contains(err.Error(), "Conversation roles must alternate") {
		t.Errorf("got %v", err)
	}
	// The state of a failed render must not leak into the next one.
	got, err := tpl.Render([]Message{{Role: "user", Content: "a"}}, true)
	if err != nil || got != "<s>[INST] a [/INST]" {
		t.Errorf("after a raise: %q, %v", got, err)
	}
}

func TestRenderConcurrent(t *testing.T) {
	tpl, err := Load("testdata/qwen2.5-instruct/tokenizer_config.json")
	if err != nil {
		t.Fatal(err)
	}
	want := "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n"
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				got, err := tpl.Render([]Message{{Role: "user", Content: "q"}}, true)
				if err != nil || got != want {
					t.Errorf("got %q, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
