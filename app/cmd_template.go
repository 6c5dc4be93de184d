package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/npti-studio/npti/inference/chat"
)

// maxMessagesBytes bounds the messages file read by `npti template`.
const maxMessagesBytes = 64 << 20

// runTemplate implements `npti template`: it renders the chat template of a
// tokenizer_config.json over a JSON list of {"role","content"} messages and
// prints the prompt as is (no newline added), or {"text": ...} with --json.
func runTemplate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("template", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "tokenizer_config.json holding the chat_template")
	messagesPath := fs.String("messages", "", "JSON file: a list of {\"role\", \"content\"} messages")
	addGen := fs.Bool("add-generation-prompt", false, "append the header of an assistant turn")
	asJSON := fs.Bool("json", false, "print {\"text\": ...} instead of the raw prompt")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *configPath == "" || *messagesPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: npti template --config tokenizer_config.json --messages FILE [--add-generation-prompt] [--json]")
		return errUsage
	}
	tpl, err := chat.Load(*configPath)
	if err != nil {
		return err
	}
	msgs, err := readMessages(*messagesPath)
	if err != nil {
		return err
	}
	text, err := tpl.Render(msgs, *addGen)
	if err != nil {
		return fmt.Errorf("%s: %w", *configPath, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false) // keep <|im_start|> readable
		return enc.Encode(struct {
			Text string `json:"text"`
		}{text})
	}
	_, err = io.WriteString(stdout, text)
	return err
}

// readMessages reads a JSON list of messages; errors name the file.
func readMessages(path string) ([]chat.Message, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMessagesBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxMessagesBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxMessagesBytes)
	}
	var msgs []chat.Message
	if err := json.Unmarshal(data, &msgs); err != nil {
		return nil, fmt.Errorf("%s: bad messages json (want a list of {\"role\", \"content\"}): %w", path, err)
	}
	return msgs, nil
}
