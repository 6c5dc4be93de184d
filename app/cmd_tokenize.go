package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/npti-studio/npti/inference/tokenizer"
)

// runTokenize implements `npti tokenize (--model M | --tokenizer FILE)
// (--text T | --file F) [--add-special] [--json]`: it prints the token ids
// of the text, space-separated or as {"ids": [...]}.
func runTokenize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelDir := fs.String("model", "", "model (folder, Hugging Face repo id or llama2.c file) whose tokenizer.json or tokenizer.bin to use")
	tokFile := fs.String("tokenizer", "", "tokenizer.json or tokenizer.bin file")
	text := fs.String("text", "", "text to tokenize")
	file := fs.String("file", "", "file whose contents to tokenize")
	addSpecial := fs.Bool("add-special", false, "add the tokenizer's special tokens (e.g. BOS)")
	asJSON := fs.Bool("json", false, `print {"ids": [...]}`)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if (*modelDir == "") == (*tokFile == "") {
		fmt.Fprintln(stderr, "tokenize: give exactly one of --model and --tokenizer")
		return errUsage
	}
	textSet, fileSet := false, false
	fs.Visit(func(f *flag.Flag) {
		textSet = textSet || f.Name == "text"
		fileSet = fileSet || f.Name == "file"
	})
	if textSet == fileSet || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "tokenize: give exactly one of --text and --file, and no other arguments")
		return errUsage
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	input := *text
	if fileSet {
		data, err := os.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("read text: %w", err)
		}
		input = string(data)
	}
	path := *tokFile
	if path == "" {
		// A model as generate takes it: a folder, a repo id (cached or
		// downloaded) or a llama2.c checkpoint file, whose tokenizer lies
		// beside it.
		dir, err := resolveModelArg(ctx, *modelDir, stderr)
		if err != nil {
			return err
		}
		if st, err := os.Stat(dir); err == nil && !st.IsDir() {
			dir = filepath.Dir(dir)
		}
		if !hasTokenizer(dir) {
			return fmt.Errorf("%s has no tokenizer (tokenizer.json or tokenizer.bin): give one with --tokenizer", dir)
		}
		path = dir
	}
	tok, err := tokenizer.Load(path)
	if err != nil {
		return err
	}
	ids, err := tok.Encode(input, *addSpecial)
	if err != nil {
		return err
	}
	return writeIDs(stdout, ids, *asJSON)
}

// writeIDs prints ids as one JSON line or space-separated.
func writeIDs(w io.Writer, ids []int, asJSON bool) error {
	var err error
	if asJSON {
		err = json.NewEncoder(w).Encode(struct {
			IDs []int `json:"ids"`
		}{ids})
	} else {
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = strconv.Itoa(id)
		}
		_, err = fmt.Fprintln(w, strings.Join(parts, " "))
	}
	if err != nil {
		return fmt.Errorf("write ids: %w", err)
	}
	return nil
}
