package chat_test

import (
	"fmt"

	"github.com/npti-studio/npti/inference/chat"
)

func ExampleTemplate_Render() {
	tpl, err := chat.Load("testdata/llama-3-instruct/tokenizer_config.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	prompt, err := tpl.Render([]chat.Message{
		{Role: "system", Content: "You are calm."},
		{Role: "user", Content: "How was your day?"},
	}, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", prompt)
	// Output:
	// "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are calm.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHow was your day?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
}
