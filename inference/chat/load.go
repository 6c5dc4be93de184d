package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNoTemplate is wrapped by Load when tokenizer_config.json has no
// chat_template (base models usually have none).
var ErrNoTemplate = errors.New("no chat_template")

// maxConfigBytes bounds the tokenizer_config.json read into memory; real
// ones are at most a few MiB (added_tokens_decoder of large vocabularies).
const maxConfigBytes = 64 << 20

// Load reads a tokenizer_config.json and parses its chat_template with the
// special tokens found there. Errors name the file.
func Load(tokenizerConfigPath string) (*Template, error) {
	data, err := readLimited(tokenizerConfigPath)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tokenizerConfigPath, err)
	}
	return t, nil
}

// LoadForModel loads dir/tokenizer_config.json; ok is false (with a nil
// error) when the file is missing or has no chat_template.
func LoadForModel(dir string) (t *Template, ok bool, err error) {
	path := filepath.Join(dir, "tokenizer_config.json")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	t, err = Load(path)
	if errors.Is(err, ErrNoTemplate) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return t, true, nil
}

// Parse parses the contents of a tokenizer_config.json.
func Parse(tokenizerConfig []byte) (*Template, error) {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(tokenizerConfig, &cfg); err != nil {
		return nil, fmt.Errorf("bad json: %w", err)
	}
	raw, ok := cfg["chat_template"]
	if !ok || string(raw) == "null" {
		return nil, ErrNoTemplate
	}
	src, err := pickTemplate(raw)
	if err != nil {
		return nil, err
	}
	if src == "" {
		return nil, ErrNoTemplate
	}
	specials := map[string]string{}
	for _, name := range SpecialTokenNames {
		v, ok := cfg[name]
		if !ok {
			continue
		}
		tok, present, err := tokenText(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if present {
			specials[name] = tok
		}
	}
	return FromString(src, specials)
}

// pickTemplate accepts chat_template as a string or as a list of
// {"name", "template"} entries, of which it takes "default".
func pickTemplate(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return "", errors.New("chat_template is neither a string nor a list of {name, template}")
	}
	for _, n := range named {
		if n.Name == "default" {
			return n.Template, nil
		}
	}
	return "", fmt.Errorf("%w named \"default\" among %d chat templates", ErrNoTemplate, len(named))
}

// tokenText reads a special token given as a string, as an AddedToken
// object {"content": ...}, or as null (present=false).
func tokenText(raw json.RawMessage) (text string, present bool, err error) {
	if string(raw) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &text); err == nil {
		return text, true, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Content == nil {
		return "", false, errors.New("special token is neither a string nor an object with content")
	}
	return *obj.Content, true, nil
}

// readLimited reads a file of at most maxConfigBytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() > maxConfigBytes {
		return nil, fmt.Errorf("%s: %d bytes exceeds the %d-byte limit", path, info.Size(), maxConfigBytes)
	}
	data := make([]byte, 0, info.Size())
	buf := bytes.NewBuffer(data)
	if _, err := buf.ReadFrom(io.LimitReader(f, maxConfigBytes+1)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return buf.Bytes(), nil
}
